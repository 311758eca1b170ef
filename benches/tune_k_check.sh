#!/usr/bin/env bash
# Does `crashproof tune-k` predict what the runner costs? One command:
#
#   benches/tune_k_check.sh [DIR] [ITEM_COST] [MAX_OVERHEAD] [EXTRA_K...]
#
# runs tune-k on DIR (default target/tune-k-check, on the disk of this
# checkout; never /tmp, often a tmpfs) for items of ITEM_COST (default 20us)
# and the target MAX_OVERHEAD (default 10%), then the core's Runner at the
# recommended K and at K=50 (and EXTRA_K) against the same items without a
# runner, and prints tune-k's prediction and the measured overhead side by
# side, with the machine, the load and the date before and after.
#
# The default target is 10 %, not tune-k's 1 %: a 1 % overhead is smaller
# than what a wall-time comparison on a shared machine can resolve, and
# the prediction c / (K·i) is the same formula at every K, so K=50 (an
# overhead of tens of percent or more) and the 10 % K check it.
set -euo pipefail

cd "$(dirname "$0")/.."
dir=${1:-target/tune-k-check}
item=${2:-20us}
target=${3:-10%}
shift $(( $# < 3 ? $# : 3 ))
extra=()
for k in "$@"; do extra+=(--k "$k"); done

mkdir -p "$dir"
cargo build --release --quiet -p crashproof --bin crashproof -p crashproof-benches --bin tune_k_check

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -sr)"
echo "== disk: $(df -hT "$dir" | tail -1 | awk '{print $1, $2, $3 " total"}'), mounted $(findmnt -no OPTIONS -T "$dir" | cut -c1-60)"
echo "== date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "== load before: $(uptime)"
json="$dir/tune-k.json"
target/release/crashproof tune-k --dir "$dir" --item-cost "$item" --max-overhead "$target" \
    --plot "$dir/tune-k.svg" --json > "$json"
target/release/tune_k_check --tune-k "$json" --k 50 "${extra[@]}"
echo "== load after: $(uptime)"
