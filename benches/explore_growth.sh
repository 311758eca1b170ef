#!/usr/bin/env bash
# How exhaustive exploration grows with the run: the core-runner workload
# (K=50) at N=1000, 4000, 16000 under drop-unsynced, the shared path
# (default) and the naive path (--no-dedup --no-converge) side by side, read
# from `crashproof explore --json`; then the wall-time exponent
# log(t16000/t1000)/log(16). Each cell is the fastest of REPEAT runs.
#
# Usage: benches/explore_growth.sh [extra explore flags, e.g. --jobs 1]
# Needs: cargo, python3. Prints a Markdown table (docs/explorer.md has one).
set -euo pipefail
cd "$(dirname "$0")/.."

REPEAT="${REPEAT:-3}"
cargo build --release --locked -q -p crashproof
BIN=target/release/crashproof

# Fastest wall time (seconds) and the JSON summary of `explore ... --json`.
measure() {
    local best="" summary=""
    for _ in $(seq "$REPEAT"); do
        local out
        out=$("$BIN" explore --model drop-unsynced --every 50 --json "$@" 2>/dev/null || true)
        local t
        t=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["wall_time_seconds"])' <<<"$out")
        if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $t < $best else 1)"; then
            best=$t
            summary=$out
        fi
    done
    python3 -c '
import json, sys
s = json.load(sys.stdin)["summary"]
print(s["wall_time_seconds"], s["crash_points"], s["states_checked"], s["states_distinct"], s["work"]["recoveries"])
' <<<"$summary"
}

echo "| N | path | crash points | states | distinct | resumed runs | wall time (s) | states/s |"
echo "|---|---|---|---|---|---|---|---|"
declare -A T
for n in 1000 4000 16000; do
    for path in shared naive; do
        flags=()
        [ "$path" = naive ] && flags=(--no-dedup --no-converge)
        read -r t points states distinct runs < <(measure --items "$n" "${flags[@]}" "$@")
        T[$n,$path]=$t
        rate=$(python3 -c "print(round($states / $t))")
        printf '| %s | %s | %s | %s | %s | %s | %.3f | %s |\n' \
            "$n" "$path" "$points" "$states" "$distinct" "$runs" "$t" "$rate"
    done
done
for path in shared naive; do
    python3 -c "
import math
print('$path: wall-time exponent N=1000 -> 16000: %.2f' % (math.log(${T[16000,$path]} / ${T[1000,$path]}) / math.log(16)))"
done
python3 -c "print('N=16000: shared path %.1fx faster than naive' % (${T[16000,naive]} / ${T[16000,shared]}))"
