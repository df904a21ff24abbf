"""Crash safety: the whole server is killed (SIGKILL) in the middle of a stream of session
writes, then restarted. Every write acknowledged with 201 before the kill must be stored
exactly once with its values; writes in flight may be stored or not, but never twice, and a
retry with the same client_id after the restart settles each of them to exactly one row
(200 when it had been stored, 201 when not). On SQLite the file must pass integrity_check.

The server is a real gunicorn (2 workers x 4 threads) in its own process group, on its own
data so the suite's database is never touched: on SQLite a fresh instance folder, on
PostgreSQL a scratch database on the suite's server named after the suite's database plus
"_crash" (test_crash for the default `test`), created when missing and emptied first.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import DB, PG_URL

ROOT = Path(__file__).resolve().parent.parent
WRITERS = 4  # client threads posting back to back
ACKED_BEFORE_KILL = 30  # acknowledged writes wanted before the kill
REQUEST_TIMEOUT = 10  # seconds, every request
STARTUP_TIMEOUT = 30  # seconds for gunicorn to answer /healthz
WRITE_PHASE_TIMEOUT = 20  # seconds to reach ACKED_BEFORE_KILL
PASSWORD = "crash-test-password"


@pytest.fixture(autouse=True)
def _clean_tables():
    """Overrides the suite's cleaner: this test never opens the suite's database."""
    yield


# The server's data


def scratch_pg_url() -> str:
    """The scratch database, created when missing and emptied."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = f"{conninfo_to_dict(PG_URL).get('dbname') or 'test'}_crash"
    url = urlsplit(PG_URL)._replace(path=f"/{name}").geturl()  # the app wants a URL
    with psycopg.connect(make_conninfo(PG_URL, dbname="postgres"), autocommit=True) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not found:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return url


@dataclass
class Target:
    env: dict[str, str]
    workdir: Path
    pg_url: str | None  # None: SQLite in the instance folder

    @property
    def sqlite_path(self) -> Path:
        return Path(self.env["PNAPP_INSTANCE_PATH"]) / "pnapp.sqlite3"

    def rows(self) -> dict[str, list[tuple]]:
        """Every stored session by client_id, read straight from the database."""
        query = (
            "SELECT client_id, started_at, duration_min, before_pain, before_stress, "
            "before_numbness, notes FROM massage_sessions"
        )
        if self.pg_url is None:
            conn = sqlite3.connect(self.sqlite_path, timeout=10)
            try:
                found = conn.execute(query).fetchall()
            finally:
                conn.close()
        else:
            import psycopg

            with psycopg.connect(self.pg_url) as conn:
                found = conn.execute(query).fetchall()
        out: dict[str, list[tuple]] = {}
        for row in found:
            out.setdefault(row[0], []).append((as_utc(row[1]), *row[2:]))
        return out


def as_utc(value) -> datetime:
    if isinstance(value, str):  # SQLite: naive UTC text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@pytest.fixture
def target(tmp_path) -> Target:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PNAPP_")}
    env.pop("DATABASE_URL", None)
    env["PNAPP_INSTANCE_PATH"] = str(tmp_path / "instance")
    pg_url = scratch_pg_url() if DB == "postgresql" else None
    if pg_url:
        env["DATABASE_URL"] = pg_url
    init = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "pnapp", "init"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert init.returncode == 0, f"flask init failed:\n{init.stdout}{init.stderr}"
    return Target(env, tmp_path, pg_url)


# The server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def no_control_socket() -> list[str]:
    """gunicorn 25+ opens a control socket at one path shared by every gunicorn of the user."""
    from gunicorn.config import Config

    return ["--no-control-socket"] if "control_socket_disable" in Config().settings else []


