#!/usr/bin/env bash
# Does `crashproof kill --compare-explore` agree with an outside measurement
# of the same two commands? One command:
#
#   benches/compare_explore_check.sh [DIR] [CASES] [ROUNDS] [PAIRS]
#
# PAIRS times (default 2), in alternating order:
# - the tool: `crashproof kill --compare-explore --json` with ROUNDS rounds
#   (default 3) of CASES cases (default 20), in DIR (default
#   target/compare-explore-check, on this checkout's disk);
# - the outside measurement: the two commands the tool names, timed from
#   this shell (bash's $EPOCHREALTIME: no fork around the command),
#   alternating them ROUNDS times, their JSON read for the states, cases
#   and killed cases;
# then prints both ratios (states/s over cases/s and over killed cases/s)
# from each side's totals, side by side, with the machine, the load and the
# date. Alternating the two sides spreads a disk that changes speed over
# both. With hyperfine installed, run the two printed commands under it for
# a third opinion (states per run / mean explore time over cases per run /
# mean kill time).
set -euo pipefail

cd "$(dirname "$0")/.."
dir=${1:-target/compare-explore-check}
cases=${2:-20}
rounds=${3:-3}
pairs=${4:-2}
mkdir -p "$dir"
cargo build --release --quiet -p crashproof --bin crashproof
bin=target/release/crashproof

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -sr)"
echo "== disk: $(df -hT "$dir" | tail -1 | awk '{print $1, $2}')"
echo "== date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "== load before: $(uptime)"

# Totals: explore ns, states; kill ns, cases, killed cases; per side.
declare -A tool=([explore_ns]=0 [states]=0 [kill_ns]=0 [cases]=0 [killed]=0)
declare -A outside=([explore_ns]=0 [states]=0 [kill_ns]=0 [cases]=0 [killed]=0)

run_tool() {
    local out
    out=$("$bin" kill --compare-explore --json --seed 1 --cases "$cases" --compare-rounds "$rounds" --dir "$dir" 2>/dev/null)
    tool[explore_ns]=$(( tool[explore_ns] + $(jq -r '.explorer.seconds * 1e9 | floor' <<<"$out") ))
    tool[states]=$(( tool[states] + $(jq -r '.explorer.states' <<<"$out") ))
    tool[kill_ns]=$(( tool[kill_ns] + $(jq -r '.kill.seconds * 1e9 | floor' <<<"$out") ))
    tool[cases]=$(( tool[cases] + $(jq -r '.kill.cases' <<<"$out") ))
    tool[killed]=$(( tool[killed] + $(jq -r '.kill.cases_killed' <<<"$out") ))
}

run_explore() {
    local t0 t1 out
    t0=${EPOCHREALTIME/./}
    out=$("$bin" explore --workload core-runner --model drop-unsynced --json 2>/dev/null)
    t1=${EPOCHREALTIME/./}
    outside[explore_ns]=$(( outside[explore_ns] + (10#$t1 - 10#$t0) * 1000 ))
    outside[states]=$(( outside[states] + $(jq -r '.summary.states_checked' <<<"$out") ))
}

run_kill() {
    local t0 t1 out
    t0=${EPOCHREALTIME/./}
    out=$("$bin" kill --cases "$cases" --kills-per-case-max 1 --seed "$1" --failures-max 3 --json --dir "$dir" 2>/dev/null)
    t1=${EPOCHREALTIME/./}
    outside[kill_ns]=$(( outside[kill_ns] + (10#$t1 - 10#$t0) * 1000 ))
    outside[cases]=$(( outside[cases] + $(jq -r '.cases' <<<"$out") ))
    outside[killed]=$(( outside[killed] + $(jq -r '.cases_killed' <<<"$out") ))
}

run_outside() {
    local round
    for round in $(seq 1 "$rounds"); do
        # The tool's seeds: 1, 2, 3, ... (its --seed plus the round).
        if (( round % 2 == 1 )); then run_explore; run_kill "$round"; else run_kill "$round"; run_explore; fi
    done
}

for pair in $(seq 1 "$pairs"); do
    if (( pair % 2 == 1 )); then run_tool; run_outside; else run_outside; run_tool; fi
done

python3 - "${tool[explore_ns]}" "${tool[states]}" "${tool[kill_ns]}" "${tool[cases]}" "${tool[killed]}" \
    "${outside[explore_ns]}" "${outside[states]}" "${outside[kill_ns]}" "${outside[cases]}" "${outside[killed]}" <<'PY'
import sys
def rates(side, args):
    explore_ns, states, kill_ns, cases, killed = (int(x) for x in args)
    sps = states / (explore_ns / 1e9)
    cps = cases / (kill_ns / 1e9)
    kps = killed / (kill_ns / 1e9)
    print(f"{side:>8}: explore {states} states in {explore_ns/1e9:.3f} s = {sps:.0f} states/s; "
          f"kill {cases} cases ({killed} killed) in {kill_ns/1e9:.3f} s = {cps:.2f} cases/s, {kps:.2f} killed/s")
    return sps / cps, sps / kps
tool_case, tool_killed = rates("tool", sys.argv[1:6])
out_case, out_killed = rates("outside", sys.argv[6:11])
print(f"{'ratio':>22} {'tool':>10} {'outside':>10} {'tool/outside':>13}")
print(f"{'per case':>22} {tool_case:>9.0f}x {out_case:>9.0f}x {tool_case/out_case:>13.2f}")
print(f"{'per killed case':>22} {tool_killed:>9.0f}x {out_killed:>9.0f}x {tool_killed/out_killed:>13.2f}")
worst = max(tool_case/out_case, out_case/tool_case, tool_killed/out_killed, out_killed/tool_killed)
print(f"largest disagreement: {worst:.2f}x (the goal: within 1.5x)")
PY
echo "== load after: $(uptime)"
