"""How the progress screens scale with a patient's history: the progress page (12 and 52
weeks, with the weekly trend and its charts), the history, the home page (which decides
whether to ask the PGIC question), GET /api/v1/progress?weeks=104 and the 52-week PDF
report, for a patient with 10 sessions and one with 1,000.

What it measures. For each database (SQLite in a fresh temporary instance folder, and a
scratch PostgreSQL database) it builds the schema with the migrations, makes two patients
with realistic sessions (pnapp.demo: about 22 years of weekly sessions for the long history,
the last 1,000 of them kept; the last 10 of a few months for the short one), logs each in
with the Flask test client and times the server side of each route: the median of --runs
requests after --warmup unmeasured ones, in milliseconds, in this process (no network). It
also counts the SQL statements each request sends (before_cursor_execute).

How to read it. Absolute times depend on the machine; the ratio (1000-session median /
10-session median) does not. A ratio near 1 means the route's cost follows the window it
shows, not the patient's whole history; a ratio near 100 means it reads every session. The
query counts should be the same for both patients: a count that grows with the history is
an N+1 query.

WARNING: with --db postgresql or both (the default) it WIPES the PostgreSQL database at
PNAPP_BENCH_PROGRESS_URL (default postgresql://postgres@127.0.0.1:5432/pnapp_bench_progress):
it creates that database when missing, then drops and recreates its public schema.

    .venv/bin/python bench/progress.py [--runs N] [--warmup N] [--db sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The app reads its instance folder when it is created: a temporary one, never ./instance.
os.environ["PNAPP_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="pnapp-bench-progress-")

from _server import reset_postgres  # noqa: E402
from flask import Flask  # noqa: E402
from sqlalchemy import event  # noqa: E402

from pnapp import create_app  # noqa: E402
from pnapp.demo import add_sessions, session_rows  # noqa: E402
from pnapp.extensions import db  # noqa: E402
from pnapp.models import User  # noqa: E402
from pnapp.timeutil import utcnow  # noqa: E402

PG_URL = os.environ.get(
    "PNAPP_BENCH_PROGRESS_URL", "postgresql://postgres@127.0.0.1:5432/pnapp_bench_progress"
)
PASSWORD = "bench-password-1234"
ROUTES = (
    "/progress",
    "/progress?weeks=52",
    "/history",
    "/",
    "/api/v1/progress?weeks=104",
    "/api/v1/export/report.pdf?weeks=52",
)
# (sessions kept, weeks of history to draw them from): demo data skips about a quarter of
# weeks and doubles a few, so 1,150 weeks give a little over 1,000 sessions.
HISTORIES = {10: 20, 1000: 1150}


def make_app(which: str) -> Flask:
    if which == "postgresql":
        reset_postgres(PG_URL)
        url = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='pnapp-bench-db-')}/bench.sqlite3"
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False}
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    return app


def make_patient(app: Flask, sessions: int) -> str:
    """A patient with exactly `sessions` sessions, the most recent of a long history."""
    email = f"patient{sessions}@example.com"
    with app.app_context():
        user = User.register(
            {
                "email": email,
                "password": PASSWORD,
                "display_name": f"Patient {sessions}",
                "role": "patient",
                "timezone": "America/Toronto",
            }
        )
        rows = session_rows(user, weeks=HISTORIES[sessions], seed=sessions, now=utcnow())
        if len(rows) < sessions:
            sys.exit(f"only {len(rows)} demo sessions for {sessions}: raise HISTORIES")
        add_sessions(user, rows[-sessions:])
        db.session.remove()
    return email


def logged_in(app: Flask, email: str):
    client = app.test_client()
    token = client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    response = client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": PASSWORD},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return client


def measure(app: Flask, client, path: str, runs: int, warmup: int) -> tuple[float, int]:
    """Median milliseconds of `runs` requests, and the SQL statements one request sends."""
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if not statement.startswith("BEGIN"):  # SQLite's explicit BEGIN is not a query
            statements.append(statement)

    for _ in range(warmup):
        assert client.get(path).status_code == 200, path
    times = []
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(runs):
            statements.clear()
            start = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, path
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return statistics.median(times), len(statements)


def bench(which: str, runs: int, warmup: int) -> list[tuple]:
    app = make_app(which)
    clients = {n: logged_in(app, make_patient(app, n)) for n in HISTORIES}
    rows = []
    for path in ROUTES:
        (small_ms, small_q), (large_ms, large_q) = (
            measure(app, clients[n], path, runs, warmup) for n in HISTORIES
        )
        rows.append((which, path, small_ms, large_ms, large_ms / small_ms, small_q, large_q))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    databases = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    rows = [row for which in databases for row in bench(which, args.runs, args.warmup)]
    print(f"median of {args.runs} requests after {args.warmup} warm-up, server side, in ms")
    header = ("db", "route", "10-session ms", "1000-session ms", "ratio", "queries (10 / 1000)")
    print(
        f"{header[0]:<11} {header[1]:<36} {header[2]:>13} {header[3]:>15} {header[4]:>6}  "
        f"{header[5]}"
    )
    for which, path, small, large, ratio, small_q, large_q in rows:
        print(
            f"{which:<11} {path:<36} {small:>13.1f} {large:>15.1f} {ratio:>6.1f}  "
            f"{small_q} / {large_q}"
        )


if __name__ == "__main__":
    main()
