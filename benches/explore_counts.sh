#!/usr/bin/env bash
# Do two builds of `crashproof` check exactly the same states? Runs a list
# of explorations (every mode, every model, several N, zoo mutants with
# violations, the naive path, shards) with both binaries and `--jobs 1, 2,
# 4`, and compares the whole `--json` report of each: crash points, states,
# distinct states, the digest of every distinct state, the states of every
# crash point, violations and their groups, first violations in full. Only
# what says how the work was done is left out (wall time, states/s, peak
# memory, resumed runs, threads).
#
# Usage: benches/explore_counts.sh BEFORE_BINARY [AFTER_BINARY]
#   (AFTER_BINARY defaults to this worktree's target/release/crashproof,
#   built first). QUICK=1 runs a shorter list. Prints one line per case
#   (`same` or `DIFFERENT` with the first differing lines) and exits 1 if
#   any case differs.
set -euo pipefail
cd "$(dirname "$0")/.."

BEFORE="${1:?usage: $0 BEFORE_BINARY [AFTER_BINARY]}"
AFTER="${2:-}"
if [ -z "$AFTER" ]; then
    cargo build --release --locked -q -p crashproof
    AFTER=target/release/crashproof
fi
# Absolute, as replay lines name them.
BEFORE=$(realpath "$BEFORE")
AFTER=$(realpath "$AFTER")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# The report without what says how the work was done, and with the
# binary's path in replay lines (which start the binary that explored)
# written as `crashproof`.
normalise() {
    python3 -c '
import json, sys
doc = json.load(sys.stdin)
binary = sys.argv[1]
def strip(v):
    if isinstance(v, dict):
        for k, x in v.items():
            if k == "replay" and isinstance(x, str) and x.startswith(binary + " "):
                v[k] = "crashproof" + x[len(binary):]
        for k in ("work", "elapsed", "wall_time_seconds", "states_per_second",
                  "peak_memory_bytes", "execution"):
            v.pop(k, None)
        for x in v.values():
            strip(x)
    elif isinstance(v, list):
        for x in v:
            strip(x)
strip(doc)
json.dump(doc, sys.stdout, indent=1, sort_keys=True)
' "$1"
}

cases=(
    "--items 1000"
    "--items 4000"
    "--items 1000 --crashes 2"
    "--items 1000 --mode sync-eio"
    "--items 1000 --no-dedup --no-converge"
    "--items 300 --crashes 2 --no-dedup --no-converge"
    "--items 1000 --shard 2/3"
    "--items 1000 --crashes 2 --shard 1/2"
    "--workload no-dir-fsync --mode exhaustive,sync-eio"
    "--workload trust-newest --mode exhaustive,sync-eio"
    "--workload fsync-retried --mode exhaustive,sync-eio"
    "--workload recovery-rewrite-in-place --crashes 2"
    "--workload two-files --crashes 2"
    "--workload rooch-snapshot-resume/backup-name-mismatch"
    "--workload feldera-checkpointer/expect-on-batches --mode exhaustive,sync-eio"
    "--workload core-runner-background"
    "--items 16000"
)
if [ "${QUICK:-0}" = 1 ]; then
    cases=("--items 1000" "--items 1000 --crashes 2" "--workload no-dir-fsync --mode exhaustive,sync-eio")
fi

status=0
for c in "${cases[@]}"; do
    for jobs in 1 2 4; do
        # shellcheck disable=SC2086
        "$BEFORE" explore $c --jobs "$jobs" --json 2>/dev/null | normalise "$BEFORE" >"$WORK/before" || true
        # shellcheck disable=SC2086
        "$AFTER" explore $c --jobs "$jobs" --json 2>/dev/null | normalise "$AFTER" >"$WORK/after" || true
        summary=$(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
print("%d points, %d states, %d distinct, %d violations" % (s["crash_points"], s["states_checked"], s["states_distinct"], s["violations"]))
' "$WORK/after" 2>/dev/null || echo "no report")
        if cmp -s "$WORK/before" "$WORK/after" && [ -s "$WORK/before" ]; then
            printf 'same       %-70s --jobs %s  (%s)\n' "$c" "$jobs" "$summary"
        else
            status=1
            printf 'DIFFERENT  %-70s --jobs %s  (%s)\n' "$c" "$jobs" "$summary"
            diff "$WORK/before" "$WORK/after" | head -20 || true
        fi
    done
done
exit "$status"
