"""Health data stays out of logs and out of other users' reach on disk."""

from __future__ import annotations

import logging
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from pnapp import create_app
from pnapp.backup import backup_sqlite
from pnapp.extensions import db
from pnapp.models import MassageSession

NOTE = "SECRET-NOTE-my-feet-burn-7731"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_database_error_logs_no_note_or_rating(db_url, alice, caplog):
    """A request fails inside the database with a note among the statement's parameters:
    neither the log nor the error text carries it."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "x"})

    @app.get("/test-only/broken-write")
    def broken_write():
        db.session.add(
            MassageSession(
                patient_id=alice.id,
                client_id="7c5e3c1e-0000-4000-8000-000000000001",
                request_hash="x",
                started_at=datetime.now(UTC),
                areas=[],
                adjuncts=[],
                before_pain=99,  # breaks the CHECK constraint: the database refuses the row
                before_stress=4,
                before_recorded_at=datetime.now(UTC),
                notes=NOTE,
            )
        )
        db.session.commit()
        return "unreachable"

    app.config["PROPAGATE_EXCEPTIONS"] = False
    with caplog.at_level(logging.DEBUG):
        response = app.test_client().get("/test-only/broken-write")
    assert response.status_code == 500
    logged = caplog.text
    assert "broken-write" in logged  # the failure itself is logged...
    assert "IntegrityError" in logged and "do_execute" in logged  # ...with where it failed,
    assert NOTE not in logged  # ...but not its data, nor PostgreSQL's "Failing row contains"
    assert NOTE not in response.get_data(as_text=True)


def test_the_database_its_journal_and_backups_are_private_files(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    monkeypatch.setenv("PNAPP_INSTANCE_PATH", str(instance))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("PNAPP_SECRET_KEY", raising=False)
    app = create_app({"TESTING": True})
    database = instance / "pnapp.sqlite3"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith(str(database))
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE notes (body TEXT)"))
            conn.execute(text("INSERT INTO notes VALUES (:n)"), {"n": NOTE})
        files = {p.name: mode(p) for p in instance.iterdir()}
        assert mode(instance) == 0o700
        assert files["pnapp.sqlite3"] == 0o600
        assert files["pnapp.sqlite3-wal"] == 0o600 and files["pnapp.sqlite3-shm"] == 0o600
        assert files["secret_key"] == 0o600
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1

        target = tmp_path / "backups" / "pnapp-backup.sqlite3"
        backup_sqlite(app.config["SQLALCHEMY_DATABASE_URI"], str(target))
        assert mode(target) == 0o600 and mode(target.parent) == 0o700
        db.engine.dispose()


def test_an_older_instance_folder_is_made_private_at_start(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    instance.chmod(0o755)
    monkeypatch.setenv("PNAPP_INSTANCE_PATH", str(instance))
    create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    assert mode(instance) == 0o700


def test_an_older_database_file_is_made_private_when_opened(tmp_path):
    database = tmp_path / "old.sqlite3"
    database.touch(mode=0o644)
    database.chmod(0o644)
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "SECRET_KEY": "x"}
    )
    with app.app_context():
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        db.engine.dispose()
    assert mode(database) == 0o600


@pytest.mark.parametrize("secret", [NOTE, "alice@example.com"])
def test_a_failed_statement_names_no_value_in_its_error(app, secret):
    """hide_parameters holds whatever engine options a deployment sets."""
    with app.app_context():
        with pytest.raises(Exception) as failure:
            with db.engine.begin() as conn:
                conn.execute(text("SELECT * FROM no_such_table WHERE x = :v"), {"v": secret})
        assert secret not in str(failure.value)


def test_opening_another_connection_keeps_this_processs_sqlite_locks(tmp_path):
    """Making the file private must never open a descriptor of a database in use: closing
    it drops every POSIX lock the process holds on the file. Another process (the
    scheduler) then believes it is the last one using the database, and on closing deletes
    the -wal and -shm files this process still works in ("disk I/O error")."""
    import subprocess
    import sys

    database = tmp_path / "locks.sqlite3"
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "SECRET_KEY": "x"}
    )
    other_process = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1])\n"
        "c.execute('INSERT INTO t VALUES (2)'); c.commit(); c.close()\n"
    )
    with app.app_context():
        with db.engine.connect() as holder:
            holder.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (x)")
            holder.commit()
            with db.engine.connect():  # a second pooled connection opens the file
                pass
            subprocess.run([sys.executable, "-c", other_process, str(database)], check=True)
            assert (tmp_path / "locks.sqlite3-wal").exists()
            assert holder.exec_driver_sql("SELECT count(*) FROM t").scalar() == 1
        db.engine.dispose()


def test_an_error_on_a_secret_address_logs_its_route_not_the_secret(app, monkeypatch, caplog):
    """A calendar or invitation address is a secret: a failure there is logged by the
    route's pattern."""
    from pnapp import calendar

    def broken(token):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(calendar, "feed_owner", broken)
    secret = "SECRET-feed-token-5521"
    with caplog.at_level(logging.DEBUG):
        response = app.test_client().get(f"/calendar/{secret}.ics")
    assert response.status_code == 500
    assert "/calendar/<token>.ics" in caplog.text
    assert secret not in caplog.text
