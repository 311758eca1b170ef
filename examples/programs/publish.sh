#!/bin/sh
# A job that publishes each result with `mv`, in POSIX shell: the correct
# version.
#
#   sh publish.sh DIR [ITEMS]      run (or resume) the job in DIR
#   sh publish.sh --check DIR      check DIR (exit 0 if right)
#
# Item i's result is written to DIR/out/item-i.tmp, made durable (`sync
# FILE` fsyncs the file), renamed into place with `mv`, and the rename made
# durable (`sync DIR` fsyncs the directory) before the item is acknowledged
# on the descriptor CRASHPROOF_PROGRESS_FD names (the crashproof contract).
# A published name always holds the whole result. The summary goes to stdout
# at the end. publish_buggy.sh is the same job without the two syncs.
#
# --check is the state oracle: every published item holds its whole result,
# and at least CRASHPROOF_ACKED items are published.
set -eu

ITEMS_DEFAULT=4
SYNC=${PUBLISH_SYNC:-yes}

result() { # the deterministic result of item $1
    i=$1
    printf 'item %s value %s\n' "$i" $(( (i * 7919 + 13) % 1000 ))
}

durable() { # fsync the files or directories named
    if [ "$SYNC" = yes ]; then sync "$@"; fi
}

acknowledge() {
    if [ -n "${CRASHPROOF_PROGRESS_FD:-}" ]; then
        echo "$1" >&"$CRASHPROOF_PROGRESS_FD"
    fi
}

run() {
    dir=$1 items=$2
    mkdir -p "$dir/out"
    durable "$dir"
    i=1
    while [ "$i" -le "$items" ]; do
        final="$dir/out/item-$i"
        if [ ! -e "$final" ]; then
            result "$i" > "$final.tmp"
            durable "$final.tmp"
            mv "$final.tmp" "$final"
            durable "$dir/out"
        fi
        acknowledge "$i"
        i=$((i + 1))
    done
    rm -f "$dir"/out/*.tmp
    echo "published $items items"
}

check() {
    dir=$1
    acked=${CRASHPROOF_ACKED:-0}
    i=1
    while [ "$i" -le "$acked" ]; do
        [ -e "$dir/out/item-$i" ] || { echo "check: item $i was acknowledged but is not published" >&2; exit 1; }
        i=$((i + 1))
    done
    for f in "$dir"/out/item-*; do
        case "$f" in *.tmp | *"item-*") continue ;; esac
        n=${f##*/item-}
        [ "$(cat "$f")" = "$(result "$n")" ] || { echo "check: $f does not hold its whole result" >&2; exit 1; }
    done
}

if [ "${1:-}" = --check ]; then
    check "$2"
else
    run "$1" "${2:-$ITEMS_DEFAULT}"
fi
