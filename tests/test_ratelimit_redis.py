"""Per-address limits shared by every worker and machine through Redis
(PNAPP_RATELIMIT_STORAGE_URI), tested with two separate processes against a real Redis."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from urllib.parse import urlsplit

import pytest

REDIS_URL = os.environ.get("PNAPP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

WORKER = """
import json, sys
from pnapp import create_app

url, storage, prefix, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
app = create_app({
    "TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x",
    "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": storage, "RATELIMIT_KEY_PREFIX": prefix,
})
client = app.test_client()
token = client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
body = {"email": "nobody@example.com", "password": "a wrong password"}
print(json.dumps([
    client.post("/api/v1/auth/login", json=body, headers={"X-CSRFToken": token}).status_code
    for _ in range(n)
]))
"""


def redis_reachable() -> bool:
    parts = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def redis_url() -> str:
    if not redis_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {REDIS_URL}, and CI needs it")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    return REDIS_URL


def attempts(app, storage: str, prefix: str, n: int) -> list[int]:
    """n failed log-ins from one worker process of its own."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            WORKER,
            app.config["SQLALCHEMY_DATABASE_URI"],
            storage,
            prefix,
            str(n),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_two_workers_share_one_login_limit_through_redis(app, redis_url):
    prefix = f"pnapp-test-{uuid.uuid4().hex}"  # runs side by side must not share counters
    first = attempts(app, redis_url, prefix, 6)
    second = attempts(app, redis_url, prefix, 6)
    assert first == [401] * 6
    # The limit is 10 a minute for an address, whichever worker answers.
    assert second == [401] * 4 + [429] * 2


def test_without_a_shared_store_each_worker_counts_alone(app):
    """What Redis is for: with memory:// the same twelve attempts never meet the limit."""
    prefix = f"pnapp-test-{uuid.uuid4().hex}"
    assert (
        attempts(app, "memory://", prefix, 6) + attempts(app, "memory://", prefix, 6) == [401] * 12
    )
