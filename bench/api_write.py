"""Write throughput of the API: POST /api/v1/sessions under 32 concurrent patients.

What it measures. For each database (SQLite in a fresh instance folder, and PostgreSQL) it
starts gunicorn as production would (2 workers, 4 threads each) on a free 127.0.0.1 port,
registers 32 patients through the API, then has all 32 post sessions as fast as they can for
--seconds (after a warm-up), each from its own thread and keep-alive connection. With the
same 32 clients against the same server it then measures GET /healthz (one `SELECT 1`), the
cheapest route there is. Per route it prints requests completed in the measured window,
errors (any unexpected status or failed request, warm-up included), req/s, and p50/p95
latency in milliseconds.

How to read it. Absolute figures depend on the machine (and the client threads share its
CPUs with the server), so compare the ratios instead:
  - throughput ratio = POST req/s / healthz req/s: the share of the server's request
    capacity left once each request also validates, inserts and commits a session
    (1.0 would mean writing costs nothing; 0.25 means the server answers four health
    checks in the time it takes to answer one write);
  - p95 ratio = POST p95 / healthz p95: how much slower a write is in the tail.
A drop in the throughput ratio, or a rise in the p95 ratio, between two commits on the same
machine is a regression of the write path. The two routes are measured one after the other,
so run it on an otherwise idle machine: other load during one of them skews the ratio.

Correctness. After each run it counts the rows in massage_sessions: every POST answered with
201 must be stored exactly once (no lost write, no doubled one, no unacknowledged one). The
script exits with status 1 on any error or failed check.

WARNING: with --db postgresql or both (the default) it WIPES the PostgreSQL database at
PNAPP_BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/pnapp_bench): it
creates that database when missing, then drops and recreates its public schema. Never point
it at a database you care about.

    .venv/bin/python bench/api_write.py [--seconds N] [--warmup N] [--db sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from _server import flask, gunicorn, reset_postgres  # noqa: E402

PG_URL = os.environ.get(
    "PNAPP_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/pnapp_bench"
)
CLIENTS = 32
PASSWORD = "bench-password-1234"
REQUEST_TIMEOUT = 30  # seconds; bounds every request, so every client loop ends
POST_ROUTE = "POST /api/v1/sessions"
TRIVIAL_ROUTE = "GET /healthz"


# Preparing the database and the server


def app_env(db: str, instance: Path) -> dict[str, str]:
    """The environment of the app: only what this benchmark sets, nothing inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PNAPP_")}
    env.pop("DATABASE_URL", None)
    env["PNAPP_INSTANCE_PATH"] = str(instance)
    # 32 sign-ups from one address would trip the sign-up limit: this measures writes.
    env["PNAPP_RATELIMIT_ENABLED"] = "false"
    if db == "postgresql":
        env["DATABASE_URL"] = PG_URL
    return env


# Clients


def register_patient(base: str, number: int) -> requests.Session:
    """A logged-in patient whose Session sends the CSRF token with every request."""
    http = requests.Session()
    token = http.get(f"{base}/api/v1/auth/csrf", timeout=REQUEST_TIMEOUT).json()["csrf_token"]
    body = {
        "email": f"bench{number}@example.com",
        "password": PASSWORD,
        "display_name": f"Bench {number}",
        "role": "patient",
        "timezone": "America/Toronto",
    }
    response = http.post(
        f"{base}/api/v1/auth/register",
        json=body,
        headers={"X-CSRFToken": token},
        timeout=REQUEST_TIMEOUT,
    )
    if response.status_code != 201:
        raise RuntimeError(f"register failed: {response.status_code} {response.text[:200]}")
    # Registering starts a new session, and with it a new token.
    token = http.get(f"{base}/api/v1/auth/csrf", timeout=REQUEST_TIMEOUT).json()["csrf_token"]
    http.headers["X-CSRFToken"] = token
    return http


def session_body() -> dict:
    started = datetime.now(UTC) - timedelta(minutes=random.randint(5, 72 * 60))
    return {
        "client_id": str(uuid.uuid4()),
        "started_at": started.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "before": {"pain": random.randint(0, 10), "stress": random.randint(0, 10)},
    }


def post_session(http: requests.Session, base: str) -> tuple[int, str]:
    body = session_body()
    response = http.post(f"{base}/api/v1/sessions", json=body, timeout=REQUEST_TIMEOUT)
    return response.status_code, body["client_id"]


def get_healthz(http: requests.Session, base: str) -> tuple[int, str]:
    return http.get(f"{base}/healthz", timeout=REQUEST_TIMEOUT).status_code, ""


# Measuring


@dataclass
class Tally:
    """What one client saw; merged into the route's result afterwards."""

    latencies: list[float] = field(default_factory=list)  # seconds, measured window only
    errors: Counter = field(default_factory=Counter)  # whole run, warm-up included
    acked: list[str] = field(default_factory=list)  # client_ids answered with 201


@dataclass
class Result:
    db: str
    route: str
    seconds: float
    tally: Tally

    @property
    def requests(self) -> int:
        return len(self.tally.latencies)

    @property
    def errors(self) -> int:
        return sum(self.tally.errors.values())

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: int) -> float:
        """The p-th percentile latency in milliseconds."""
        if len(self.tally.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.tally.latencies, n=100)[p - 1] * 1000


def drive(http, send, base: str, expected: int, warm_end: float, end: float) -> Tally:
    """One client: send requests back to back until `end`; time those that finish in the
    measured window [warm_end, end)."""
    tally = Tally()
    while (start := time.perf_counter()) < end:
        try:
            status, client_id = send(http, base)
        except requests.RequestException as exc:
            status, client_id = type(exc).__name__, ""
        done = time.perf_counter()
        if status != expected:
            tally.errors[status] += 1
        elif status == 201:
            tally.acked.append(client_id)
        if warm_end <= done < end:
            tally.latencies.append(done - start)
    return tally


