"""Load: a crowd of patients using pnapp at once, and no write lost or doubled under it.

What it does. For each target it prepares a fresh database, starts the server in a process
group of its own on a free 127.0.0.1 port, and registers --users patients beforehand (one
Argon2 hash shared by all, written straight into the database, so setting up costs seconds).
Every simulated patient then logs in through the API (GET /api/v1/auth/csrf, POST
/api/v1/auth/login, GET /api/v1/auth/csrf: at most 16 at a time, before the clock starts)
and, for --seconds, loops like a person would: GET / (home page), POST /api/v1/sessions
(before ratings, fresh client_id), PATCH /api/v1/sessions/{id} (after ratings), GET
/progress, with a think time of 0.2-1 s after each request. Each patient has its own aiohttp
session (cookies, one keep-alive connection) and its own X-Forwarded-For address, like a
crowd of phones behind the one reverse proxy of the production set-up (the server runs with
PNAPP_TRUST_PROXY=true): the per-address limit on log-ins stays on and applies per patient.

Writes are sent as the app's offline outbox sends them: a POST or PATCH that gets no answer
or a 5xx is sent again with the same body (the same client_id), up to WRITE_TRIES times;
every error a patient saw is still counted, and the retries are shown.

Targets:
  postgresql  gunicorn --workers 4 --threads 4 (the README's production command) on the
              scratch database PNAPP_LOAD_DATABASE_URL
              (default postgresql://postgres@127.0.0.1:5432/pnapp_load)
  sqlite      `flask --app pnapp serve` as `make run` starts it (gunicorn 2 workers x 4
              threads; `--no-scheduler` is passed when the command has it), SQLite in a
              temporary instance folder

  --cluster   instead of the targets: deploy/'s production set-up (tests/cluster.py): nginx
              with TLS in front of one web machine, then of two (network namespaces where
              this machine allows them, 2 workers x 4 threads each), one scheduler,
              PostgreSQL at PNAPP_LOAD_DATABASE_URL and Redis at 127.0.0.1:6379; each
              patient connects from a loopback address of its own (127.77.x.y). Ends with
              one line per run: req/s, p95, lost and doubled writes, errors seen. With
              --kill, one of the two machines is killed (SIGKILL) half-way and restarted.

What it prints, per target: requests per second over the measured loop (all four request
types), p50/p95/p99 latency in milliseconds per request type and over all of them, errors
(a status other than the expected 200/201, or a failed connection or timeout; log-in
included, shown on its own rows and not in "all"), then a check of the database: every POST
answered 201 is stored exactly once for its patient with the ratings sent, every PATCH
answered 200 left the after ratings sent, and sessions never patched have none. It exits
with status 1 on any error or failed check.

How to read it. A closed loop: each patient waits for an answer before thinking and going
on, so when the server saturates, latency grows and the offered rate falls; compare the
req/s with what the crowd would offer (users / (think 0.6 s + latency) per second). The
client runs on the same machine and shares its CPUs with the server: run it on an otherwise
idle machine, and compare runs on one machine only.

WARNING: --target postgresql or both (the default) WIPES the database at
PNAPP_LOAD_DATABASE_URL: it creates it when missing, then drops and recreates its public
schema. Only 127.0.0.1 or localhost is accepted.

    .venv/bin/python bench/load.py [--users 200] [--seconds 60] [--target postgresql|sqlite|both]
    .venv/bin/python bench/load.py --cluster [--kill] [--users 200] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from _server import flask, free_port, no_control_socket, reset_postgres, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get(
    "PNAPP_LOAD_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/pnapp_load"
)
PASSWORD = "load-password-1234"
REQUEST_TIMEOUT = 30  # seconds; bounds every request
# seconds for the server to answer /healthz: the SQLite default starts a scheduler too
STARTUP_TIMEOUT = 60
SETUP_TIMEOUT = 180  # seconds for `flask init` and for registering the patients
LOGIN_CONCURRENCY = 16  # log-ins at once (each one is an Argon2 verification)
LOGIN_TIMEOUT = 300  # seconds for all log-ins together
THINK = (0.2, 1.0)  # seconds between one patient's requests
WRITE_TRIES = 5  # a write without an answer is sent this many times at most

HOME = "GET /"
POST = "POST /api/v1/sessions"
PATCH = "PATCH /api/v1/sessions/{id}"
PROGRESS = "GET /progress"
LOOP = (HOME, POST, PATCH, PROGRESS)
CSRF = "GET /api/v1/auth/csrf"
LOGIN = "POST /api/v1/auth/login"


# Preparing the database and the server


def check_local(url: str) -> None:
    host = urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost"):
        sys.exit(f"bench/load.py only runs against 127.0.0.1, not {host!r} ({url})")


def app_env(target: str, workdir: Path) -> dict[str, str]:
    """The server's environment: only what this benchmark sets, no PNAPP_* inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PNAPP_")}
    env.pop("DATABASE_URL", None)
    env["PNAPP_INSTANCE_PATH"] = str(workdir / "instance")
    env["PNAPP_TRUST_PROXY"] = "true"
    # gunicorn 25+ puts a control socket at one path per user ($XDG_RUNTIME_DIR or ~):
    # keep ours in the scratch folder, away from any other gunicorn on the machine.
    env["XDG_RUNTIME_DIR"] = str(workdir)
    if target == "postgresql":
        env["DATABASE_URL"] = PG_URL
    return env


