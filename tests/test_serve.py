"""The single-machine command serves the app and runs exactly one reminder scheduler."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request


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
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) is not None
        assert children(server.pid) == []
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
