"""Database connection settings that differ by engine."""

from __future__ import annotations

import os
import time
from pathlib import Path

from flask import Flask, current_app, has_request_context, request
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError

from pnapp.extensions import db


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        if engine.url.database and engine.url.database != ":memory:":
            # Before any connection: SQLite makes the -wal and -shm files with the database
            # file's own permissions, so they are private too.
            private_file(Path(engine.url.database))
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    elif engine.dialect.name == "postgresql":
        app.before_request(_postgresql_autocommit)
        event.listen(engine, "checkin", _postgresql_checkin)
        event.listen(engine, "checkout", _postgresql_ping_if_idle)


# A server may drop a connection that sits idle (a restart, a proxy's time-out): one idle
# for longer than this is tested (a round trip) before a request gets it. A busy pool's
# connections come back within milliseconds and go out untested; pool_pre_ping would
# test every one, a round trip on every request.
IDLE_PING_S = 10.0


def private_file(path: Path) -> None:
    """Make sure a file of health data is readable by this user alone (0600, in a folder
    that is 0700 when we make it), before anything is written to it.

    An existing file is never opened here, only chmod-ed: closing a second descriptor of a
    SQLite database drops every POSIX lock this process holds on it, and another process
    (a web worker, the scheduler) may have it open."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        os.chmod(path, 0o600)  # an older file may have been made with the umask's 0644


def _sqlite_connect(dbapi_connection, _record) -> None:
    # We issue BEGIN ourselves (below), so pysqlite must not.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers and one writer work at once; busy_timeout makes a second writer wait
    # for the lock instead of failing at once with "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted ratings and notes are overwritten, not left in free pages of the file.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _sqlite_begin(connection) -> None:
    # A deferred transaction that reads and then writes fails at once (SQLITE_BUSY, no wait)
    # when another writer committed in between. Requests that may write take the write lock
    # up front, so they queue on busy_timeout instead; page and API reads stay concurrent.
    # A request whose one write is one statement needs no transaction at all: each
    # statement commits by itself, and the write lock is held for the insert alone rather
    # than from the request's first read (the login) to its commit.
    if one_statement_write():
        return
    connection.exec_driver_sql("BEGIN" if is_reading_request() else "BEGIN IMMEDIATE")


def _postgresql_autocommit() -> None:
    # As on SQLite (above): a request whose one write is one statement runs without
    # BEGIN and COMMIT, two of its four round trips to the server; the statement is atomic
    # by itself. Set on the connection the request will use, before its first query.
    # (SQLAlchemy's AUTOCOMMIT isolation level would cost two more round trips: it asks
    # the server for the level to restore, and restores it.) A session already in a
    # transaction, one a test or an embedding program opened in this app context, keeps it.
    if one_statement_write() and not db.session().in_transaction():
        db.session.connection().connection.dbapi_connection.autocommit = True


def _postgresql_checkin(dbapi_connection, record) -> None:
    """Back in the pool, a connection opens transactions again (no round trip: psycopg
    only stops sending BEGIN), and its idle time starts."""
    record.info["idle_since"] = time.monotonic()
    if dbapi_connection is not None and dbapi_connection.autocommit:
        dbapi_connection.autocommit = False


def _postgresql_ping_if_idle(dbapi_connection, record, _proxy) -> None:
    idle_since = record.info.get("idle_since")  # None: a connection opened just now
    if idle_since is None or time.monotonic() - idle_since < IDLE_PING_S:
        return
    import psycopg

    try:
        dbapi_connection.autocommit = True  # no BEGIN, no ROLLBACK: the ping alone
        dbapi_connection.execute("SELECT 1")
        dbapi_connection.autocommit = False
    except psycopg.Error as err:
        # The pool drops this connection and lends a new one.
        raise DisconnectionError(str(err)) from err


def is_reading_request() -> bool:
    return has_request_context() and request.method in ("GET", "HEAD", "OPTIONS")


def writes_one_statement(view):
    """Mark a view (a function, or a MethodView's method, as its innermost decorator) whose
    only write is a single statement, atomic by itself, such as INSERT ... ON CONFLICT DO
    NOTHING RETURNING: on SQLite it runs without a transaction (see _sqlite_begin)."""
    view.one_statement_write = True
    return view


def one_statement_write() -> bool:
    if not has_request_context() or request.endpoint is None:
        return False
    view = current_app.view_functions.get(request.endpoint)
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        view = getattr(view_class, request.method.lower(), None)
    return getattr(view, "one_statement_write", False)