# Registers the patients in the server's own database, through the app's models: one real
# registration, then the others with the same password hash (Argon2 salts make every hash
# different, but any valid hash of the password verifies, and costs the same to check).
SEED = """
import sys
from pnapp import create_app
from pnapp.extensions import db
from pnapp.models import User

count, password = int(sys.argv[1]), sys.argv[2]
app = create_app()
with app.app_context():
    def fields(n):
        return {"email": f"load{n}@example.com", "display_name": f"Load {n}",
                "role": "patient", "timezone": "America/Toronto"}
    first = User.register({**fields(0), "password": password})
    for n in range(1, count):
        db.session.add(User(**fields(n), password_hash=first.password_hash))
    db.session.commit()
    print(db.session.query(User).count())
"""


def register_patients(env: dict[str, str], count: int) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SEED, str(count), PASSWORD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=SETUP_TIMEOUT,
    )
    if done.returncode != 0 or done.stdout.strip() != str(count):
        raise RuntimeError(f"registering patients failed:\n{done.stdout}{done.stderr}")


def email(number: int) -> str:
    return f"load{number}@example.com"


def server_command(target: str, env: dict[str, str], port: int) -> tuple[list[str], str]:
    if target == "postgresql":
        command = [sys.executable, "-m", "gunicorn", "--workers", "4", "--threads", "4"]
        command += ["--bind", f"127.0.0.1:{port}", *no_control_socket(), "pnapp:create_app()"]
        return command, "gunicorn --workers 4 --threads 4 (README production), PostgreSQL"
    command = [sys.executable, "-m", "flask", "--app", "pnapp", "serve", "--port", str(port)]
    if "--no-scheduler" in flask(env, "serve", "--help", timeout=SETUP_TIMEOUT):
        command.append("--no-scheduler")
    flags = " --no-scheduler" if "--no-scheduler" in command else ""
    return command, f"flask --app pnapp serve{flags} (make run: 2 workers x 4 threads), SQLite"


@contextmanager
def server(command: list[str], env: dict[str, str], port: int, log: Path):
    """Run the server in its own process group; yields its base URL; always stops the group
    (SIGTERM, then SIGKILL after 30 s), so a wrapper's children go too."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, proc, lambda: tail(log), timeout=STARTUP_TIMEOUT)
        yield base
    finally:
        if proc.poll() is not None:
            print(f"  the server had exited by itself, status {proc.returncode}", file=sys.stderr)
        signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        signal_group(proc, signal.SIGKILL)  # whatever is left of the group
        if proc.poll() is None:
            proc.wait(timeout=10)


def signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


ACCESS_LINE = re.compile(r'^\S+ - \S+ \[[^]]+\] "')


def tail(log: Path, lines: int = 60) -> str:
    """The server's own messages (tracebacks, warnings), without the access log lines."""
    text = log.read_text(errors="replace") if log.exists() else ""
    own = [line for line in text.splitlines() if not ACCESS_LINE.match(line)]
    return "\n".join(f"    {line}" for line in own[-lines:])


# The crowd


