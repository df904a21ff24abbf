"""Prometheus metrics at /metrics, for the addresses on PNAPP_METRICS_ALLOW only.

Two kinds of numbers, both read by one scrape:

- What this instance saw, kept by prometheus_client: requests and their latency per route
  template (never per id), and the database pool. Under gunicorn every worker writes its
  own files in PROMETHEUS_MULTIPROC_DIR and a scrape sums them (deploy/gunicorn.conf.py
  prepares the folder and forgets dead workers); without it each worker counts alone.
- What the whole installation did, read from the database at scrape time, so every instance
  tells the same story about schedulers on other machines: deliveries by kind, channel and
  state, retries, the age of the oldest due reminder (lag), and the scheduler passes and
  channel answers recorded in scheduler_runs.
"""

from __future__ import annotations

import ipaddress
import os
import time
from functools import lru_cache, wraps

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import event

from pnapp.errors import ApiError, error_response
from pnapp.extensions import db

bp = Blueprint("metrics", __name__)

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
UNMATCHED = "(no route)"  # 404s: their paths are whatever a scanner tried

REQUESTS = Counter(
    "pnapp_http_requests", "Requests answered, by method, route template and status",
    ["method", "route", "status"],
)  # fmt: skip
LATENCY = Histogram(
    "pnapp_http_request_duration_seconds", "Time to answer, by method and route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)  # fmt: skip
POOL_IN_USE = Gauge(
    "pnapp_db_pool_connections_in_use", "Database connections lent to a request or job now",
    multiprocess_mode="livesum",
)  # fmt: skip
POOL_OPEN = Gauge(
    "pnapp_db_pool_connections_open", "Database connections open, in use or idle",
    multiprocess_mode="livesum",
)  # fmt: skip
POOL_SIZE = Gauge(
    "pnapp_db_pool_size", "Connections each process's pool keeps (it may overflow it)",
    multiprocess_mode="livesum",
)  # fmt: skip


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(_start_timer)
    app.after_request(_count)
    with app.app_context():
        _watch_pool(db.engine)


# Who may look


@lru_cache(maxsize=16)
def _networks(allow: str) -> tuple:
    return tuple(
        ipaddress.ip_network(a.strip(), strict=False) for a in allow.split(",") if a.strip()
    )


def from_operator() -> bool:
    """Whether the client's address (the proxy's X-Forwarded-For with PNAPP_TRUST_PROXY) is
    on PNAPP_METRICS_ALLOW. Nobody is, unless it is set."""
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in net for net in _networks(current_app.config["METRICS_ALLOW"] or ""))


def operators_only(view):
    """Everyone else gets the 404 of a page that does not exist (API.md's shape)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not from_operator():
            return error_response(ApiError(404))
        return view(*args, **kwargs)

    return wrapper


# What this instance saw


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _count(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    method = request.method if request.method in METHODS else "other"
    route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    REQUESTS.labels(method, route, str(response.status_code)).inc()
    if started is not None:
        LATENCY.labels(method, route).observe(time.perf_counter() - started)
    return response


def _watch_pool(engine) -> None:
    pool = engine.pool
    if hasattr(pool, "size"):
        POOL_SIZE.inc(pool.size())
    event.listen(pool, "connect", lambda *_: POOL_OPEN.inc())
    event.listen(pool, "close", lambda *_: POOL_OPEN.dec())
    event.listen(pool, "close_detached", lambda *_: POOL_OPEN.dec())
    event.listen(pool, "checkout", lambda *_: POOL_IN_USE.inc())
    event.listen(pool, "checkin", lambda *_: POOL_IN_USE.dec())


# What the installation did, from the database


class InstallationCollector:
    """Read at scrape time from the tables every machine shares."""

    def collect(self):
        from pnapp.models import SchedulerRun
        from pnapp.operations import delivery_counts, reminder_lag

        up = GaugeMetricFamily("pnapp_database_up", "Whether this scrape could read the database")
        try:
            counts = delivery_counts()
            lag = reminder_lag()
            last = SchedulerRun.last_success()
            passes, answers = SchedulerRun.totals()
            db.session.commit()
        except Exception:
            db.session.rollback()
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        labels = ["kind", "channel"]
        planned = GaugeMetricFamily(
            "pnapp_reminders_planned",
            "Deliveries planned and kept, by kind and channel",
            labels=labels,
        )
        by_state = GaugeMetricFamily(
            "pnapp_reminders", "Deliveries by kind, channel and state", labels=[*labels, "state"]
        )
        retried = GaugeMetricFamily(
            "pnapp_reminders_retried",
            "Attempts beyond the first, by kind and channel",
            labels=labels,
        )
        for (kind, channel), row in sorted(counts.items()):
            planned.add_metric([kind, channel], sum(row["states"].values()))
            retried.add_metric([kind, channel], row["retries"])
            for state, n in row["states"].items():
                by_state.add_metric([kind, channel, state], n)
        yield from (planned, by_state, retried)
        yield GaugeMetricFamily(
            "pnapp_reminder_lag_seconds",
            "Age of the oldest reminder that is due and not yet sent (planned or not)",
            value=lag,
        )
        yield GaugeMetricFamily(
            "pnapp_scheduler_last_success_timestamp_seconds",
            "When a scheduler last finished a pass (Unix time; 0: never)",
            value=last.timestamp() if last else 0,
        )
        runs = CounterMetricFamily(
            "pnapp_scheduler_passes", "Scheduler passes by result", labels=["result"]
        )
        for result, n in passes.items():
            runs.add_metric([result], n)
        yield runs
        said = CounterMetricFamily(
            "pnapp_channel_answers",
            "What push services and mail servers answered, by channel and class "
            "(sent, gone, retry, error)",
            labels=["channel", "result"],
        )
        for (channel, result), n in sorted(answers.items()):
            said.add_metric([channel, result], n)
        yield said


def _registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


@bp.get("/metrics")
@operators_only
def metrics():
    """Prometheus text format: this instance's requests and pool, the installation's
    reminders and schedulers."""
    installation = CollectorRegistry()
    installation.register(InstallationCollector())
    body = generate_latest(_registry()) + generate_latest(installation)
    return Response(body, content_type=CONTENT_TYPE_LATEST)
