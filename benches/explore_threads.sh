#!/usr/bin/env bash
# Do more threads pay? For each case, `crashproof explore --jobs 1` and
# `--jobs N` run as REPEAT pairs, back to back (1 then N, then N then 1 in
# the next pair, so a drift of the machine's speed favours neither), so
# both halves of a pair see the same machine. The table gives, per thread
# count, the fastest and the median wall time, the CPU time (user +
# system, from the OS's accounting of the child) per state checked in the
# median run, then the speed-up of N threads over one: the median of the
# pairs' ratios (each pair measured on one machine state: on a VM whose
# speed drifts by 1.5x within minutes, the fastest runs of each count may
# come from different states), with the range of the pairs' ratios and the
# ratio of the fastest runs beside it, and the parallel efficiency
# (median speed-up / N); the load average before each case. The counts of
# every run of a case must be identical (the report does not depend on
# the thread count), or the script fails.
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
import json, os, re, statistics, subprocess, sys, time

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

print(f"| case | command | load before | states | jobs | wall (s, best of {repeat}) | wall (s, median) "
      f"| CPU per state (µs, median run) | speed-up (median of pairs) | pairs' range | speed-up (best walls) "
      f"| efficiency |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for case in cases:
    extra = args[case]
    before = load()
    runs = {1: [], n: []}
    ratios = []
    counts = set()
    for pair in range(repeat):
        order = (1, n) if pair % 2 == 0 else (n, 1)
        walls = {}
        for jobs in order:
            wall, cpu, s = run(extra, jobs)
            counts.add((s["crash_points"], s["states_checked"], s["states_distinct"], s["violations"]))
            runs[jobs].append((wall, cpu, s["states_checked"]))
            walls[jobs] = wall
        ratios.append(walls[1] / walls[n])
    if len(counts) != 1:
        sys.exit(f"{case}: the counts differ between runs: {counts}")
    speedup = statistics.median(ratios)
    best1 = min(w for w, _, _ in runs[1])
    for jobs in (1, n):
        ordered = sorted(runs[jobs])
        best = ordered[0][0]
        wall, cpu, states = ordered[len(ordered) // 2]
        if jobs == 1:
            cells = "1.00x | - | 1.00x | 100%"
        else:
            cells = (f"{speedup:.2f}x | {min(ratios):.2f}-{max(ratios):.2f}x | {best1 / best:.2f}x "
                     f"| {speedup / jobs:.0%}")
        print(f"| {case} | `explore {extra} --jobs {jobs}` | {before} | {states} | {jobs} | {best:.3f} "
              f"| {wall:.3f} | {cpu / states * 1e6:.2f} | {cells} |")
print(f"\nload after: {load()}; {os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M')}")
EOF
