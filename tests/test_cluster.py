"""The documented deployment, run for real: nginx (deploy/nginx/pnapp.conf, with TLS) in
front of two web instances (deploy/systemd/pnapp-web.service, each in a network namespace of
its own where this machine allows it), two schedulers (pnapp-scheduler.service), one
environment file (deploy/pnapp.env.example), PostgreSQL and Redis (tests/cluster.py).

What an operator would notice is what is checked: logins and limits hold across machines,
a machine that dies or restarts under load loses and doubles no write, two schedulers send
one reminder per person and week, /metrics and /healthz?deep=1 tell the truth to operators
and nothing to others, and the logs name routes and request ids but never a person.

The crowd is bench/load.py's, smaller and shorter here (PNAPP_CLUSTER_USERS patients,
PNAPP_CLUSTER_SECONDS per phase; bench/load.py --cluster runs 200 for 60 s).

The cluster needs a database server that several machines share: it runs in the
PostgreSQL run of the suite (on a scratch database named after the suite's, plus
"_cluster"); the SQLite run has no such server and does not run it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import signal
import ssl
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from requests.adapters import HTTPAdapter

from tests.cluster import ROOT, Cluster, ensure_nginx
from tests.conftest import DB, PG_URL, add_due_patients

sys.path.insert(0, str(ROOT / "bench"))
import load  # noqa: E402  (bench/load.py: the crowd and the write check)
from _server import reset_postgres  # noqa: E402

pytestmark = pytest.mark.skipif(
    DB != "postgresql",
    reason="the cluster shares one PostgreSQL server between machines: PostgreSQL run only",
)

USERS = int(os.environ.get("PNAPP_CLUSTER_USERS", "40"))
SECONDS = float(os.environ.get("PNAPP_CLUSTER_SECONDS", "15"))
LATE = 4  # PNAPP_HEALTH_SCHEDULER_LATE_SECONDS here: a stopped scheduler is late quickly
REDIS_URL = os.environ.get("PNAPP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REPORT = ROOT / "test-artifacts" / "cluster-report.txt"


@pytest.fixture(autouse=True)
def _clean_tables():
    """Overrides the suite's cleaner: the cluster has a database of its own."""
    yield


@pytest.fixture(scope="module")
def cluster_db() -> str:
    name = f"{urlsplit(PG_URL).path.lstrip('/') or 'test'}_cluster"
    url = urlsplit(PG_URL)._replace(path=f"/{name}").geturl()
    reset_postgres(url)
    return url


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, cluster_db):
    """The cluster, for every test of this module; stopped (namespaces removed, Redis keys
    deleted) however they end."""
    import redis

    ensure_nginx()
    prefix = f"pnapp-cluster-{uuid.uuid4().hex}"
    made = Cluster(
        tmp_path_factory.mktemp("cluster"),
        cluster_db,
        prefix,
        scheduler_interval=1,
        settings={"PNAPP_HEALTH_SCHEDULER_LATE_SECONDS": str(LATE)},
    )
    try:
        made.start()
        load.register_patients(made.env, USERS)
        yield made
    finally:
        made.stop()
        print(made.logs())
        store = redis.Redis.from_url(REDIS_URL)
        for key in store.scan_iter(f"{prefix}*"):
            store.delete(key)


# Clients


class FromAddress(HTTPAdapter):
    """Connect from one loopback address, so nginx sees a client of its own."""

    def __init__(self, source: str):
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def browser(cluster: Cluster, source: str) -> requests.Session:
    """A phone at `source`, talking to nginx over HTTPS like a browser (Referer included)."""
    http = requests.Session()
    http.mount("https://", FromAddress(source))
    http.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would win over verify
    http.verify = str(cluster.cert)
    http.headers["Referer"] = f"{cluster.base}/"
    return http


