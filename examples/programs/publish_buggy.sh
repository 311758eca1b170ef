#!/bin/sh
# publish.sh without `sync`: `mv` alone publishes each result. A process
# kill never shows it (the kernel keeps the data and the new name); after a
# power loss an acknowledged item can be missing, or published empty:
# crashproof explore-cmd finds it (see docs/any-program.md).
PUBLISH_SYNC=no exec sh "$(dirname "$0")/publish.sh" "$@"
