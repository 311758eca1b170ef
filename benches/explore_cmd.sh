#!/usr/bin/env bash
# What exploring a real program through the mount costs (issue 20, item 8),
# one table, every number from this one run (the machine is shared: compare
# the ratios, not the absolute times):
#
#   1. the core-runner job in process (`explore`) against the same job as a
#      real program on the mount (`explore-cmd -- crashproof
#      core-runner-job`): per-state cost and their ratio;
#   2. the same program under a real kill -9 campaign (`kill`): per case;
#   3. the Python job of examples/programs (about 200 filesystem steps),
#      exhaustive single crash under all four models: wall time, states/s
#      (goal: under a minute on 2 cores);
#   4. the Python job's own start-up (`python3 -c pass`, and one run of the
#      job on tmpfs) against one program run on the mount, and the wall time
#      per post-crash state (goal: per-state overhead of the mount under 2x
#      the program's start-up).
#
# Usage: benches/explore_cmd.sh      (root and /dev/fuse; python3; ~2 min)
# Env:   ITEMS_PY (items of the Python job, default 22 = ~200 steps),
#        N/K (core-runner job, default 1000/50), JOBS (default: one per core).
set -euo pipefail
cd "$(dirname "$0")/.."

ITEMS_PY="${ITEMS_PY:-22}"
N="${N:-1000}"
K="${K:-50}"
JOBS_FLAG=()
if [ -n "${JOBS:-}" ]; then JOBS_FLAG=(--jobs "$JOBS"); fi
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

echo "uptime: $(uptime)"
cargo build --release --locked -q -p crashproof
BIN="$PWD/target/release/crashproof"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# summary FIELD... of a --json report on stdin (summary or program section).
json() {
    python3 -c '
import json, sys
doc = json.load(sys.stdin)
out = []
for path in sys.argv[1:]:
    v = doc
    for k in path.split("."):
        v = v[k]
    out.append(str(v))
print(" ".join(out))' "$@"
}

# Seconds of one run of a command, the median of REPEAT runs.
median_seconds() {
    local repeat=$1; shift
    python3 - "$repeat" "$@" <<'PY'
import statistics, subprocess, sys, time
repeat = int(sys.argv[1])
times = []
for _ in range(repeat):
    t = time.perf_counter()
    subprocess.run(sys.argv[2:], check=True, stdout=subprocess.DEVNULL)
    times.append(time.perf_counter() - t)
print(f"{statistics.median(times):.6f}")
PY
}

# 1. In process against on the mount, the same job and protocol.
read -r ip_wall ip_states < <("$BIN" explore --workload core-runner --items "$N" --every "$K" \
    "${JOBS_FLAG[@]}" --json 2>/dev/null | json summary.wall_time_seconds summary.states_checked)
read -r fu_wall fu_states fu_runs fu_run_s < <(TMPDIR="$TMP" "$BIN" explore-cmd "${JOBS_FLAG[@]}" --json \
    -- "$BIN" core-runner-job --dir '{dir}' --items "$N" --checkpoint-every "$K" 2>/dev/null \
    | json summary.wall_time_seconds summary.states_checked program.program_runs program.program_seconds)

# 2. A kill -9 campaign of the same program (20 random cases).
read -r kill_cases kill_cps < <(TMPDIR="$TMP" "$BIN" kill --cases 20 --seed 1 --items "$N" \
    --checkpoint-every "$K" --json 2>/dev/null | json cases cases_per_second)

# 3. The Python job, all four models, with its check.
PROG=examples/programs/progress.py
read -r py_steps_wall py_states py_runs py_run_s py_checks py_check_s < <(TMPDIR="$TMP" "$BIN" explore-cmd \
    "${JOBS_FLAG[@]}" --json --check "$PY $PROG --check {dir}" -- "$PY" "$PROG" '{dir}' --items "$ITEMS_PY" \
    2>"$TMP/py.err" | json summary.wall_time_seconds summary.states_checked program.program_runs \
    program.program_seconds program.check_runs program.check_seconds)
