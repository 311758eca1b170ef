#!/usr/bin/env python3
"""A job that commits each item to SQLite (rollback journal): the correct version.

    python3 sqlite_job.py DIR [--items N]     run (or resume) the job in DIR
    python3 sqlite_job.py --check DIR         check DIR (exit 0 if right)

Each item is one transaction (an INSERT) in DIR/job.db, with
``PRAGMA synchronous=FULL`` and the rollback journal (``journal_mode=DELETE``,
SQLite's default): SQLite fsyncs the journal, the database and the
directory, so a committed transaction survives a power loss. After each
commit the job writes the number of items done to the descriptor named by
CRASHPROOF_PROGRESS_FD (the crashproof contract). The result goes to stdout
at the end.

WAL mode is not used: it needs a shared memory map of DIR/job.db-shm, which
a FUSE mount with direct I/O (the one crashproof serves) refuses.
``sqlite_job_buggy.py`` is the same job with ``synchronous=OFF``: SQLite
never fsyncs, and a power loss takes acknowledged items.

``--check`` is the state oracle: the database passes SQLite's integrity
check (after SQLite rolls back a hot journal, as any reader does), its rows
are items 0..n-1 with their values, and n is at least CRASHPROOF_ACKED.
"""

import os
import sqlite3
import sys

DB = "job.db"
ITEMS_DEFAULT = 4
SYNCHRONOUS = "FULL"
JOURNAL_MODE = "TRUNCATE"


def item_value(i):
    return (i * 7919 + 13) % 1000


def connect(directory, synchronous, journal_mode):
    db = sqlite3.connect(os.path.join(directory, DB), isolation_level=None)
    db.execute(f"PRAGMA journal_mode={journal_mode}")
    db.execute(f"PRAGMA synchronous={synchronous}")
    return db


def items_done(db):
    """Rows of items 0..n-1 with their values: n. Anything else is damage."""
    rows = db.execute("SELECT i, value FROM items ORDER BY i").fetchall()
    for expected, (i, value) in enumerate(rows):
        if i != expected or value != item_value(i):
            raise ValueError(f"row {expected} is ({i}, {value})")
    return len(rows)


def run(directory, items, synchronous, journal_mode):
    db = connect(directory, synchronous, journal_mode)
    db.execute("CREATE TABLE IF NOT EXISTS items (i INTEGER PRIMARY KEY, value INTEGER)")
    fd = os.environ.get("CRASHPROOF_PROGRESS_FD")
    pipe = os.fdopen(int(fd), "w", buffering=1) if fd else None
    done = items_done(db)
    while done < items:
        db.execute("BEGIN")
        db.execute("INSERT INTO items VALUES (?, ?)", (done, item_value(done)))
        db.execute("COMMIT")
        done += 1
        if pipe:
            pipe.write(f"{done}\n")
    total = db.execute("SELECT COALESCE(SUM(value), 0) FROM items").fetchone()[0]
    db.close()
    print(f"items={done} total={total}")


def check(directory):
    acked = int(os.environ.get("CRASHPROOF_ACKED") or 0)
    if not os.path.exists(os.path.join(directory, DB)):
        if acked:
            sys.exit(f"check: 0 items committed (no database), but {acked} were acknowledged")
        return
    try:
        db = connect(directory, "FULL", "DELETE")
        verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            sys.exit(f"check: integrity_check says {verdict}")
        has_table = db.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'items'"
        ).fetchone()[0]
        done = items_done(db) if has_table else 0
    except (sqlite3.DatabaseError, ValueError) as e:
        sys.exit(f"check: the database is damaged: {e}")
    if done < acked:
        sys.exit(f"check: {done} items committed, but {acked} were acknowledged")


def option(argv, name, default):
    return argv[argv.index(name) + 1] if name in argv else default


def main(argv, synchronous=SYNCHRONOUS):
    if argv[:1] == ["--check"]:
        check(argv[1])
        return
    items = int(option(argv, "--items", ITEMS_DEFAULT))
    synchronous = option(argv, "--synchronous", synchronous)
    journal_mode = option(argv, "--journal-mode", JOURNAL_MODE)
    run(argv[0], items, synchronous, journal_mode)


if __name__ == "__main__":
    main(sys.argv[1:])