def api(http: requests.Session, cluster: Cluster, method: str, path: str, body=None):
    token = http.get(f"{cluster.base}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
    return http.request(
        method,
        f"{cluster.base}/api/v1{path}",
        json=body,
        headers={"X-CSRFToken": token},
        timeout=10,
    )


class Direct:
    """A client of one instance at a time, by its address inside the cluster (plain HTTP),
    carrying the login cookie itself: the cookie is Secure, made for HTTPS."""

    def __init__(self):
        self.cookie = ""
        self.token = ""

    def call(self, web, method: str, path: str, body=None) -> requests.Response:
        headers = {"Cookie": f"pnapp_session={self.cookie}"} if self.cookie else {}
        if method != "GET":
            headers["X-CSRFToken"] = self.token
        response = requests.request(
            method, f"{web.base}/api/v1{path}", json=body, headers=headers, timeout=10
        )
        self.cookie = response.cookies.get("pnapp_session", self.cookie)
        if path == "/auth/csrf":
            self.token = response.json()["csrf_token"]
        return response


def register(web, email: str) -> Direct:
    client = Direct()
    client.call(web, "GET", "/auth/csrf")
    body = {
        "email": email,
        "password": "cluster-password-1",
        "display_name": "Cluster",
        "role": "patient",
        "timezone": "America/Toronto",
    }
    response = client.call(web, "POST", "/auth/register", body)
    assert response.status_code == 201, response.text
    client.call(web, "GET", "/auth/csrf")  # a new session, a new token
    return client


def scrape(cluster: Cluster, web) -> dict[str, list]:
    """An instance's /metrics, read by prometheus_client's own parser: samples by name."""
    response = cluster.direct(web, "/metrics")
    assert response.status_code == 200, response.text
    assert "Set-Cookie" not in response.headers
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return sum(
        s.value
        for s in samples.get(name, [])
        if all(s.labels.get(k) == v for k, v in labels.items())
    )


def logins_seen(cluster: Cluster, web, status: str) -> float:
    samples = scrape(cluster, web)
    return value(samples, "pnapp_http_requests_total", route="/api/v1/auth/login", status=status)


# Logins and limits across machines


def test_a_login_made_through_one_instance_is_valid_on_the_other(cluster):
    a, b = cluster.web
    alice = register(a, "alice.cluster@example.com")
    me = alice.call(b, "GET", "/me")
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "alice.cluster@example.com"
    # And ending it on b ends it on a.
    alice.call(b, "GET", "/auth/csrf")
    assert alice.call(b, "POST", "/auth/logout").status_code == 204
    assert alice.call(a, "GET", "/me").status_code == 401


def test_the_per_address_limit_holds_across_both_instances(cluster):
    before = [logins_seen(cluster, web, "401") for web in cluster.web]
    http = browser(cluster, "127.66.0.1")
    token = http.get(f"{cluster.base}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
    wrong = {"email": "nobody.cluster@example.com", "password": "a wrong password"}
    statuses = [
        http.post(
            f"{cluster.base}/api/v1/auth/login",
            json=wrong,
            headers={"X-CSRFToken": token},
            timeout=10,
        ).status_code
        for _ in range(12)
    ]
    # 10 a minute for one address, whichever instance answers.
    assert statuses == [401] * 10 + [429] * 2
    after = [logins_seen(cluster, web, "401") for web in cluster.web]
    assert all(n > m for n, m in zip(after, before, strict=True)), "both instances answered"
    # Another address is not held back by this one's count.
    other = browser(cluster, "127.66.0.2")
    assert api(other, cluster, "POST", "/auth/login", wrong).status_code == 401


def test_the_per_account_pause_holds_across_both_instances(cluster):
    a, b = cluster.web
    register(a, "bob.cluster@example.com")
    wrong = {"email": "bob.cluster@example.com", "password": "not bob's password"}
    for n in range(10):  # ten addresses: no per-address limit is reached
        http = browser(cluster, f"127.66.1.{n + 1}")
        assert api(http, cluster, "POST", "/auth/login", wrong).status_code == 401
    right = {"email": "bob.cluster@example.com", "password": "cluster-password-1"}
    for web in (a, b):
        client = Direct()
        client.call(web, "GET", "/auth/csrf")
        assert client.call(web, "POST", "/auth/login", right).status_code == 429


# Under load: a machine killed, then a rolling restart


def crowd_phase(cluster: Cluster, during) -> tuple[load.Stats, float]:
    """bench/load.py's patients, each from an address of its own, through nginx, for
    SECONDS once logged in, or until `during` (beside them) has finished."""
    tls = ssl.create_default_context(cafile=str(cluster.cert))
    stats = load.Stats()

    async def go():
        patients = [
            load.Patient(n, cluster.base, stats, source=load.source_address(n), tls=tls)
            for n in range(USERS)
        ]
        try:
            ready = await load.log_in_all(patients, stats)
            assert len(ready) == USERS, dict(stats.errors)
            return await load.run_loop(ready, SECONDS, stats, during)
        finally:
            await asyncio.gather(*(p.close() for p in patients), return_exceptions=True)

    # A thread of its own: the browser tests' Playwright keeps an event loop in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        return stats, thread.submit(asyncio.run, go()).result()


def check_phase(cluster: Cluster, title: str, stats: load.Stats, measured: float) -> dict:
    """The phase's writes against the database, and its report kept for the reader."""
    stored = load.stored_sessions("postgresql", cluster.workdir, cluster.database_url)
    mine = set(stats.posted) | stats.unacked_posts
    ok, lines, counts = load.check_writes(stats, {c: r for c, r in stored.items() if c in mine})
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        errors = load.report(title, stats, measured)
        print("\n".join(lines))
    text = out.getvalue()
    print(text)
    if REPORT.parent.exists():
        with REPORT.open("a") as f:
            f.write(text)
    assert ok, text
    return {"errors": errors, **counts}


def test_a_machine_killed_under_load_loses_and_doubles_no_write(cluster):
    a, b = cluster.web

    async def kill_b_then_restart():
        await asyncio.sleep(SECONDS / 2)
        await asyncio.to_thread(b.process.kill)  # SIGKILL, master and workers
        await asyncio.sleep(3)
        await asyncio.to_thread(cluster.restart, b)

    stats, measured = crowd_phase(cluster, kill_b_then_restart)
    title = f"cluster, {USERS} patients, instance b killed (SIGKILL) half-way, restarted 3 s later"
    counts = check_phase(cluster, title, stats, measured)
    assert counts["lost"] == counts["doubled"] == 0
    assert not stats.gave_up, "every write was answered in the end"
    assert len(stats.posted) > USERS, "the crowd kept writing"
    # The restarted instance is back in the rotation.
    assert value(scrape(cluster, b), "pnapp_http_requests_total") > 0


def test_a_rolling_restart_under_load_fails_no_request(cluster):
    old = [web.process.proc.pid for web in cluster.web]
    times: dict[str, float] = {}

    async def rolling_restart():
        times["started"] = time.monotonic()
        await asyncio.sleep(2)
        for web in cluster.web:  # README "Rolling restart", one instance at a time
            await asyncio.to_thread(cluster.set_down, web, True)
            await asyncio.sleep(1)
            await asyncio.to_thread(web.process.stop, signal.SIGTERM)  # graceful
            await asyncio.to_thread(cluster.restart, web)
            await asyncio.to_thread(cluster.set_down, web, False)
            await asyncio.sleep(2)
        times["done"] = time.monotonic()

    # The crowd keeps going until both instances are back (bench/load.py's run_loop).
    stats, measured = crowd_phase(cluster, rolling_restart)
    assert times["done"] - times["started"] < measured
    counts = check_phase(cluster, f"cluster, {USERS} patients, rolling restart", stats, measured)
    assert counts["errors"] == 0
    assert not stats.retries, "no write needed a second try"
    assert [web.process.proc.pid for web in cluster.web] != old


# Schedulers, metrics, health, logs


@pytest.fixture(scope="module")
def reminders_sent(cluster, cluster_db):
    """200 patients whose weekly reminder fell due a minute ago, each with a phone at the
    local push service; returns once both schedulers have had time to send everything."""
    from pnapp import create_app
    from pnapp.extensions import db
    from pnapp.models import Delivery
    from pnapp.timeutil import utcnow
    from tests.pushservice import PushService

    service = PushService()
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": cluster_db.replace(
            "postgresql://", "postgresql+psycopg://"), "SECRET_KEY": "x"}
    )  # fmt: skip
    ids = add_due_patients(app, service, 200, utcnow() - timedelta(minutes=1))
    deadline = time.monotonic() + 120
    with app.app_context():
        while time.monotonic() < deadline:
            sent = db.session.query(Delivery).filter(Delivery.state == "sent").count()
            db.session.commit()
            if sent >= len(ids):
                break
            time.sleep(0.5)
        db.session.remove()
    time.sleep(3)  # a few more passes of both schedulers: nothing more may go
    yield service, app, ids
    service.close()


