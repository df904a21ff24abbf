"""Reminder fan-out: the app's send_due_reminders(now) against a plain pywebpush loop.

What it measures, per database (SQLite in a temporary file, PostgreSQL in a scratch database):

  (a) app       10,000 (--patients) patients whose weekly reminder is due, each with one
                subscription, go through `pnapp.reminders.send_due_reminders(now)` inside an
                app context: planning (Delivery rows), claiming, encrypting, signing, POSTing
                and recording, exactly as the scheduler runs it.
  (b) baseline  the same subscriptions, payload size, TTL, Topic, Urgency and VAPID key sent
                by a ThreadPoolExecutor(16) calling `pywebpush.webpush` directly with one
                shared requests.Session: the cost of the pushes alone, no database.
                Baseline and app alternate for --rounds rounds (the database is put back
                between rounds: everyone due again, no deliveries); the table shows the
                median round of each, since other load on the machine moves both.
  (c) query     PostgreSQL only: with 100,000 (--population) patients of whom 1,000 (--due)
                are due, the due-patient selection of plan_weekly (the very statement the app
                builds: reminder_enabled AND next_reminder_at <= now ORDER BY next_reminder_at
                LIMIT 500 FOR UPDATE SKIP LOCKED), run in a transaction that is rolled back;
                its EXPLAIN (ANALYZE, BUFFERS) and the median of --runs timed runs.

The push service is a separate process on 127.0.0.1 (a ThreadingHTTPServer answering 201
without decrypting) so that it does not share the sender's interpreter lock. It counts the
POSTs per endpoint: every due patient must have received exactly one message, or the script
exits with status 1. Every subscription shares one key pair (only the endpoint differs), which
saves making 10,000 keys and changes nothing in the sender's work.

  (d) mail      10,000 (--mail-patients) due patients with no device and a confirmed address:
                their reminders go by e-mail through `send_due_reminders(now)` (planning,
                claiming, writing each mail in the person's language with its unsubscribe
                token, SMTP, recording) to a local SMTP server (aiosmtpd in a process of its
                own, counting messages per recipient). Baseline: a plain smtplib loop over one
                connection that builds each mail with EmailMessage (text and HTML of the same
                size, the same headers), as RECIPES.md's mailer does, and sends it. Rounds
                alternate as in (a) and (b); every patient must get exactly one mail.

Targets: app/baseline throughput >= 0.85; 10,000 reminders in < 30 s; query median < 50 ms;
mail: app/baseline >= 0.85 and 10,000 mails in < 60 s.

WARNING: with --db postgresql or both (the default) it WIPES the PostgreSQL database at
PNAPP_BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/pnapp_bench): it
creates that database when missing, then drops and recreates its public schema. Never point
it at a database you care about, and do not run it while bench/api_write.py uses the same
database.

    .venv/bin/python bench/reminders.py [--patients 10000] [--db sqlite|postgresql|both]
        [--mail-patients 10000] [--only push|mail]
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from _server import flask, free_port, reset_postgres  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_URL = os.environ.get(
    "PNAPP_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/pnapp_bench"
)
# Monday 2026-11-16 09:00 in Toronto: everyone's reminder; the pass runs a minute later.
DUE = datetime(2026, 11, 16, 14, tzinfo=UTC)
NOW = DUE + timedelta(minutes=1)
WORKERS = 16  # the app's send_pending default, and the baseline's pool
TIMEOUT_S = 10
INSERT_CHUNK = 5000
SERVER_START_TIMEOUT = 10
TARGET_RATIO = 0.85
TARGET_SECONDS = 30.0
TARGET_QUERY_MS = 50.0
TARGET_MAIL_SECONDS = 60.0


# The push service: a separate process that counts


def _push_service(port_out, stop) -> None:
    """Answer every POST with 201 and count it per path; GET /counts reports, POST /reset
    clears. Runs until `stop` is set."""
    counts: Counter = Counter()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            if self.path == "/reset":
                with lock:
                    counts.clear()
                self._answer(204)
                return
            with lock:
                counts[self.path] += 1
            self._answer(201)

        def do_GET(self):  # noqa: N802
            with lock:
                body = json.dumps(dict(counts)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 128
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port_out.send(server.server_port)
    stop.wait()
    server.shutdown()
    server.server_close()


class PushService:
    def __init__(self):
        ctx = multiprocessing.get_context("spawn")
        receiver, sender = ctx.Pipe(duplex=False)
        self.stop = ctx.Event()
        self.process = ctx.Process(target=_push_service, args=(sender, self.stop), daemon=True)
        self.process.start()
        if not receiver.poll(SERVER_START_TIMEOUT):
            self.close()
            raise RuntimeError("the push service did not start")
        self.base = f"http://127.0.0.1:{receiver.recv()}"

    def counts(self) -> Counter:
        import requests

        return Counter(requests.get(f"{self.base}/counts", timeout=TIMEOUT_S).json())

    def reset(self) -> None:
        import requests

        requests.post(f"{self.base}/reset", timeout=TIMEOUT_S).raise_for_status()

    def close(self) -> None:
        self.stop.set()
        self.process.join(5)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)


# The mail server: aiosmtpd in a process of its own, counting what each recipient gets


def _smtp_service(control) -> None:
    """Accept every message and count it per recipient; answer "counts", "reset" and "stop"
    on the `control` pipe."""
    from aiosmtpd.controller import Controller

    counts: Counter = Counter()
    lock = threading.Lock()

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            with lock:
                counts.update(envelope.rcpt_tos)
            return "250 Message accepted"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    control.send(port)
    while (command := control.recv()) != "stop":
        with lock:
            control.send(dict(counts))
            if command == "reset":
                counts.clear()
    controller.stop()


class SmtpService:
    def __init__(self):
        ctx = multiprocessing.get_context("spawn")
        self.control, child = ctx.Pipe()
        self.process = ctx.Process(target=_smtp_service, args=(child,), daemon=True)
        self.process.start()
        if not self.control.poll(SERVER_START_TIMEOUT):
            self.close()
            raise RuntimeError("the SMTP server did not start")
        self.port = self.control.recv()

    def counts(self) -> Counter:
        self.control.send("counts")
        return Counter(self.control.recv())

    def reset(self) -> None:
        self.control.send("reset")
        self.control.recv()

    def close(self) -> None:
        if self.process.is_alive():
            self.control.send("stop")
        self.process.join(5)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)


# Databases


def sqlalchemy_url(db: str, scratch: Path) -> str:
    if db == "sqlite":
        return f"sqlite:///{scratch / 'bench.sqlite3'}"
    return "postgresql+psycopg://" + PG_URL.split("://", 1)[1]


def init_schema(db: str, instance: Path, url: str) -> None:
    """`flask --app pnapp init`: the migrations, and the VAPID key in the instance folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PNAPP_")}
    env |= {
        "DATABASE_URL": url,
        "PNAPP_INSTANCE_PATH": str(instance),
        "PNAPP_PUSH_ALLOWED_HOSTS": "127.0.0.1",
    }
    flask(env, "init", timeout=120)


