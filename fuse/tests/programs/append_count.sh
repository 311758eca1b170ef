#!/bin/sh
# Appends three items to a log, then marks the job done and prints how many
# items the log holds. Not idempotent: a run that finds items but no `done`
# appends three more, so after a crash that kept some appends the count on
# stdout is wrong. The result oracle's stdout comparison must catch it.
d="$1"
if [ ! -e "$d/done" ]; then
    for i in 1 2 3; do echo "item $i" >> "$d/log"; done
    touch "$d/done"
fi
wc -l < "$d/log"