def test_two_schedulers_send_one_reminder_per_person_week_and_channel(cluster, reminders_sent):
    service, app, ids = reminders_sent
    per_phone = Counter(m.name for m in service.messages)
    assert len(per_phone) == len(ids)
    assert set(per_phone.values()) == {1}
    assert all(m.signature_ok and m.payload for m in service.messages)
    with psycopg.connect(cluster.database_url) as conn:
        rows = conn.execute(
            "SELECT user_id, kind, period, channel, count(*) FROM deliveries "
            "GROUP BY user_id, kind, period, channel"
        ).fetchall()
        runs = conn.execute("SELECT name, passes FROM scheduler_runs").fetchall()
    assert {r[4] for r in rows} == {1}  # nobody's reminder twice, on any channel
    # The 200 with a phone: one push each. (People the other tests signed up have their
    # verification mail here too.)
    ours = [r for r in rows if r[0] in set(ids)]
    assert Counter((r[1], r[3]) for r in ours) == {("weekly", "push"): len(ids)}
    assert len([r for r in runs if r[1] > 0]) >= 2, f"both schedulers passed: {runs}"


def test_metrics_tell_operators_what_happened_and_nobody_else(cluster, reminders_sent):
    service, app, ids = reminders_sent
    for web in cluster.web:
        # A session written and read on this very instance.
        patient = Direct()
        patient.call(web, "GET", "/auth/csrf")
        login = {"email": load.email(0), "password": load.PASSWORD}
        assert patient.call(web, "POST", "/auth/login", login).status_code == 200
        patient.call(web, "GET", "/auth/csrf")
        created = patient.call(web, "POST", "/sessions", load.session_body())
        assert created.status_code == 201, created.text
        assert patient.call(web, "GET", f"/sessions/{created.json()['id']}").status_code == 200
        samples = scrape(cluster, web)
        routes = {s.labels["route"] for s in samples["pnapp_http_requests_total"]}
        assert "/api/v1/sessions/<int:session_id>" in routes
        assert not [r for r in routes if any(part.isdigit() for part in r.split("/"))], routes
        assert value(samples, "pnapp_http_request_duration_seconds_count") > 0
        assert value(samples, "pnapp_db_pool_connections_open") >= 1
        assert value(samples, "pnapp_db_pool_size") >= 5
        # The installation's numbers, the same from every instance.
        sent = value(samples, "pnapp_reminders", kind="weekly", channel="push", state="sent")
        assert sent == len(ids)
        assert value(samples, "pnapp_reminders_planned", kind="weekly") == len(ids)
        answers = value(samples, "pnapp_channel_answers_total", channel="push", result="sent")
        assert answers == len(ids)
        assert value(samples, "pnapp_scheduler_passes_total", result="ok") > 0
        assert value(samples, "pnapp_reminder_lag_seconds") == 0
        assert time.time() - value(samples, "pnapp_scheduler_last_success_timestamp_seconds") < 30
    # Not through the public door, and not for an address off the allow-list.
    assert cluster.get("/metrics").status_code == 404
    stranger = browser(cluster, "127.99.0.1")
    refused = stranger.get(f"{cluster.base}/healthz?deep=1", timeout=10)
    assert refused.status_code == 404
    assert refused.json()["error"]["status"] == 404
    assert "Set-Cookie" not in refused.headers


