#!/usr/bin/env python3
"""A log job that believes a failed fsync: it appends one line per item to
DIR/log.wal and fsyncs it, but goes on (and acknowledges the item) when the
fsync fails. Under `--fault 'eio:fsync*N:*.wal'` an acknowledged item is lost
on a later power loss, which `explore-cmd` reports.

    python3 fsync_believer.py DIR [--strict]   run (--strict: stop on the error)
    python3 fsync_believer.py --check DIR      the log holds every acknowledged item
"""

import os
import sys

ITEMS = 3


def done(directory):
    try:
        with open(os.path.join(directory, "log.wal")) as f:
            lines = f.read().split("\n")[:-1]
    except FileNotFoundError:
        return 0
    n = 0
    while n < len(lines) and lines[n] == str(n):
        n += 1
    return n


def run(directory, strict):
    n = done(directory)
    fd = os.open(os.path.join(directory, "log.wal"), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.ftruncate(fd, sum(len(f"{i}\n") for i in range(n)))
    os.fsync(fd)
    dfd = os.open(directory, os.O_RDONLY)
    os.fsync(dfd)
    os.close(dfd)
    pipe = os.environ.get("CRASHPROOF_PROGRESS_FD")
    pipe = os.fdopen(int(pipe), "w", buffering=1) if pipe else None
    while n < ITEMS:
        os.write(fd, f"{n}\n".encode())
        try:
            os.fsync(fd)
        except OSError:
            if strict:
                raise
        n += 1
        if pipe:
            pipe.write(f"{n}\n")
    os.close(fd)
    print(f"items={n}")


if __name__ == "__main__":
    if sys.argv[1] == "--check":
        acked = int(os.environ.get("CRASHPROOF_ACKED") or 0)
        if done(sys.argv[2]) < acked:
            sys.exit(f"check: {done(sys.argv[2])} items in the log, but {acked} were acknowledged")
    else:
        run(sys.argv[1], "--strict" in sys.argv)
