#!/usr/bin/env python3
"""The job of ``sqlite_job.py`` with ``PRAGMA synchronous=OFF``: SQLite hands
every write to the operating system and never fsyncs, so a commit returns
before anything is durable. A process kill never notices (the page cache
keeps the writes); after a power loss acknowledged items are gone, or the
database is torn. ``crashproof explore-cmd`` finds it: see
docs/any-program.md.
"""

import os
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sqlite_job  # noqa: E402  (the same job, item values and check)

if __name__ == "__main__":
    sqlite_job.main(sys.argv[1:], synchronous="OFF")