def make_app(instance: Path, url: str, smtp_port: int):
    os.environ["PNAPP_INSTANCE_PATH"] = str(instance)
    from pnapp import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "PUSH_ALLOWED_HOSTS": "127.0.0.1",
            "PUBLIC_URL": "https://pnapp.example",
            "VAPID_SUBJECT": "mailto:bench@pnapp.example",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp_port,
        }
    )


def subscriber_keys() -> dict[str, str]:
    """One browser key pair and auth secret, shared by every subscription."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return {"p256dh": b64(point), "auth": b64(os.urandom(16))}


def user_rows(start: int, count: int, hashed: str, due_at, verified: bool = False) -> list[dict]:
    return [
        {
            "email_verified": verified,
            "email": f"p{i}@bench.example",
            "password_hash": hashed,
            "display_name": f"P{i}",
            "role": "patient",
            "timezone": "America/Toronto",
            "weekly_goal": 1,
            "reminder_enabled": True,
            "reminder_weekday": 0,
            "reminder_time": "09:00",
            "next_reminder_at": due_at(i),
            "created_at": DUE - timedelta(days=30),
        }
        for i in range(start, start + count)
    ]


def insert_due_patients(app, patients: int, push_base: str | None, keys: dict) -> list[dict]:
    """`patients` due patients, each with one subscription; returns the subscriptions. With
    no `push_base`: no device, and a confirmed address (their reminder goes by mail)."""
    from sqlalchemy import insert

    from pnapp.extensions import db
    from pnapp.models import PushSubscription, User, accounts

    subs = []
    with app.app_context():
        hashed = accounts._hasher.hash("not used here")
        for start in range(0, patients, INSERT_CHUNK):
            count = min(INSERT_CHUNK, patients - start)
            ids = (
                db.session.execute(
                    insert(User).returning(User.id),
                    user_rows(start, count, hashed, lambda i: DUE, verified=push_base is None),
                )
                .scalars()
                .all()
            )
            if push_base is None:
                continue
            rows = [
                {
                    "user_id": uid,
                    "endpoint": f"{push_base}/push/u{uid}",
                    "p256dh": keys["p256dh"],
                    "auth": keys["auth"],
                    "failures": 0,
                    "created_at": DUE - timedelta(days=30),
                }
                for uid in ids
            ]
            db.session.execute(insert(PushSubscription), rows)
            subs += [{"endpoint": r["endpoint"], "keys": keys} for r in rows]
        db.session.commit()
        db.session.remove()
    return subs


# (a) and (b)


@dataclass
class Run:
    messages: int = 0
    seconds: float = 0.0
    ok: int = 0
    detail: dict = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


def run_app(app) -> Run:
    from pnapp.extensions import db
    from pnapp.reminders import send_due_reminders

    with app.app_context():
        started = time.perf_counter()
        report = send_due_reminders(NOW)
        seconds = time.perf_counter() - started
        db.session.remove()
    return Run(
        messages=sum(sum(answers.values()) for answers in report.outcomes.values()),
        seconds=seconds,
        ok=report.sent,
        detail={
            "planned": report.planned,
            "sent": report.sent,
            "retried": report.retried,
            "failed": report.failed,
        },
    )


def weekly_payload(app) -> str:
    """The app's own weekly payload, serialised as push.send does."""
    from pnapp.reminders import WEEKLY, payload

    with app.app_context():
        body = payload(WEEKLY, tag="weekly-2026W47", path="/sessions/new", language="en")
    return json.dumps(body, separators=(",", ":"))