def stale_connection(exc: BaseException) -> bool:
    """A write on a kept-alive connection the other end had just closed (a restart or a
    reload): EPIPE, a reset, or closed before any answer. It never reached a server."""
    return isinstance(exc, aiohttp.ServerDisconnectedError) or (
        isinstance(exc, OSError) and exc.errno in (errno.EPIPE, errno.ECONNRESET)
    )


@dataclass
class Stats:
    """Everything the patients saw (one event loop: no locks needed)."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    requests: Counter = field(default_factory=Counter)
    errors: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    posted: dict[str, tuple[str, dict]] = field(default_factory=dict)  # 201: cid -> (email, body)
    unacked_posts: set[str] = field(default_factory=set)  # sent, no 201
    patched: dict[str, dict] = field(default_factory=dict)  # 200: cid -> after ratings
    unacked_patches: set[str] = field(default_factory=set)  # sent, no 200
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    retries: Counter = field(default_factory=Counter)  # writes sent again, same client_id
    gave_up: Counter = field(default_factory=Counter)  # writes never answered after the tries
    # Requests written on a kept-alive connection just closed, sent again on a new one at
    # once (as browsers do): they never reached a server.
    resent_stale: Counter = field(default_factory=Counter)
    lag: list[float] = field(default_factory=list)  # the client's own event-loop delays


TIME_UP = object()  # what step() returns when the measured time is over (nothing sent)


@dataclass
class Deadline:
    """When the patients stop; run_loop moves it while a restart is still going on."""

    at: float

    def passed(self) -> bool:
        return time.monotonic() >= self.at


class Patient:
    """One phone. `source` is the address it connects from (127.x.y.z: through nginx each
    patient is an address of its own); `tls` a context trusting the cluster's certificate."""

    def __init__(
        self, number: int, base: str, stats: Stats, *, source: str | None = None, tls=None
    ):
        self.email = email(number)
        self.stats = stats
        self.token = ""
        headers = {"X-Forwarded-For": address(number)}
        if base.startswith("https://"):
            headers = {"Referer": f"{base}/"}  # what a browser sends; CSRF checks it on https
        self.http = aiohttp.ClientSession(
            base_url=base,
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # unsafe: accept cookies from an IP
            connector=aiohttp.TCPConnector(
                limit=1, ssl=tls if tls is not None else True,
                local_addr=(source, 0) if source else None,
            ),
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
            headers=headers,
        )  # fmt: skip

    async def call(self, route: str, method: str, path: str, expected: int, body=None):
        """One request. Returns (True, decoded JSON or None for a page) when the status is
        the expected one, (False, None) otherwise (counted as an error). A write (POST,
        PATCH) that got no answer or a 5xx is sent again with the same body, as the app's
        outbox does, a few times with backoff: its client_id makes a repeat harmless, and a
        POST already stored answers 200 with the stored session."""
        for attempt in range(WRITE_TRIES if method in ("POST", "PATCH") else 1):
            if attempt:
                self.stats.retries[route] += 1
                await asyncio.sleep(0.25 * 2**attempt)
            ok, got, retry = await self._once(route, method, path, expected, body, attempt > 0)
            if not retry:
                return ok, got
        self.stats.gave_up[route] += 1
        return False, None

    async def _once(self, route, method, path, expected, body, again):
        headers = {"X-CSRFToken": self.token} if method != "GET" else None
        self.stats.requests[route] += 1
        start = time.perf_counter()
        try:
            try:
                content, status, is_json = await self._exchange(method, path, body, headers)
            except (aiohttp.ClientError, OSError) as exc:
                if not stale_connection(exc):
                    raise
                # The kept-alive connection was closed as this request was written (a
                # restart or reload): it never reached a server, and browsers send it
                # again on a new connection at once, as this does.
                self.stats.resent_stale[route] += 1
                content, status, is_json = await self._exchange(method, path, body, headers)
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.stats.errors[route][type(exc).__name__] += 1
            self.example(route, f"{type(exc).__name__}: {exc} after {elapsed(start)}")
            return False, None, True
        if status != expected and not (again and method == "POST" and status == 200):
            self.stats.errors[route][status] += 1
            self.example(route, f"{status} {content[:150]!r} after {elapsed(start)}")
            return False, None, status >= 500
        self.stats.latencies[route].append(time.perf_counter() - start)
        return True, (json.loads(content) if is_json else None), False

    async def _exchange(self, method, path, body, headers):
        """One request and its whole answer: (content, status, is JSON)."""
        async with self.http.request(
            method, path, json=body, headers=headers, allow_redirects=False
        ) as response:
            content = await response.read()
            return content, response.status, response.content_type == "application/json"

    def example(self, route: str, text: str) -> None:
        if len(self.stats.examples[route]) < 3:
            self.stats.examples[route].append(f"{self.email}: {text}")

    async def log_in(self) -> bool:
        ok, got = await self.call(CSRF, "GET", "/api/v1/auth/csrf", 200)
        if not ok:
            return False
        self.token = got["csrf_token"]
        credentials = {"email": self.email, "password": PASSWORD}
        ok, _ = await self.call(LOGIN, "POST", "/api/v1/auth/login", 200, credentials)
        if not ok:
            return False
        ok, got = await self.call(CSRF, "GET", "/api/v1/auth/csrf", 200)  # new session, token
        if ok:
            self.token = got["csrf_token"]
        return ok

    async def step(self, end: Deadline, route, method: str, path: str, expected: int, body=None):
        """One request, then a think; TIME_UP (and nothing sent) once `end` has passed."""
        if end.passed():
            return TIME_UP
        result = await self.call(route, method, path, expected, body)
        await asyncio.sleep(random.uniform(*THINK))
        return result

    async def loop(self, end: Deadline) -> None:
        """Home, record, add the after ratings, look at progress; until `end`. An error
        does not stop the patient (a person would try again), it only skips the PATCH of a
        session that was not acknowledged."""
        await asyncio.sleep(random.uniform(0, THINK[1]))  # patients do not march in step
        while True:
            if await self.step(end, HOME, "GET", "/", 200) is TIME_UP:
                return
            body = session_body()
            cid = body["client_id"]
            self.stats.unacked_posts.add(cid)
            result = await self.step(end, POST, "POST", "/api/v1/sessions", 201, body)
            if result is TIME_UP:
                self.stats.unacked_posts.discard(cid)  # never sent
                return
            ok, created = result
            if ok:
                self.stats.unacked_posts.discard(cid)
                self.stats.posted[cid] = (self.email, body)
                after = ratings()
                self.stats.unacked_patches.add(cid)
                path = f"/api/v1/sessions/{created['id']}"
                result = await self.step(end, PATCH, "PATCH", path, 200, {"after": after})
                if result is TIME_UP:
                    self.stats.unacked_patches.discard(cid)  # never sent
                    return
                if result[0]:
                    self.stats.unacked_patches.discard(cid)
                    self.stats.patched[cid] = after
            if await self.step(end, PROGRESS, "GET", "/progress", 200) is TIME_UP:
                return

    async def close(self) -> None:
        await self.http.close()


