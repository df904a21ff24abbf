"""Consistent SQLite backups while the app runs (PostgreSQL users use pg_dump).

To restore: stop pnapp (web and scheduler), copy the backup over the database file in the
instance folder (removing any `-wal` and `-shm` files beside it), and start pnapp again.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from pnapp.database import private_file


def backup_sqlite(database_uri: str, target: str) -> int:
    """Copy the live database with SQLite's online backup API; returns the page count.

    The backup API copies a consistent snapshot even while other connections write, unlike
    copying the file, which can catch a half-written page or miss the WAL.
    """
    url = make_url(database_uri)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise ValueError("backup works on the SQLite database; use pg_dump for PostgreSQL")
    private_file(Path(target))
    source = sqlite3.connect(url.database, timeout=30)
    dest = sqlite3.connect(target)
    try:
        with dest:
            source.backup(dest, pages=1024)
        (pages,) = dest.execute("PRAGMA page_count").fetchone()
        (check,) = dest.execute("PRAGMA integrity_check").fetchone()
        if check != "ok":
            raise RuntimeError(f"the backup failed its integrity check: {check}")
        return pages
    finally:
        dest.close()
        source.close()