def run_baseline(app, subs: list[dict], data: str) -> Run:
    """pywebpush.webpush straight over the subscriptions: 16 threads, one session."""
    import requests
    from pywebpush import webpush

    from pnapp.reminders import TTL, WEEKLY
    from pnapp.reminders.channels import push

    vapid = push.load_vapid(app)
    subject = app.config["VAPID_SUBJECT"]
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=WORKERS, pool_maxsize=WORKERS)
    session.mount("http://", adapter)
    session.mount("https://", adapter)

    def one(sub: dict) -> int:
        response = webpush(
            sub,
            data=data,
            vapid_private_key=vapid,
            vapid_claims={"sub": subject},
            ttl=TTL[WEEKLY],
            headers={"Topic": "weekly-2026W47", "Urgency": "normal"},
            timeout=TIMEOUT_S,
            requests_session=session,
        )
        return response.status_code

    try:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            started = time.perf_counter()
            statuses = Counter(pool.map(one, subs))
            seconds = time.perf_counter() - started
    finally:
        session.close()
    return Run(len(subs), seconds, statuses.get(201, 0), {"statuses": dict(statuses)})


def exactly_once(counts: Counter, subs: list[dict], push_base: str) -> str | None:
    """None when each subscription got exactly one message, else what went wrong."""
    expected = {s["endpoint"].removeprefix(push_base) for s in subs}
    missing = expected - set(counts)
    extra = set(counts) - expected
    repeated = sum(1 for n in counts.values() if n > 1)
    if missing or extra or repeated:
        return f"{len(missing)} missing, {len(extra)} unexpected, {repeated} repeated"
    return None


