"""The single-machine command serves the app and runs exactly one reminder scheduler."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[str]:
    out = subprocess.run(
        ["ps", "-o", "args=", "--ppid", str(pid)], capture_output=True, text=True
    ).stdout
    return [line for line in out.splitlines() if line.strip()]


def test_serve_starts_gunicorn_and_one_scheduler_and_stops_both(app, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "PNAPP_SECRET_KEY": "test-secret",
        "PNAPP_INSTANCE_PATH": str(tmp_path),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "pnapp", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline, status = time.monotonic() + 60, None
        while time.monotonic() < deadline and status != 200:
            try:
                status = urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/healthz", timeout=2
                ).status
            except OSError:
                time.sleep(0.3)
        assert status == 200
        running = children(server.pid)
        assert sum("gunicorn" in c for c in running) == 1
        assert sum("run-scheduler" in c for c in running) == 1
        scheduler_pids = subprocess.run(
            ["pgrep", "-f", "run-scheduler", "-P", str(server.pid)], capture_output=True, text=True
        ).stdout.split()
        # A supervisor stops it with SIGTERM: the web server and the scheduler go too.
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
        for pid in scheduler_pids:
            assert (
                not os.path.exists(f"/proc/{pid}") or "zombie" in open(f"/proc/{pid}/status").read()
            )
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