class Server:
    """gunicorn in a process group of its own, so one killpg reaches master and workers."""

    def __init__(self, target: Target, port: int, name: str):
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = target.workdir / f"{name}.log"
        command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4"]
        command += ["--bind", f"127.0.0.1:{port}", *no_control_socket(), "pnapp:create_app()"]
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                command,
                cwd=ROOT,
                env=target.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited ({self.proc.returncode}):\n{self.log()}")
            try:
                if requests.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass  # not listening yet
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not answer in {STARTUP_TIMEOUT} s:\n{self.log()}")

    def signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """SIGKILL master and workers at once, and wait until the port is closed."""
        self.signal_group(signal.SIGKILL)
        self.proc.wait(timeout=10)
        port = int(self.base.rsplit(":", 1)[1])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) != 0:
                    return
            time.sleep(0.05)
        raise AssertionError("the port still accepts connections after SIGKILL")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.signal_group(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self.signal_group(signal.SIGKILL)  # workers left behind, if any
        if self.proc.poll() is None:
            self.proc.wait(timeout=10)

    def log(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@pytest.fixture
def servers(target):
    """Starts servers on demand; kills every one of them at teardown, even on failure."""
    started: list[Server] = []

    def start(port: int, name: str) -> Server:
        server = Server(target, port, name)
        started.append(server)
        server.wait_until_up()
        return server

    yield start
    for server in started:
        server.stop()
    for server in started:
        print(f"--- {server.log_path.name} ---\n{server.log()}")


# Clients


def patient(base: str) -> requests.Session:
    """A new patient, logged in, whose session sends the CSRF header."""
    http = requests.Session()
    token = http.get(f"{base}/api/v1/auth/csrf", timeout=REQUEST_TIMEOUT).json()["csrf_token"]
    body = {
        "email": "crash@example.com",
        "password": PASSWORD,
        "display_name": "Crash",
        "role": "patient",
        "timezone": "America/Toronto",
    }
    response = http.post(
        f"{base}/api/v1/auth/register",
        json=body,
        headers={"X-CSRFToken": token},
        timeout=REQUEST_TIMEOUT,
    )
    assert response.status_code == 201, response.text
    # Registering starts a new session, and with it a new token.
    token = http.get(f"{base}/api/v1/auth/csrf", timeout=REQUEST_TIMEOUT).json()["csrf_token"]
    http.headers["X-CSRFToken"] = token
    return http


def same_login(http: requests.Session) -> requests.Session:
    """Another connection pool carrying the same login cookie and CSRF token."""
    other = requests.Session()
    other.cookies.update(http.cookies)
    other.headers["X-CSRFToken"] = http.headers["X-CSRFToken"]
    return other


def session_body(number: int) -> dict:
    started = datetime.now(UTC) - timedelta(minutes=random.randint(5, 5000))
    return {
        "client_id": str(uuid.uuid4()),
        "started_at": started.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "duration_min": random.randint(5, 240),
        "before": {
            "pain": random.randint(0, 10),
            "stress": random.randint(0, 10),
            "numbness": random.randint(0, 10),
        },
        "notes": f"crash test write {number}",
    }


def expected_row(body: dict) -> tuple:
    started = datetime.fromisoformat(body["started_at"].replace("Z", "+00:00"))
    before = body["before"]
    return (
        started,
        body["duration_min"],
        before["pain"],
        before["stress"],
        before["numbness"],
        body["notes"],
    )


@dataclass
class Outcome:
    """What the writers saw; every list is guarded by `lock`."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    bodies: dict[str, dict] = field(default_factory=dict)  # every write sent, by client_id
    acked: list[str] = field(default_factory=list)  # answered 201
    unknown: list[str] = field(default_factory=list)  # no answer: in flight at the kill
    failures: list[str] = field(default_factory=list)  # answered, but not with 201
    counter: int = 0


def writer(http: requests.Session, base: str, outcome: Outcome, deadline: float) -> None:
    """Post sessions back to back until a request gets no answer (the kill) or time is up."""
    while time.monotonic() < deadline:
        with outcome.lock:
            outcome.counter += 1
            body = session_body(outcome.counter)
            outcome.bodies[body["client_id"]] = body
        try:
            response = http.post(f"{base}/api/v1/sessions", json=body, timeout=REQUEST_TIMEOUT)
        except requests.RequestException:
            with outcome.lock:
                outcome.unknown.append(body["client_id"])
            return
        with outcome.lock:
            if response.status_code == 201:
                outcome.acked.append(body["client_id"])
            else:
                outcome.failures.append(f"{response.status_code} {response.text[:200]}")
                return


# The test


def test_sigkill_mid_write_loses_no_acknowledged_write(target, servers):
    port = free_port()
    first = servers(port, "gunicorn-before-kill")
    http = patient(first.base)

    outcome = Outcome()
    deadline = time.monotonic() + WRITE_PHASE_TIMEOUT
    threads = [
        threading.Thread(
            target=writer, args=(same_login(http), first.base, outcome, deadline), daemon=True
        )
        for _ in range(WRITERS)
    ]
    for t in threads:
        t.start()
    while time.monotonic() < deadline and not outcome.failures:
        with outcome.lock:
            if len(outcome.acked) >= ACKED_BEFORE_KILL:
                break
        time.sleep(0.005)
    first.kill()  # mid-stream: the writers are posting back to back
    for t in threads:
        t.join(timeout=REQUEST_TIMEOUT + 5)
    assert not any(t.is_alive() for t in threads), "a writer did not stop"

    with outcome.lock:
        acked, unknown, failures = list(outcome.acked), list(outcome.unknown), outcome.failures
        bodies = dict(outcome.bodies)
    assert not failures, f"writes refused before the kill: {failures}\n{first.log()}"
    assert len(acked) >= ACKED_BEFORE_KILL, f"only {len(acked)} writes before the deadline"
    assert unknown, "no write was in flight at the kill"

    second = servers(port, "gunicorn-after-restart")

    # Before any retry: acknowledged writes are there once, in-flight ones at most once.
    stored = target.rows()
    strays = set(stored) - set(acked) - set(unknown)
    assert not strays, f"rows nobody sent: {strays}"
    for cid in acked:
        assert stored.get(cid, []) == [expected_row(bodies[cid])], f"acknowledged write {cid}"
    present = set()
    for cid in unknown:
        assert stored.get(cid, []) in ([], [expected_row(bodies[cid])]), f"in-flight write {cid}"
        if stored.get(cid):
            present.add(cid)

    # Retrying every unacknowledged write (and a few acknowledged ones) through the restarted
    # server, with the login cookie from before the crash.
    retry = same_login(http)
    try:
        for cid in unknown + acked[:3]:
            response = retry.post(
                f"{second.base}/api/v1/sessions", json=bodies[cid], timeout=REQUEST_TIMEOUT
            )
            expected = 200 if cid in present or cid in acked else 201
            assert response.status_code == expected, (cid, response.status_code, response.text)
            assert response.json()["client_id"] == cid
    finally:
        retry.close()
        http.close()

    stored = target.rows()
    assert set(stored) == set(acked) | set(unknown)
    for cid in acked + unknown:
        assert stored.get(cid, []) == [expected_row(bodies[cid])], f"write {cid} after the retries"

    if target.pg_url is None:
        conn = sqlite3.connect(target.sqlite_path, timeout=10)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            conn.close()
    print(
        f"{DB}: {len(acked)} acknowledged before the kill, {len(unknown)} in flight "
        f"({len(present)} of them stored by the crashed server)"
    )