def elapsed(start: float) -> str:
    return f"{(time.perf_counter() - start) * 1000:.0f} ms"


async def watch_lag(stats: Stats, end: Deadline) -> None:
    """How late the client's event loop wakes up: when the machine is short of CPU, the
    client's own delays end up in the latencies too."""
    while not end.passed():
        start = time.perf_counter()
        await asyncio.sleep(0.1)
        stats.lag.append(time.perf_counter() - start - 0.1)


def address(number: int) -> str:
    """The patient's own address, as the proxy would forward it."""
    return f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"


def ratings() -> dict:
    return {m: random.randint(0, 10) for m in ("pain", "stress", "numbness")}


def session_body() -> dict:
    started = datetime.now(UTC) - timedelta(minutes=random.randint(5, 120))
    return {
        "client_id": str(uuid.uuid4()),
        "started_at": started.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "before": ratings(),
    }


async def log_in_all(patients: list[Patient], stats: Stats) -> list[Patient]:
    """Log everyone in, LOGIN_CONCURRENCY at a time; the patients who made it."""
    gate = asyncio.Semaphore(LOGIN_CONCURRENCY)

    async def log_in(p: Patient) -> bool:
        async with gate:
            return await p.log_in()

    try:
        logged = await asyncio.wait_for(
            asyncio.gather(*(log_in(p) for p in patients)), LOGIN_TIMEOUT
        )
    except TimeoutError:
        stats.errors[LOGIN]["log-in phase timed out"] += 1
        return []
    return [p for p, ok in zip(patients, logged, strict=True) if ok]


