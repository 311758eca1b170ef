#!/usr/bin/env bash
# Peak memory and time of exploration, measured from outside with
# `/usr/bin/time -v` (maximum resident set size, wall clock, user and
# system time), one row per case and thread count, with the peak the
# report itself read from the OS (`peak_memory_bytes`) beside it:
#
# - two crashes under every model at N=1000 (`--crashes 2`), --jobs 1, 2, 4
#   (goal: under 40 MB at any --jobs);
# - single crash under every model at N=16000, --jobs 1, 2, 4;
# - single crash under every model at N=1,000,000, K=50, default --jobs
#   (`crashproof explore --items 1000000 --every 50 --json`; goal: under
#   20 s and under 256 MB on 2 cores). MILLION=0 leaves it out.
#
# Usage: benches/explore_memory.sh
#   BIN=path/to/crashproof measures another build (default: this
#   worktree's release build, built first); BEFORE=path/to/crashproof adds
#   that build's row before each row (same case, run just before), so each
#   ratio is measured in one run on the same machine.
# Prints a Markdown table; `uptime` load before each row. Needs: python3,
# /usr/bin/time (GNU time).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${BIN:-}" ]; then
    cargo build --release --locked -q -p crashproof
    BIN=target/release/crashproof
fi
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time" >&2; exit 2; }

cases=(
    "--items 1000 --every 50 --crashes 2|1"
    "--items 1000 --every 50 --crashes 2|2"
    "--items 1000 --every 50 --crashes 2|4"
    "--items 16000 --every 50|1"
    "--items 16000 --every 50|2"
    "--items 16000 --every 50|4"
)
if [ "${MILLION:-1}" = 1 ]; then
    cases+=("--items 1000000 --every 50|default")
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# One row: build, command, load, states, wall, user+sys, peak RSS.
row() {
    local label=$1 bin=$2 args=$3 jobs=$4
    local jobs_flag=()
    [ "$jobs" != default ] && jobs_flag=(--jobs "$jobs")
    local load
    load=$(cut -d' ' -f1 /proc/loadavg)
    # shellcheck disable=SC2086
    /usr/bin/time -v -o "$WORK/time" "$bin" explore $args "${jobs_flag[@]}" --json \
        >"$WORK/json" 2>/dev/null || true
    python3 - "$label" "$args" "$jobs" "$load" "$WORK/time" "$WORK/json" <<'EOF'
import json, re, sys
label, args, jobs, load, time_path, json_path = sys.argv[1:]
t = open(time_path).read()
def field(name):
    return re.search(re.escape(name) + r": (.*)", t).group(1).strip()
wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)")
parts = [float(p) for p in wall.split(":")]
seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
rss_mb = int(field("Maximum resident set size (kbytes)")) * 1024 / 1e6
try:
    s = json.load(open(json_path))["summary"]
    states = s["states_checked"]
    reported = s.get("peak_memory_bytes")
    reported = "%.1f" % (reported / 1e6) if reported else "-"
except Exception:
    states, reported = "failed", "-"
print(f"| {label} | `explore {args} --jobs {jobs}` | {load} | {states} | {seconds:.2f} | {cpu:.2f} | {rss_mb:.1f} | {reported} |")
EOF
}

echo "| build | command | load | states | wall (s) | CPU (s) | peak RSS (MB, time -v) | peak (MB, report) |"
echo "|---|---|---|---|---|---|---|---|"
for c in "${cases[@]}"; do
    args=${c%|*}
    jobs=${c#*|}
    if [ -n "${BEFORE:-}" ]; then
        row before "$BEFORE" "$args" "$jobs"
    fi
    row after "$BIN" "$args" "$jobs"
done
echo
echo "$(uname -n), $(nproc) cores, $(date '+%Y-%m-%d %H:%M'), load after: $(cut -d' ' -f1-3 /proc/loadavg)"