def measure(db, route, clients, send, base, expected, seconds, warmup) -> Result:
    warm_end = time.perf_counter() + warmup
    end = warm_end + seconds
    with ThreadPoolExecutor(len(clients)) as pool:
        futures = [
            pool.submit(drive, http, send, base, expected, warm_end, end) for http in clients
        ]
        tallies = [f.result() for f in futures]
    merged = Tally()
    for t in tallies:
        merged.latencies += t.latencies
        merged.errors += t.errors
        merged.acked += t.acked
    return Result(db, route, seconds, merged)


# Checking the writes


def stored_client_ids(db: str, instance: Path) -> list[str]:
    query = "SELECT client_id FROM massage_sessions"
    if db == "sqlite":
        with sqlite3.connect(instance / "pnapp.sqlite3") as conn:
            return [row[0] for row in conn.execute(query)]
    import psycopg

    with psycopg.connect(PG_URL) as conn:
        return [row[0] for row in conn.execute(query)]


def check_writes(db: str, acked: list[str], stored: list[str]) -> tuple[bool, str]:
    """Every 201 stored exactly once, and nothing stored that was not acknowledged."""
    acked_set, stored_set = set(acked), set(stored)
    lost = len(acked_set - stored_set)
    unacked = len(stored_set - acked_set)
    doubled = (len(stored) - len(stored_set)) + (len(acked) - len(acked_set))
    ok = len(stored) == len(acked) and not (lost or unacked or doubled)
    line = (
        f"{db}: {len(stored)} rows in massage_sessions, {len(acked)} acknowledged 201s: "
        f"{'OK' if ok else 'FAILED'} (lost {lost}, doubled {doubled}, unacknowledged {unacked})"
    )
    return ok, line


# One database, end to end


def run_db(db: str, seconds: float, warmup: float) -> tuple[list[Result], bool, str]:
    workdir = Path(tempfile.mkdtemp(prefix=f"pnapp-bench-{db}-"))
    instance = workdir / "instance"
    log = workdir / "gunicorn.stderr"
    try:
        if db == "postgresql":
            reset_postgres(PG_URL)
        env = app_env(db, instance)
        flask(env, "init", timeout=120)
        with gunicorn(env, log) as base:
            print(f"[{db}] registering {CLIENTS} patients at {base}", file=sys.stderr)
            with ThreadPoolExecutor(8) as pool:
                clients = list(pool.map(lambda n: register_patient(base, n), range(CLIENTS)))
            try:
                print(f"[{db}] {TRIVIAL_ROUTE} for {warmup}+{seconds} s", file=sys.stderr)
                trivial = measure(
                    db, TRIVIAL_ROUTE, clients, get_healthz, base, 200, seconds, warmup
                )
                print(f"[{db}] {POST_ROUTE} for {warmup}+{seconds} s", file=sys.stderr)
                post = measure(db, POST_ROUTE, clients, post_session, base, 201, seconds, warmup)
            finally:
                for http in clients:
                    http.close()
        ok, line = check_writes(db, post.tally.acked, stored_client_ids(db, instance))
        results = [post, trivial]
        if not ok or any(r.errors for r in results):
            report_server_log(db, log, results)
        return results, ok, line
    except Exception:
        if log.exists():
            report_server_log(db, log, [])
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def report_server_log(db: str, log: Path, results: list[Result]) -> None:
    for r in results:
        if r.errors:
            print(f"[{db}] {r.route} errors by status: {dict(r.tally.errors)}", file=sys.stderr)
    lines = log.read_text(errors="replace").splitlines()
    print(f"[{db}] gunicorn stderr (last 60 of {len(lines)} lines):", file=sys.stderr)
    for line in lines[-60:]:
        print(f"    {line}", file=sys.stderr)


# Output


def print_table(results: list[Result]) -> None:
    header = f"{'db':<11}{'route':<23}{'requests':>9}{'errors':>8}{'req/s':>9}"
    print(header + f"{'p50 ms':>9}{'p95 ms':>9}")
    for r in results:
        print(
            f"{r.db:<11}{r.route:<23}{r.requests:>9}{r.errors:>8}{r.rate:>9.1f}"
            f"{r.percentile(50):>9.1f}{r.percentile(95):>9.1f}"
        )


def print_ratios(results: list[Result]) -> None:
    by_key = {(r.db, r.route): r for r in results}
    for db in dict.fromkeys(r.db for r in results):
        post, trivial = by_key[(db, POST_ROUTE)], by_key[(db, TRIVIAL_ROUTE)]
        rate = post.rate / trivial.rate if trivial.rate else float("nan")
        p95 = post.percentile(95) / trivial.percentile(95)
        print(f"{db}: POST/healthz throughput ratio {rate:.2f}, p95 ratio {p95:.2f}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="measured time per route")
    parser.add_argument("--warmup", type=float, default=2, help="unmeasured time before it")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results: list[Result] = []
    checks: list[tuple[bool, str]] = []
    for db in dbs:
        db_results, ok, line = run_db(db, args.seconds, args.warmup)
        results += db_results
        checks.append((ok, line))
    print(f"\n{CLIENTS} clients, gunicorn 2 workers x 4 threads, {args.seconds:g} s per route")
    print_table(results)
    print()
    print_ratios(results)
    print()
    for _, line in checks:
        print(f"write check {line}")
    failed = any(r.errors for r in results) or not all(ok for ok, _ in checks)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