# (d)


def mail_parts(app) -> tuple[str, str, str]:
    """The subject, text and HTML of the app's own weekly reminder mail, for the baseline
    to send the same bytes' worth."""
    from pnapp.models import User
    from pnapp.reminders import WEEKLY
    from pnapp.reminders.mails import render

    with app.app_context():
        person = User(id=1, email="p0@bench.example", display_name="P0", language="en")
        msg = render(WEEKLY, person, "https://pnapp.example/sessions/new")
        text, html = (part.get_payload(decode=True).decode() for part in msg.get_payload())
        return str(msg["Subject"]), text, html


def run_mail_baseline(app, port: int, patients: int, parts: tuple[str, str, str]) -> Run:
    """A plain smtplib loop: one connection, each mail built with EmailMessage and sent."""
    import smtplib
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    subject, text, html = parts
    sender = app.config["MAIL_FROM"]
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=TIMEOUT_S) as smtp:
        for i in range(patients):
            msg = EmailMessage()
            msg["From"] = sender
            msg["To"] = f"p{i}@bench.example"
            msg["Subject"] = subject
            msg["Date"] = formatdate(usegmt=True)
            msg["Message-ID"] = make_msgid(domain="pnapp.example")
            msg["Auto-Submitted"] = "auto-generated"
            msg["List-Unsubscribe"] = f"<https://pnapp.example/unsubscribe/{i:0>90}>"
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            msg.set_content(text)
            msg.add_alternative(html, subtype="html")
            smtp.send_message(msg)
    return Run(patients, time.perf_counter() - started, patients)


def empty(app) -> None:
    """No patient, device or delivery left: what each part of the bench starts from."""
    from sqlalchemy import text

    from pnapp.extensions import db as sqla

    with app.app_context():
        for table in ("deliveries", "push_subscriptions", "users"):
            sqla.session.execute(text(f"DELETE FROM {table}"))
        sqla.session.commit()
        sqla.session.remove()


def bench_mail(app, db: str, patients: int, smtp: SmtpService, rounds: int) -> dict:
    """(d): the same app and database, emptied, with `patients` due patients and no device."""

    empty(app)
    print(f"[{db}] mail: inserting {patients} due patients with no device ...", flush=True)
    insert_due_patients(app, patients, None, {})
    parts = mail_parts(app)
    expected = {f"p{i}@bench.example" for i in range(patients)}

    def exactly_once_each() -> str | None:
        counts = smtp.counts()
        smtp.reset()
        missing, extra = expected - set(counts), set(counts) - expected
        repeated = sum(1 for n in counts.values() if n > 1)
        if missing or extra or repeated:
            return f"{len(missing)} missing, {len(extra)} unexpected, {repeated} repeated"
        return None

    run_mail_baseline(app, smtp.port, min(500, patients), parts)  # warm-up
    smtp.reset()
    baselines, apps, errors = [], [], []
    for round_ in range(1, rounds + 1):
        if round_ > 1:
            reset_round(app, db)
        print(f"[{db}] mail round {round_}: baseline smtplib loop ...", flush=True)
        baselines.append(run_mail_baseline(app, smtp.port, patients, parts))
        if problem := exactly_once_each():
            errors.append(f"mail baseline round {round_}: {problem}")
        print(f"[{db}] mail round {round_}: app send_due_reminders ...", flush=True)
        apps.append(run_app(app))
        if problem := exactly_once_each():
            errors.append(f"mail app round {round_}: {problem}")
        if apps[-1].ok != patients:
            errors.append(f"mail app round {round_}: {apps[-1].detail}")
    return {"patients": patients, "apps": apps, "baselines": baselines, "errors": errors}


# (c)