def test_deep_health_tells_a_stuck_scheduler(cluster, reminders_sent):
    a = cluster.web[0]
    healthy = cluster.direct(a, "/healthz?deep=1")
    assert healthy.status_code == 200, healthy.text
    assert healthy.json()["scheduler"]["status"] == "ok"
    assert cluster.get("/healthz").json() == {"status": "ok", "database": "ok"}
    for process in cluster.scheduler_processes:
        process.stop()
    time.sleep(LATE + 1)
    stuck = cluster.direct(a, "/healthz?deep=1")
    assert stuck.status_code == 503
    assert stuck.json()["scheduler"]["status"] == "late"
    assert cluster.get("/healthz").status_code == 200  # the load balancer's check stays cheap
    cluster.scheduler_processes[0].start()
    deadline = time.monotonic() + 90
    while cluster.direct(a, "/healthz?deep=1").status_code != 200:
        assert time.monotonic() < deadline, "a scheduler back did not make health ok again"
        time.sleep(0.5)


def test_logs_name_routes_and_request_ids_but_never_a_person(cluster):
    http = browser(cluster, "127.66.2.1")
    secret = {"email": "carol.private@example.com", "password": "carols-secret-password"}
    response = api(http, cluster, "POST", "/auth/login", secret)
    request_id = response.headers["X-Request-Id"]
    assert len(request_id) == 32  # nginx's $request_id, passed on and kept
    time.sleep(0.5)
    lines = []
    for web in cluster.web:
        for line in web.process.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
    mine = [line for line in lines if line.get("request_id") == request_id]
    assert len(mine) == 1, mine
    assert mine[0]["route"] == "/api/v1/auth/login"
    assert mine[0]["method"] == "POST" and mine[0]["status"] == 401
    assert mine[0]["duration_ms"] >= 0
    routes = {line["route"] for line in lines if "route" in line}
    assert "/api/v1/sessions/<int:session_id>" in routes
    everything = "".join(
        Path(p).read_text(errors="replace")
        for p in [*(w.process.log for w in cluster.web), cluster.run / "nginx" / "access.log"]
    )
    for private in ("carol.private", "carols-secret", "load1@example.com", "pnapp_session"):
        assert private not in everything
    assert request_id in (cluster.run / "nginx" / "access.log").read_text()
