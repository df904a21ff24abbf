"""How the reminders are doing, for /metrics and /healthz?deep=1: plain queries on the
tables every machine shares."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from flask import current_app
from sqlalchemy import case, func, select

from pnapp.extensions import db
from pnapp.models import Delivery, SchedulerRun, User
from pnapp.timeutil import utcnow

STATES = ("pending", "sending", "sent", "failed", "gone")


def delivery_counts() -> dict[tuple[str, str], dict]:
    """Deliveries by (kind, channel): how many in each state, and the attempts made beyond
    the first (retries). One GROUP BY over the table."""
    out: dict[tuple[str, str], dict] = defaultdict(
        lambda: {"states": dict.fromkeys(STATES, 0), "retries": 0}
    )
    retries = func.sum(case((Delivery.attempts > 1, Delivery.attempts - 1), else_=0))
    rows = db.session.execute(
        select(Delivery.kind, Delivery.channel, Delivery.state, func.count(), retries).group_by(
            Delivery.kind, Delivery.channel, Delivery.state
        )
    )
    for kind, channel, state, count, retried in rows:
        out[(kind, channel)]["states"][state] = count
        out[(kind, channel)]["retries"] += int(retried or 0)
    return dict(out)


def reminder_lag(now: datetime | None = None) -> float:
    """Seconds since the oldest reminder fell due that is still not sent, 0 when none waits:
    a weekly reminder not yet planned (the patient's next_reminder_at has passed), a planned
    delivery due and not claimed, or one whose sender died (its lease ran out). Each part
    walks an index: users.next_reminder_at, deliveries (state, next_attempt_at)."""
    now = now or utcnow()
    oldest = [
        db.session.scalar(
            select(func.min(User.next_reminder_at)).where(
                User.reminder_enabled, User.next_reminder_at <= now
            )
        ),
        db.session.scalar(
            select(func.min(Delivery.next_attempt_at)).where(
                Delivery.state == "pending", Delivery.next_attempt_at <= now
            )
        ),
        db.session.scalar(
            select(func.min(Delivery.lease_until)).where(
                Delivery.state == "sending", Delivery.lease_until < now
            )
        ),
    ]
    found = [_aware(t) for t in oldest if t is not None]
    return max(0.0, (now - min(found)).total_seconds()) if found else 0.0


def _aware(value: datetime) -> datetime:
    # min() over a UTCDateTime column comes back as the driver gives it (SQLite: text).
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)


def deep_health(now: datetime | None = None) -> tuple[bool, dict]:
    """The scheduler's last successful pass and the reminder lag, each judged against its
    limit (PNAPP_HEALTH_SCHEDULER_LATE_SECONDS, PNAPP_HEALTH_LAG_SECONDS)."""
    now = now or utcnow()
    config = current_app.config
    last = SchedulerRun.last_success()
    last = _aware(last) if last is not None else None
    age = (now - last).total_seconds() if last else None
    late_after = float(config["HEALTH_SCHEDULER_LATE_SECONDS"])
    lag = reminder_lag(now)
    lag_limit = float(config["HEALTH_LAG_SECONDS"])
    scheduler_ok = age is not None and age <= late_after
    lag_ok = lag <= lag_limit
    return scheduler_ok and lag_ok, {
        "scheduler": {
            "status": "ok" if scheduler_ok else "never ran" if last is None else "late",
            "last_success_at": last.isoformat().replace("+00:00", "Z") if last else None,
            "seconds_ago": round(age, 1) if age is not None else None,
            "late_after_seconds": late_after,
        },
        "reminders": {
            "status": "ok" if lag_ok else "late",
            "lag_seconds": round(lag, 1),
            "lag_limit_seconds": lag_limit,
        },
    }
