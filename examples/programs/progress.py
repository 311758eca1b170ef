#!/usr/bin/env python3
"""A job that resumes from a JSON progress file: the correct version.

    python3 progress.py DIR [--items N]     run (or resume) the job in DIR
    python3 progress.py --check DIR         check DIR (exit 0 if right)

Each item is committed by writing the whole state to a temporary file,
fsyncing it, renaming it over ``state.json`` and fsyncing the directory:
after a power loss ``state.json`` is the old state or the new one, whole.
After each commit the job writes the number of items done to the
descriptor named by CRASHPROOF_PROGRESS_FD (the crashproof contract: one
line per acknowledged commit). The result goes to stdout once, at the end.

``--check`` is the state oracle: the progress file, if any, parses, is
consistent, and holds at least the last acknowledged count
(CRASHPROOF_ACKED); without one, nothing may have been acknowledged.
``progress_buggy.py`` is the same job with the commit every tutorial shows
(``json.dump`` in place, no temporary file, no fsync); crashproof catches it.
"""

import json
import os
import sys

STATE = "state.json"
TMP = "state.json.tmp"
ITEMS_DEFAULT = 5


def item_value(i):
    """The work of item ``i``: deterministic, so every run agrees."""
    return (i * 7919 + 13) % 1000


def expected_total(done):
    return sum(item_value(i) for i in range(done))


def progress_pipe():
    fd = os.environ.get("CRASHPROOF_PROGRESS_FD")
    return os.fdopen(int(fd), "w", buffering=1) if fd else None


def load(directory):
    """The committed state, or a fresh one; a damaged file is an error."""
    path = os.path.join(directory, STATE)
    try:
        with open(path) as f:
            state = json.load(f)
    except FileNotFoundError:
        return {"done": 0, "total": 0}
    if state.get("total") != expected_total(state.get("done", -1)):
        raise ValueError(f"{STATE} is inconsistent: {state}")
    return state


def fsync_dir(directory):
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit(directory, state):
    tmp = os.path.join(directory, TMP)
    with open(tmp, "w") as f:
        json.dump(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, os.path.join(directory, STATE))
    fsync_dir(directory)


def run(directory, items):
    state = load(directory)
    tmp = os.path.join(directory, TMP)
    if os.path.exists(tmp):
        os.unlink(tmp)  # a commit that never reached its rename
    pipe = progress_pipe()
    while state["done"] < items:
        i = state["done"]
        state = {"done": i + 1, "total": state["total"] + item_value(i)}
        commit(directory, state)
        if pipe:
            pipe.write(f"{state['done']}\n")
    print(f"items={state['done']} total={state['total']}")


def check(directory):
    acked = int(os.environ.get("CRASHPROOF_ACKED") or 0)
    try:
        state = load(directory)
    except (ValueError, json.JSONDecodeError) as e:
        sys.exit(f"check: {STATE} is damaged: {e}")
    if state["done"] < acked:
        sys.exit(f"check: {state['done']} items committed, but {acked} were acknowledged")


def main(argv):
    if argv[:1] == ["--check"]:
        check(argv[1])
        return
    items = ITEMS_DEFAULT
    if "--items" in argv:
        items = int(argv[argv.index("--items") + 1])
    run(argv[0], items)


if __name__ == "__main__":
    main(sys.argv[1:])
