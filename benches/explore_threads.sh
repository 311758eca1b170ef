#!/usr/bin/env bash
# Do more threads pay? For each case, `crashproof explore --jobs 1` and
# `--jobs N` run side by side, alternated (1, N, 1, N, ...) so both see the
# same machine, REPEAT times each; the table gives the fastest wall time of
# each, the CPU time (user + system, from the OS's accounting of the child)
# per state checked, the wall-time speed-up of N threads over one and the
# parallel efficiency (speed-up / N), with the load average before each
# case. The counts of every run of a case must be identical (the report
# does not depend on the thread count), or the script fails.
#
# Usage: benches/explore_threads.sh [N]   (N defaults to the core count)
#   BIN=path/to/crashproof to measure another build (default: this
#   worktree's release build, built first); REPEAT (default 3);
#   CASES="all16k two1k" to pick cases.
# Needs: python3. On a shared machine read the ratios, not the times.
set -euo pipefail
cd "$(dirname "$0")/.."

N="${1:-$(nproc)}"
REPEAT="${REPEAT:-3}"
if [ -z "${BIN:-}" ]; then
    cargo build --release --locked -q -p crashproof
    BIN=target/release/crashproof
fi

declare -A ARGS=(
    [all16k]="--items 16000 --every 50"
    [two1k]="--items 1000 --every 50 --crashes 2"
    [all1m]="--items 1000000 --every 50"
)
CASES="${CASES:-all16k two1k}"

python3 - "$BIN" "$N" "$REPEAT" "$CASES" "$(declare -p ARGS)" <<'EOF'
import json, os, re, subprocess, sys, time

binary, n, repeat, cases, decl = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split(), sys.argv[5]
args = dict(re.findall(r'\[(\w+)\]="([^"]*)"', decl))

def run(extra, jobs):
    """Wall seconds, CPU seconds (user + sys) and the JSON summary of one run."""
    cmd = [binary, "explore", "--json", "--jobs", str(jobs)] + extra.split()
    started = time.monotonic()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd)} failed")
    summary = json.loads(out)["summary"]
    return wall, usage.ru_utime + usage.ru_stime, summary

def load():
    return open("/proc/loadavg").read().split()[0]

print(f"| case | command | load before | states | jobs | wall (s, best of {repeat}) | CPU (s) | CPU per state (µs) | speed-up | efficiency |")
print("|---|---|---|---|---|---|---|---|---|---|")
for case in cases:
    extra = args[case]
    before = load()
    best = {}
    counts = set()
    for _ in range(repeat):
        for jobs in (1, n):
            wall, cpu, s = run(extra, jobs)
            counts.add((s["crash_points"], s["states_checked"], s["states_distinct"], s["violations"]))
            if jobs not in best or wall < best[jobs][0]:
                best[jobs] = (wall, cpu, s["states_checked"])
    if len(counts) != 1:
        sys.exit(f"{case}: the counts differ between runs: {counts}")
    w1 = best[1][0]
    for jobs in (1, n):
        wall, cpu, states = best[jobs]
        speedup = w1 / wall
        print(f"| {case} | `explore {extra} --jobs {jobs}` | {before} | {states} | {jobs} | {wall:.3f} | {cpu:.3f} "
              f"| {cpu / states * 1e6:.2f} | {speedup:.2f}x | {speedup / jobs:.0%} |")
print(f"\nload after: {load()}; {os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M')}")
EOF
