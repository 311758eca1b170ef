#!/usr/bin/env python3
"""The job of ``progress.py`` with the commit every tutorial shows:
``json.dump`` straight into ``state.json``, no temporary file, no fsync.

A process kill never notices (the page cache keeps the write); a power loss
can leave ``state.json`` missing, empty or torn after the job said the items
were done. ``crashproof explore-cmd`` finds it: see docs/any-program.md.
"""

import json
import os
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import progress  # noqa: E402  (the same job, item values and check)


def commit(directory, state):
    with open(os.path.join(directory, progress.STATE), "w") as f:
        json.dump(state, f)


progress.commit = commit

if __name__ == "__main__":
    progress.main(sys.argv[1:])