async def run_loop(ready: list[Patient], seconds: float, stats: Stats, during=None) -> float:
    """Every patient loops into `stats` for `seconds`, or, when `during()` is given (a
    coroutine: a kill, a restart), until it has finished and a little longer if that is
    later, so all of it happens under load; returns the seconds the patients ran."""
    for p in ready:
        p.stats = stats
    start = time.monotonic()
    end = Deadline(float("inf") if during is not None else start + seconds)

    async def beside():
        try:
            await during()
        finally:
            end.at = max(start + seconds, time.monotonic() + 2 * THINK[1])

    extra = [beside()] if during is not None else []
    try:
        await asyncio.wait_for(
            asyncio.gather(watch_lag(stats, end), *(p.loop(end) for p in ready), *extra),
            seconds + WRITE_TRIES * REQUEST_TIMEOUT + 2 * THINK[1] + 300,
        )
    except TimeoutError:
        stats.errors["all"]["loop overran its time limit"] += 1
    return time.monotonic() - start


async def crowd(base: str, users: int, seconds: float, stats: Stats) -> tuple[float, int]:
    """Log everyone in, then run the loop; returns (measured seconds, patients logged in)."""
    patients = [Patient(n, base, stats) for n in range(users)]
    try:
        ready = await log_in_all(patients, stats)
        if not ready:
            return 0.0, 0
        return await run_loop(ready, seconds, stats), len(ready)
    finally:
        await asyncio.gather(*(p.close() for p in patients), return_exceptions=True)


# Checking the writes


def stored_sessions(target: str, instance: Path, url: str = PG_URL) -> dict[str, list[tuple]]:
    query = (
        "SELECT s.client_id, u.email, s.started_at, s.before_pain, s.before_stress, "
        "s.before_numbness, s.after_pain, s.after_stress, s.after_numbness "
        "FROM massage_sessions s JOIN users u ON u.id = s.patient_id"
    )
    if target == "sqlite":
        conn = sqlite3.connect(instance / "pnapp.sqlite3", timeout=30)
        try:
            rows = conn.execute(query).fetchall()
        finally:
            conn.close()
    else:
        import psycopg

        with psycopg.connect(url) as conn:
            rows = conn.execute(query).fetchall()
    out: dict[str, list[tuple]] = defaultdict(list)
    for cid, who, started, *values in rows:
        out[cid].append((who, as_utc(started), *values))
    return out


def as_utc(value) -> datetime:
    if isinstance(value, str):  # SQLite keeps naive UTC text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def check_writes(stats: Stats, stored: dict[str, list[tuple]]) -> tuple[bool, list[str], dict]:
    lost = doubled = wrong = 0
    examples: list[str] = []
    for cid, (who, body) in stats.posted.items():
        rows = stored.get(cid, [])
        if not rows:
            lost += 1
            examples.append(f"lost: {cid} ({who})")
            continue
        if len(rows) > 1:
            doubled += 1
            examples.append(f"doubled: {cid} stored {len(rows)} times")
        before = body["before"]
        started = datetime.fromisoformat(body["started_at"].replace("Z", "+00:00"))
        want = (who, started, before["pain"], before["stress"], before["numbness"])
        if cid in stats.patched:
            after = stats.patched[cid]
            want_after = (after["pain"], after["stress"], after["numbness"])
        elif cid in stats.unacked_patches:
            want_after = None  # a PATCH without an answer: either state is right
        else:
            want_after = (None, None, None)
        for row in rows:
            if row[:5] != want or (want_after is not None and row[5:] != want_after):
                wrong += 1
                examples.append(f"wrong values: {cid}: stored {row}, sent {want} {want_after}")
    strays = set(stored) - set(stats.posted) - stats.unacked_posts
    unacked_stored = len(stats.unacked_posts & set(stored))
    patches_ok = len(stats.patched)
    ok = not (lost or doubled or wrong or strays)
    lines = [
        f"{len(stats.posted)} POSTs answered 201, {patches_ok} PATCHes answered 200; "
        f"{sum(len(r) for r in stored.values())} rows in massage_sessions: "
        f"{'OK' if ok else 'FAILED'} (lost {lost}, doubled {doubled}, wrong values {wrong}, "
        f"rows nobody sent {len(strays)}; unanswered POSTs stored anyway: {unacked_stored} "
        f"of {len(stats.unacked_posts)})",
        *(f"  {line}" for line in examples[:10]),
    ]
    return ok, lines, {"lost": lost, "doubled": doubled, "wrong": wrong, "strays": len(strays)}