def bench_query(app, population: int, due: int, runs: int) -> dict:
    """The due-patient selection of plan_weekly among `population` patients."""
    from sqlalchemy import insert, select, text

    from pnapp.extensions import db
    from pnapp.models import User, accounts
    from pnapp.reminders import BATCH

    # The statement plan_weekly runs (pnapp/reminders/planning.py), built the same way.
    stmt = (
        select(User)
        .where(User.reminder_enabled, User.next_reminder_at <= NOW)
        .order_by(User.next_reminder_at)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    with app.app_context():
        tables = ", ".join(t.name for t in db.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.session.commit()
        hashed = accounts._hasher.hash("not used here")
        step = max(1, population // max(1, due))

        def due_at(i: int) -> datetime:
            # Every step-th patient is due (spread over the last hour); the rest come due
            # at some point of the coming week.
            if i % step == 0 and i // step < due:
                return NOW - timedelta(seconds=(i * 7) % 3600)
            return NOW + timedelta(seconds=60 + (i * 7919) % (7 * 24 * 3600))

        started = time.perf_counter()
        for start in range(0, population, INSERT_CHUNK * 2):
            count = min(INSERT_CHUNK * 2, population - start)
            db.session.execute(insert(User), user_rows(start, count, hashed, due_at))
        db.session.commit()
        inserted = time.perf_counter() - started
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE users"))
        due_count = db.session.scalar(
            select(db.func.count()).select_from(User).where(User.next_reminder_at <= NOW)
        )
        db.session.rollback()

        compiled = stmt.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
        sql = str(compiled)
        with db.engine.connect() as conn:
            plan = conn.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")).scalars().all()
            conn.rollback()

            timings = []
            rows = 0
            for i in range(runs + 2):  # two warm-up runs
                with conn.begin() as tx:
                    t0 = time.perf_counter()
                    rows = len(conn.execute(stmt).all())
                    elapsed = (time.perf_counter() - t0) * 1000
                    tx.rollback()
                if i >= 2:
                    timings.append(elapsed)
        db.session.remove()
    return {
        "population": population,
        "due": due_count,
        "rows": rows,
        "insert_s": inserted,
        "sql": sql,
        "plan": plan,
        "timings_ms": timings,
        "median_ms": statistics.median(timings),
    }


# Driver


def reset_round(app, db: str) -> None:
    """Undo a pass: every patient due again, no deliveries, subscriptions as inserted."""
    from sqlalchemy import text

    from pnapp.extensions import db as sqla

    with app.app_context():
        sqla.session.execute(text("DELETE FROM deliveries"))
        sqla.session.execute(text("UPDATE users SET next_reminder_at = :due"), {"due": DUE})
        sqla.session.execute(
            text("UPDATE push_subscriptions SET last_success_at = NULL, failures = 0")
        )
        sqla.session.commit()
        if db == "postgresql":
            with sqla.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM (ANALYZE) deliveries, users, push_subscriptions"))
        sqla.session.remove()


def bench_db(
    db: str, patients: int, push: PushService, smtp: SmtpService, keys: dict, args
) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"pnapp-bench-{db}-") as scratch_dir:
        scratch = Path(scratch_dir)
        instance = scratch / "instance"
        url = sqlalchemy_url(db, scratch)
        if db == "postgresql":
            reset_postgres(PG_URL)
        init_schema(db, instance, url)
        app = make_app(instance, url, smtp.port)
        try:
            mail = None
            if args.only in (None, "mail"):
                mail = bench_mail(app, db, args.mail_patients, smtp, args.rounds)
            if args.only == "mail":
                return {"db": db, "mail": mail, "errors": mail["errors"]}
            empty(app)  # the mail part's patients
            print(f"[{db}] inserting {patients} due patients ...", flush=True)
            t0 = time.perf_counter()
            subs = insert_due_patients(app, patients, push.base, keys)
            print(f"[{db}]   done in {time.perf_counter() - t0:.1f} s", flush=True)
            data = weekly_payload(app)

            errors = []
            # Warm-up: imports, connection pools, the push service's threads.
            run_baseline(app, subs[: min(500, len(subs))], data)
            push.reset()
            baselines, apps = [], []
            for round_ in range(1, args.rounds + 1):
                if round_ > 1:
                    reset_round(app, db)
                print(f"[{db}] round {round_}: baseline ...", flush=True)
                baselines.append(run_baseline(app, subs, data))
                if problem := exactly_once(push.counts(), subs, push.base):
                    errors.append(f"baseline round {round_}: {problem}")
                if baselines[-1].ok != len(subs):
                    errors.append(f"baseline round {round_}: {baselines[-1].detail}")
                push.reset()
                print(f"[{db}] round {round_}: app send_due_reminders ...", flush=True)
                apps.append(run_app(app))
                if problem := exactly_once(push.counts(), subs, push.base):
                    errors.append(f"app round {round_}: {problem}")
                if apps[-1].ok != patients:
                    errors.append(f"app round {round_}: {apps[-1].ok} of {patients} sent")
                push.reset()

            query = None
            if db == "postgresql" and not args.skip_query:
                print(f"[{db}] query: {args.population} patients, {args.due} due ...", flush=True)
                query = bench_query(app, args.population, args.due, args.runs)
            return {
                "db": db,
                "patients": patients,
                "payload_bytes": len(data),
                "apps": apps,
                "baselines": baselines,
                "query": query,
                "mail": mail,
                "errors": errors + (mail["errors"] if mail else []),
            }
        finally:
            from pnapp.extensions import db as sqla

            with app.app_context():
                sqla.session.remove()
                sqla.engine.dispose()


def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def median_run(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]


def table(title: str, columns: list[str]):
    """Print a title and a header with one column per database; return the row printer."""
    print()
    print(title)
    header = f"{'':36}" + "".join(f"{c:>14}" for c in columns)
    print(header)
    print("-" * len(header))

    def line(label, values):
        print(f"{label:36}" + "".join(f"{v:>14}" for v in values))

    return line


def medians(rounds: list[dict]) -> tuple[list[Run], list[Run], list[float]]:
    """Per database: the median app run, the median baseline run, and their ratio."""
    apps = [median_run(r["apps"]) for r in rounds]
    bases = [median_run(r["baselines"]) for r in rounds]
    ratios = [a.rate / b.rate if b.rate else 0.0 for a, b in zip(apps, bases, strict=True)]
    return apps, bases, ratios


def compare(line, labels: tuple[str, str], unit: str, rounds: list[dict]) -> None:
    """The app's and the baseline's median seconds and throughput, their ratio and verdict."""
    apps, bases, ratios = medians(rounds)
    for label, runs in zip(labels, (apps, bases), strict=True):
        line(f"{label} (s)", [f"{r.seconds:.2f}" for r in runs])
        short = " ".join(label.split(" ")[:2])  # "(d) app"
        line(f"{short} throughput ({unit}/s)", [f"{r.rate:.0f}" for r in runs])
    line("ratio app / baseline", [f"{x:.2f}" for x in ratios])
    line(f"  target ratio >= {TARGET_RATIO}", [verdict(x >= TARGET_RATIO) for x in ratios])


def print_rounds(db: str, rounds: dict) -> None:
    listed = "; ".join(
        f"app {a.seconds:.2f} s / baseline {b.seconds:.2f} s = {b.seconds / a.seconds:.2f}"
        for a, b in zip(rounds["apps"], rounds["baselines"], strict=True)
    )
    print(f"  [{db}] rounds: {listed}")


def print_mail_results(results: list[dict]) -> None:
    results = [r for r in results if r.get("mail")]
    if not results:
        return
    line = table(
        "Reminder mail: send_due_reminders (16 sending threads, SMTP sessions reused) against "
        "a plain smtplib loop; aiosmtpd in its own process; medians of the rounds",
        [r["db"] for r in results],
    )
    mail = [r["mail"] for r in results]
    apps = medians(mail)[0]
    line("due patients = mails per round", [m["patients"] for m in mail])
    compare(line, ("(d) app send_due_reminders", "(d) baseline smtplib loop"), "mail", mail)
    per_10k = [a.seconds * 10000 / m["patients"] for a, m in zip(apps, mail, strict=True)]
    line(
        f"  target < {TARGET_MAIL_SECONDS:.0f} s per 10,000",
        [verdict(x < TARGET_MAIL_SECONDS) for x in per_10k],
    )
    line("exactly one mail each", [verdict(not m["errors"]) for m in mail])
    for r in results:
        for error in r["mail"]["errors"]:
            print(f"  [{r['db']}] ERROR {error}")
        print_rounds(r["db"], r["mail"])


def print_results(results: list[dict]) -> None:
    print_mail_results(results)
    results = [r for r in results if "apps" in r]
    if not results:
        return
    line = table(
        "Reminder fan-out: 16 sending threads; push service in its own process (201, counts); "
        "baseline and app alternate, medians of the rounds",
        [r["db"] for r in results],
    )
    apps = medians(results)[0]
    line("due patients = messages per round", [r["patients"] for r in results])
    line("rounds", [len(r["apps"]) for r in results])
    line("payload plaintext (bytes)", [r["payload_bytes"] for r in results])
    compare(line, ("(a) app send_due_reminders", "(b) baseline pywebpush loop"), "msg", results)
    line(
        f"  target < {TARGET_SECONDS:.0f} s per 10,000",
        [
            verdict(a.seconds * 10000 / r["patients"] < TARGET_SECONDS)
            for a, r in zip(apps, results, strict=True)
        ],
    )
    line("exactly one message each, all 201", [verdict(not r["errors"]) for r in results])
    for r in results:
        for error in r["errors"]:
            print(f"  [{r['db']}] ERROR {error}")
        print_rounds(r["db"], r)
        print(f"  [{r['db']}] app report (median round): {median_run(r['apps']).detail}")

    for r in results:
        q = r["query"]
        if not q:
            continue
        print()
        print(
            f"(c) due-patient selection on {r['db']}: {q['population']} patients, "
            f"{q['due']} due, {q['rows']} rows returned (LIMIT 500); inserted in "
            f"{q['insert_s']:.1f} s"
        )
        print(f"  {q['sql']}".replace("\n", " "))
        print("  EXPLAIN (ANALYZE, BUFFERS):")
        for row in q["plan"]:
            print(f"    {row}")
        timings = ", ".join(f"{t:.1f}" for t in q["timings_ms"])
        print(f"  timed runs, statement + fetch in a rolled-back transaction (ms): {timings}")
        print(
            f"  median {q['median_ms']:.2f} ms   target < {TARGET_QUERY_MS:.0f} ms: "
            f"{verdict(q['median_ms'] < TARGET_QUERY_MS)}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=10000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--population", type=int, default=100000, help="(c) patients in all")
    parser.add_argument("--due", type=int, default=1000, help="(c) of which due")
    parser.add_argument("--runs", type=int, default=9, help="(c) timed runs")
    parser.add_argument("--rounds", type=int, default=3, help="(a)+(b) rounds, medians shown")
    parser.add_argument("--skip-query", action="store_true", help="leave out (c)")
    parser.add_argument("--mail-patients", type=int, default=10000, help="(d) due patients")
    parser.add_argument("--only", choices=("push", "mail"), help="only (a)-(c), or only (d)")
    args = parser.parse_args()
    if (
        min(args.patients, args.runs, args.rounds, args.mail_patients) < 1
        or not 0 < args.due <= args.population
    ):
        parser.error(
            "--patients, --mail-patients, --runs, --rounds must be positive; "
            "0 < --due <= --population"
        )

    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    keys = subscriber_keys()
    push = PushService()
    smtp = SmtpService()
    results = []
    try:
        for db in dbs:
            results.append(bench_db(db, args.patients, push, smtp, keys, args))
    finally:
        push.close()
        smtp.close()
    print_results(results)
    return 1 if any(r["errors"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
