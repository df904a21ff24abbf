"""Backing up the SQLite database while writes go on, and restoring it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading

import pytest

from pnapp.backup import backup_sqlite
from tests.helpers import session_body

sqlite_only = pytest.mark.skipif(
    os.environ.get("PNAPP_TEST_DB", "sqlite") != "sqlite",
    reason="SQLite's online backup; PostgreSQL installations use pg_dump",
)


@sqlite_only
def test_a_backup_taken_during_writes_is_consistent_and_restores(app, as_alice, tmp_path):
    stop = threading.Event()
    written = []

    def keep_writing():
        while not stop.is_set() and len(written) < 60:
            response = as_alice.post("/sessions", session_body())
            assert response.status_code == 201
            written.append(response.get_json()["client_id"])

    writer = threading.Thread(target=keep_writing)
    for _ in range(5):
        as_alice.post("/sessions", session_body())
    writer.start()
    target = tmp_path / "backup.sqlite3"
    try:
        backup_sqlite(app.config["SQLALCHEMY_DATABASE_URI"], str(target))
    finally:
        stop.set()
        writer.join()
    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    (count,) = copy.execute("SELECT count(*) FROM massage_sessions").fetchone()
    assert 5 <= count <= 5 + len(written)
    # Restoring: the copy is a working pnapp database with the data in it.
    (version,) = copy.execute("SELECT version_num FROM alembic_version").fetchone()
    assert version
    copy.close()


@sqlite_only
def test_the_backup_command(app, as_alice, tmp_path):
    as_alice.post("/sessions", session_body())
    target = tmp_path / "nightly.sqlite3"
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "pnapp", "backup", str(target)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Backed up" in result.stdout
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT count(*) FROM massage_sessions").fetchone() == (1,)


def test_backing_up_postgresql_is_refused_with_a_pointer_to_pg_dump(tmp_path):
    with pytest.raises(ValueError, match="pg_dump"):
        backup_sqlite("postgresql+psycopg://x@localhost/db", str(tmp_path / "x"))