# Output


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1] * 1000


def report(title: str, stats: Stats, seconds: float) -> int:
    print(f"\n{title}")
    print(
        f"  {'request':<30}{'requests':>9}{'errors':>8}{'req/s':>8}"
        f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
    )
    errors = 0

    def row(name, requests, errs, latencies, rate):
        rate_text = f"{rate:>8.1f}" if rate is not None else f"{'-':>8}"
        print(
            f"  {name:<30}{requests:>9}{errs:>8}{rate_text}"
            f"{percentile(latencies, 50):>9.1f}{percentile(latencies, 95):>9.1f}"
            f"{percentile(latencies, 99):>9.1f}"
        )

    every: list[float] = []
    for route in LOOP:
        errs = sum(stats.errors[route].values())
        errors += errs
        every += stats.latencies[route]
        row(
            route,
            stats.requests[route],
            errs,
            stats.latencies[route],
            stats.requests[route] / seconds if seconds else 0,
        )
    total = sum(stats.requests[r] for r in LOOP)
    loop_errors = sum(sum(stats.errors[r].values()) for r in LOOP) + sum(
        stats.errors["all"].values()
    )
    errors += sum(stats.errors["all"].values())
    row("all (the loop above)", total, loop_errors, every, total / seconds if seconds else 0)
    for route in (CSRF, LOGIN):
        errs = sum(stats.errors[route].values())
        errors += errs
        row(f"{route} (log-in phase)", stats.requests[route], errs, stats.latencies[route], None)
    if stats.retries or stats.gave_up:
        print(f"  writes sent again (same client_id): {dict(stats.retries)}; "
              f"never answered after {WRITE_TRIES} tries: {dict(stats.gave_up)}")  # fmt: skip
    if stats.resent_stale:
        print(f"  sent again on a new connection (the kept-alive one had just closed): "
              f"{dict(stats.resent_stale)}")  # fmt: skip
    for route, counts in stats.errors.items():
        if counts:
            print(f"  errors, {route}: {dict(counts)}")
            for text in stats.examples[route]:
                print(f"    e.g. {text}")
    print(
        f"  client event-loop lag (the client's own share of the latencies): "
        f"p50 {percentile(stats.lag, 50):.0f} ms, p99 {percentile(stats.lag, 99):.0f} ms, "
        f"max {max(stats.lag, default=0) * 1000:.0f} ms"
    )
    return errors


# One target, end to end


