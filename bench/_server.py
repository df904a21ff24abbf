"""What the benchmarks share: a scratch PostgreSQL database, `flask` commands, and a
gunicorn to measure."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 30  # seconds for gunicorn to answer /healthz


def reset_postgres(url: str) -> None:
    """Create the scratch database `url` names when missing, and empty it."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = conninfo_to_dict(url).get("dbname")
    if not name or name in ("postgres", "template0", "template1"):
        sys.exit(f"a benchmark needs a scratch database of its own, not: {url}")
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not found:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def no_control_socket() -> list[str]:
    """gunicorn 27 opens a control socket at one fixed path in the home folder, shared by
    every gunicorn on the machine: ours do without (older versions have none)."""
    from gunicorn.config import Config

    return ["--no-control-socket"] if "control_socket_disable" in Config().settings else []


def wait_until_up(
    base: str,
    server: subprocess.Popen,
    details: Callable[[], str] = lambda: "",
    timeout: float = STARTUP_TIMEOUT,
) -> None:
    """Wait for /healthz to answer 200; `details()` is added to the error when it does not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {server.returncode}\n{details()}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass  # not listening yet, or the workers are still loading the app
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout} s\n{details()}")


def flask(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    """`flask --app pnapp ARGS` in the project folder, e.g. ("init",) for the migrations;
    its output, or an error that carries it."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "pnapp", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


@contextmanager
def gunicorn(env: dict[str, str], log: Path, workers: int = 2, threads: int = 4) -> Iterator[str]:
    """Serve the app; yields its base URL; always stops it."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers)]
    command += ["--threads", str(threads), "--bind", f"127.0.0.1:{port}", *no_control_socket()]
    # Clients that wait their turn (32 sign-ups hash 32 passwords) keep their connections,
    # as behind nginx's upstream keep-alive: gunicorn's 2 s would close them under the
    # client's first request, a failure of the measurement, not of the app.
    command += ["--keep-alive", "30"]
    command.append("pnapp:create_app()")
    with log.open("wb") as stderr:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stderr=stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