py_clean_steps=$(sed -n 's/^clean run: \([0-9]*\) filesystem steps$/\1/p' "$TMP/py.err" | head -n 1)

# 4. The program's own start-up, off the mount.
startup=$(median_seconds 20 "$PY" -c pass)
mkdir -p /dev/shm/crashproof-bench.$$ 2>/dev/null && SHM=/dev/shm/crashproof-bench.$$ || SHM="$TMP/shm"
mkdir -p "$SHM"
job_tmpfs=$(python3 - "$PY" "$PROG" "$SHM" "$ITEMS_PY" <<'PY'
import os, shutil, statistics, subprocess, sys, time
py, prog, base, items = sys.argv[1:]
times = []
for i in range(10):
    d = os.path.join(base, str(i))
    os.makedirs(d)
    t = time.perf_counter()
    subprocess.run([py, prog, d, "--items", items], check=True, stdout=subprocess.DEVNULL)
    times.append(time.perf_counter() - t)
    shutil.rmtree(d)
print(f"{statistics.median(times):.6f}")
PY
)
rm -rf "$SHM"

python3 - <<PY
ip_wall, ip_states = $ip_wall, $ip_states
fu_wall, fu_states, fu_runs, fu_run_s = $fu_wall, $fu_states, $fu_runs, $fu_run_s
kill_cases, kill_cps = $kill_cases, $kill_cps
py_wall, py_states, py_runs, py_run_s = $py_steps_wall, $py_states, $py_runs, $py_run_s
py_checks, py_check_s = $py_checks, $py_check_s
startup, job_tmpfs = $startup, $job_tmpfs
ms = lambda s: f"{s * 1e3:.3f} ms"
ip_per = ip_wall / ip_states
fu_per = fu_wall / fu_states
print()
print("| measure | value |")
print("|---|---|")
print(f"| core-runner job N=$N K=$K in process (explore): states, wall | {ip_states} states, {ip_wall:.3f} s ({ip_states / ip_wall:.0f} states/s, {ms(ip_per)}/state) |")
print(f"| the same job on the mount (explore-cmd -- crashproof core-runner-job): states, wall | {fu_states} states, {fu_wall:.3f} s ({fu_states / fu_wall:.0f} states/s, {ms(fu_per)}/state) |")
print(f"| per-state cost, mount / in process | {fu_per / ip_per:.0f}x |")
print(f"| the same job under kill -9 (kill --cases 20): per case | {ms(1 / kill_cps)} ({kill_cases} cases, {kill_cps:.1f} cases/s) |")
print(f"| per case, kill -9 / mount per state | {(1 / kill_cps) / fu_per:.1f}x |")
print(f"| Python job ({'$py_clean_steps'} steps, --items $ITEMS_PY), 4 models, with --check: wall | {py_wall:.2f} s (goal < 60 s) |")
print(f"| Python job: states checked, states/s | {py_states}, {py_states / py_wall:.0f} states/s |")
print(f"| python3 -c pass (median of 20) | {ms(startup)} |")
print(f"| the Python job on tmpfs, one whole run (median of 10) | {ms(job_tmpfs)} |")
print(f"| one program run on the mount (mean of {py_runs}; runs are shorter after a late crash) | {ms(py_run_s / max(py_runs, 1))} |")
print(f"| one check run on the mount (mean of {py_checks}) | {ms(py_check_s / max(py_checks, 1))} |")
print(f"| wall time per post-crash state (2 cores) | {ms(py_wall / py_states)} |")
print(f"| per-state wall / Python start-up (goal < 2x) | {(py_wall / py_states) / startup:.2f}x |")
print(f"| program run on the mount / the same job on tmpfs | {(py_run_s / max(py_runs, 1)) / job_tmpfs:.2f}x |")
PY
echo "uptime: $(uptime)"