def run_target(target: str, users: int, seconds: float) -> bool:
    workdir = Path(tempfile.mkdtemp(prefix=f"pnapp-load-{target}-"))
    log = workdir / "server.log"
    try:
        if target == "postgresql":
            reset_postgres(PG_URL)
        env = app_env(target, workdir)
        flask(env, "init", timeout=SETUP_TIMEOUT)
        register_patients(env, users)
        port = free_port()
        command, described = server_command(target, env, port)
        print(f"[{target}] {described} at 127.0.0.1:{port}; {users} patients", file=sys.stderr)
        stats = Stats()
        with server(command, env, port, log) as base:
            measured, ready = asyncio.run(crowd(base, users, seconds, stats))
        title = (
            f"{target}: {described}; {users} patients ({ready} logged in), "
            f"{measured:.1f} s measured (asked {seconds:g} s), think {THINK[0]}-{THINK[1]} s"
        )
        errors = report(title, stats, measured)
        ok, lines, _ = check_writes(stats, stored_sessions(target, workdir / "instance"))
        for line in lines:
            print(f"  write check: {line}" if line is lines[0] else line)
        if errors or not ok:
            print(f"  server log without the access lines, last lines:\n{tail(log)}")
        return ok and not errors and ready == users
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_cluster(machines: int, users: int, seconds: float, kill: bool) -> tuple[bool, str]:
    """The deploy/ set-up (tests/cluster.py): nginx with TLS in front of `machines` web
    instances (each in a network namespace of its own where allowed, 2 workers x 4 threads),
    one scheduler, PostgreSQL and Redis. Each patient connects from an address of its own
    (127.77.x.y), so nginx's X-Forwarded-For tells them apart. With `kill`, the last
    instance is killed (SIGKILL) half-way and started again 3 s later."""
    import ssl

    sys.path.insert(0, str(ROOT))
    from tests.cluster import Cluster, ensure_nginx

    ensure_nginx()
    reset_postgres(PG_URL)
    workdir = Path(tempfile.mkdtemp(prefix="pnapp-load-cluster-"))
    prefix = f"pnapp-load-{uuid.uuid4().hex}"
    cluster = Cluster(workdir, PG_URL, prefix, instances=machines, schedulers=1)
    try:
        cluster.start()
        register_patients(cluster.env, users)
        tls = ssl.create_default_context(cafile=str(cluster.cert))
        stats = Stats()
        where = "namespaces" if cluster.namespaces else "loopback ports"
        described = (
            f"{machines} machine{'s' * (machines > 1)} behind nginx ({where}), "
            f"2 workers x 4 threads each{', one killed half-way' if kill else ''}"
        )
        print(f"[cluster] {described}; {users} patients", file=sys.stderr)

        async def during():
            if kill:
                victim = cluster.web[-1]
                await asyncio.sleep(seconds / 2)
                await asyncio.to_thread(victim.process.kill)
                await asyncio.sleep(3)
                await asyncio.to_thread(cluster.restart, victim)

        async def go():
            patients = [
                Patient(n, cluster.base, stats, source=source_address(n), tls=tls)
                for n in range(users)
            ]
            try:
                ready = await log_in_all(patients, stats)
                return await run_loop(ready, seconds, stats, during), len(ready)
            finally:
                await asyncio.gather(*(p.close() for p in patients), return_exceptions=True)

        measured, ready = asyncio.run(go())
        title = f"cluster: {described}; {users} patients ({ready} logged in), {measured:.1f} s"
        errors = report(title, stats, measured)
        ok, lines, counts = check_writes(stats, stored_sessions("postgresql", workdir, PG_URL))
        for line in lines:
            print(f"  write check: {line}" if line is lines[0] else line)
        every = [x for r in LOOP for x in stats.latencies[r]]
        total = sum(stats.requests[r] for r in LOOP)
        summary = (
            f"{machines} machine{'s' * (machines > 1)}: {total / measured:.1f} req/s, "
            f"p95 {percentile(every, 95):.0f} ms, lost {counts['lost']}, doubled "
            f"{counts['doubled']}, errors seen {errors}, writes sent again "
            f"{sum(stats.retries.values())}"
        )
        if not ok:
            print(cluster.logs())
        return ok and ready == users and (kill or not errors), summary
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        import redis

        store = redis.Redis.from_url("redis://127.0.0.1:6379/0")
        for key in store.scan_iter(f"{prefix}*"):
            store.delete(key)


def source_address(number: int) -> str:
    """The address a patient connects from, on the loopback network."""
    return f"127.77.{number // 250 % 256}.{number % 250 + 1}"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200, help="simulated patients")
    parser.add_argument("--seconds", type=float, default=60, help="measured loop time")
    parser.add_argument("--target", choices=("postgresql", "sqlite", "both"), default="both")
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="instead: deploy/'s nginx and web instances, one machine and then two",
    )
    parser.add_argument(
        "--kill", action="store_true", help="with --cluster: SIGKILL one of two instances half-way"
    )
    args = parser.parse_args()
    if not 1 <= args.users <= 5000 or not 0 < args.seconds <= 3600:
        parser.error("--users must be 1-5000 and --seconds 0-3600")
    return args


def main() -> int:
    args = parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    if args.cluster:
        check_local(PG_URL)
        results = [run_cluster(n, args.users, args.seconds, args.kill and n > 1) for n in (1, 2)]
        print("\nOne machine versus two (the same crowd, through nginx):")
        for _, summary in results:
            print(f"  {summary}")
        return 0 if all(ok for ok, _ in results) else 1
    targets = ["postgresql", "sqlite"] if args.target == "both" else [args.target]
    if "postgresql" in targets:
        check_local(PG_URL)
    results = [run_target(t, args.users, args.seconds) for t in targets]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
