"""send_due_reminders(now): the whole reminder job, called by the scheduler, the CLI and the
tests alike.

Exactly once is the database's job (PLATFORM.md): a Delivery row per (person, kind, period)
with a unique constraint is written before anything is sent, and each pass claims the rows
it sends with a conditional UPDATE (FOR UPDATE SKIP LOCKED on PostgreSQL), so several
scheduler processes, retries and restarts never send a reminder twice on their own. A
process killed between claiming and recording leaves its rows in `sending`; once their
lease runs out another pass sends them again (the push Topic collapses the rare repeat).
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import String, and_, cast, exists, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from pnapp import push
from pnapp.extensions import db
from pnapp.models import CareShare, Delivery, MassageSession, PushSubscription, User
from pnapp.timeutil import (
    iso_week_label,
    local_date,
    local_midnight,
    next_weekly,
    week_bounds,
    week_start,
)

log = logging.getLogger(__name__)

WEEKLY = "weekly"
AFTER_NUDGE = "after_nudge"
MISSED_WEEK = "caregiver_missed_week"
# Caregivers hear about a missed week on Monday morning in the patient's zone, not at midnight.
MISSED_WEEK_ALERT_HOUR = 9

# A weekly reminder found more than this late (scheduler down, zone changed) is skipped
# rather than sent at an odd hour.
LATE_LIMIT = timedelta(hours=6)
LEASE = timedelta(minutes=10)
BATCH = 500
# Claimed rows are recorded a batch at a time, so a crash repeats at most this many pushes.
SEND_BATCH = 64
TTL = {WEEKLY: 12 * 3600, AFTER_NUDGE: 6 * 3600, MISSED_WEEK: 12 * 3600}
TEXT = {
    WEEKLY: "Time for your weekly massage check-in",
    AFTER_NUDGE: "How do you feel after your massage? Tap to rate.",
    "test": "This is a test reminder from pnapp.",
}


@dataclass
class Report:
    planned: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    gone: int = 0
    subscriptions_removed: int = 0
    outcomes: dict = field(default_factory=lambda: defaultdict(int))


def send_due_reminders(now: datetime) -> Report:
    """Plan what is due at `now`, then send everything claimable."""
    report = Report()
    report.planned = plan_weekly(now) + plan_after_nudges(now) + plan_missed_weeks(now)
    send_pending(now, report)
    return report


# Planning: write Delivery rows for what is due.


def payload(kind: str, *, tag: str, path: str, body: str | None = None) -> dict:
    """Declarative Web Push (Safari 18.4+); other browsers hand it to the service worker.
    Generic words only: it shows on lock screens."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return {
        "web_push": 8030,
        "notification": {
            "title": "pnapp",
            "body": body or TEXT[kind],
            "navigate": f"{base}{path}",
            "tag": tag,
            "lang": "en",
        },
    }


def plan_weekly(now: datetime) -> int:
    """Weekly reminders for patients whose reminder time has come.

    1. Take due patients (next_reminder_at <= now), locking them on PostgreSQL so that a
       concurrent scheduler takes others.
    2. Move each one's next_reminder_at to next week's instant.
    3. Write a Delivery for those whose week's goal is not met, who have a device, and whose
       reminder is not stale; the unique constraint drops any duplicate.
    """
    planned = 0
    while True:
        users = list(
            db.session.scalars(
                select(User)
                .where(User.reminder_enabled, User.next_reminder_at <= now)
                .order_by(User.next_reminder_at)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        )
        if not users:
            db.session.commit()
            return planned
        met = _goal_met(users)
        with_devices = set(
            db.session.scalars(
                select(PushSubscription.user_id)
                .where(PushSubscription.user_id.in_([u.id for u in users]))
                .distinct()
            )
        )
        rows = []
        for user in users:
            due = user.next_reminder_at
            user.next_reminder_at = next_weekly(
                now, user.timezone, user.reminder_weekday, user.reminder_time
            )
            if now - due > LATE_LIMIT or user.id in met or user.id not in with_devices:
                continue
            week = iso_week_label(local_date(due, user.timezone))
            rows.append(
                _delivery(
                    user.id,
                    WEEKLY,
                    week,
                    due,
                    payload(WEEKLY, tag=f"weekly-{week.replace('-', '')}", path="/sessions/new"),
                )
            )
        planned += _insert_new(rows)
        db.session.commit()


def _goal_met(users: list[User]) -> set[int]:
    """Ids of the users who already met the goal of the week their reminder falls in."""
    bounds = {u.id: week_bounds(u.next_reminder_at, u.timezone) for u in users}
    earliest = min(start for start, _ in bounds.values())
    latest = max(end for _, end in bounds.values())
    counts: dict[int, int] = defaultdict(int)
    for patient_id, started in db.session.execute(
        select(MassageSession.patient_id, MassageSession.started_at).where(
            MassageSession.patient_id.in_(bounds),
            MassageSession.started_at >= earliest,
            MassageSession.started_at < latest,
        )
    ):
        start, end = bounds[patient_id]
        if start <= started < end:
            counts[patient_id] += 1
    return {u.id for u in users if counts[u.id] >= u.weekly_goal}


def plan_after_nudges(now: datetime, after: timedelta | None = None) -> int:
    """One nudge per session still without after ratings some hours after it started."""
    after = after or timedelta(hours=current_app.config["AFTER_NUDGE_HOURS"])
    period = literal("session-") + cast(MassageSession.id, String)
    found = db.session.execute(
        select(MassageSession.id, MassageSession.patient_id, MassageSession.started_at).where(
            MassageSession.after_pain.is_(None),
            MassageSession.started_at <= now - after,
            MassageSession.started_at > now - after - timedelta(hours=18),
            exists().where(PushSubscription.user_id == MassageSession.patient_id),
            ~exists().where(
                and_(
                    Delivery.user_id == MassageSession.patient_id,
                    Delivery.kind == AFTER_NUDGE,
                    Delivery.period == period,
                )
            ),
        )
    ).all()
    rows = [
        _delivery(
            patient_id,
            AFTER_NUDGE,
            f"session-{sid}",
            started + after,
            payload(AFTER_NUDGE, tag=f"after-{sid}", path=f"/sessions/{sid}"),
        )
        for sid, patient_id, started in found
    ]
    planned = _insert_new(rows)
    db.session.commit()
    return planned


def plan_missed_weeks(now: datetime) -> int:
    """Tell caregivers holding the `alerts` scope when a patient's week ended with the goal
    not met: once per caregiver, patient and week, on Monday morning in the patient's zone."""
    shares = db.session.scalars(
        select(CareShare)
        .where(exists().where(PushSubscription.user_id == CareShare.caregiver_id))
        .options(selectinload(CareShare.patient))
    ).all()
    due = []
    for share in shares:
        if not share.has("alerts"):
            continue
        patient = share.patient
        this_monday = week_start(local_date(now, patient.timezone))
        week_began = local_midnight(this_monday - timedelta(weeks=1), patient.timezone)
        week_ended = local_midnight(this_monday, patient.timezone)
        alert_at = week_ended + timedelta(hours=MISSED_WEEK_ALERT_HOUR)
        # Only a week the share saw end, at a sensible hour.
        if not (alert_at <= now <= alert_at + LATE_LIMIT) or share.created_at > week_ended:
            continue
        due.append((share, week_began, week_ended, alert_at))
    if not due:
        return 0
    counts: dict[int, int] = defaultdict(int)
    for patient_id, started in db.session.execute(
        select(MassageSession.patient_id, MassageSession.started_at).where(
            MassageSession.patient_id.in_({s.patient_id for s, *_ in due}),
            MassageSession.started_at >= min(b for _, b, _, _ in due),
            MassageSession.started_at < max(e for _, _, e, _ in due),
        )
    ):
        for share, began, ended, _ in due:
            if share.patient_id == patient_id and began <= started < ended:
                counts[share.id] += 1
    rows = []
    for share, began, _, alert_at in due:
        if counts[share.id] >= share.patient.weekly_goal:
            continue
        week = iso_week_label(local_date(began, share.patient.timezone))
        name = share.patient.display_name
        rows.append(
            _delivery(
                share.caregiver_id,
                MISSED_WEEK,
                f"{share.patient_id}:{week}",
                alert_at,
                payload(
                    MISSED_WEEK,
                    tag=f"missed-{share.patient_id}-{week.replace('-', '')}",
                    path=f"/care/{share.patient_id}",
                    body=f"{name} has no session recorded for last week.",
                ),
            )
        )
    planned = _insert_new(rows)
    db.session.commit()
    return planned


def _delivery(user_id: int, kind: str, period: str, due: datetime, body: dict) -> dict:
    return {
        "user_id": user_id,
        "kind": kind,
        "period": period,
        "state": "pending",
        "attempts": 0,
        "due_at": due,
        "next_attempt_at": due,
        "payload": body,
    }


def _insert_new(rows: list[dict]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING: a row another scheduler wrote first is kept."""
    if not rows:
        return 0
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(Delivery).on_conflict_do_nothing(
        index_elements=["user_id", "kind", "period"]
    )
    return len(db.session.execute(stmt.returning(Delivery.id), rows).all())


# Sending: claim, send, record.


def claim(now: datetime, limit: int = SEND_BATCH) -> list[int]:
    """Mark up to `limit` due deliveries as ours (state sending, with a lease) and commit."""
    due = (
        select(Delivery.id)
        .where(
            ((Delivery.state == "pending") & (Delivery.next_attempt_at <= now))
            | ((Delivery.state == "sending") & (Delivery.lease_until < now))
        )
        .order_by(Delivery.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(
        db.session.scalars(
            update(Delivery)
            .where(Delivery.id.in_(due.scalar_subquery()))
            .values(state="sending", lease_until=now + LEASE, attempts=Delivery.attempts + 1)
            .returning(Delivery.id)
        )
    )
    db.session.commit()
    return ids


def send_pending(now: datetime, report: Report | None = None, *, workers: int = 16) -> Report:
    """Send every claimable delivery, a batch at a time."""
    report = report or Report()
    vapid = push.load_vapid(current_app)
    subject = current_app.config["VAPID_SUBJECT"]
    session = push.http_session(workers)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while ids := claim(now):
            deliveries = list(db.session.scalars(select(Delivery).where(Delivery.id.in_(ids))))
            for delivery in [d for d in deliveries if now > _expires(d)]:
                # Too late: the push service would drop it, and so do we.
                delivery.state, delivery.lease_until = "failed", None
                delivery.last_error = (delivery.last_error or "") + " (expired)"
                deliveries.remove(delivery)
                report.failed += 1
            subs = defaultdict(list)
            for sub in db.session.scalars(
                select(PushSubscription).where(
                    PushSubscription.user_id.in_({d.user_id for d in deliveries})
                )
            ):
                subs[sub.user_id].append(sub)
            jobs = [(d, s) for d in deliveries for s in subs[d.user_id]]
            # Plain values for the threads: ORM objects stay in this one.
            messages = [(s.info(), d.payload, TTL.get(d.kind, 3600)) for d, s in jobs]
            outcomes = pool.map(
                lambda m: push.send(
                    m[0],
                    m[1],
                    vapid=vapid,
                    subject=subject,
                    ttl=m[2],
                    topic=m[1]["notification"]["tag"],
                    session=session,
                ),
                messages,
            )
            _record(now, deliveries, list(zip(jobs, outcomes, strict=True)), report)
    session.close()
    return report


def _record(now, deliveries, results, report: Report) -> None:
    """Write each delivery's new state, and retire dead subscriptions."""
    by_delivery = defaultdict(list)
    for (delivery, sub), outcome in results:
        by_delivery[delivery.id].append(outcome)
        report.outcomes[outcome.result] += 1
        if outcome.result == "sent":
            sub.last_success_at, sub.failures = now, 0
        elif outcome.result == "gone":
            db.session.delete(sub)
            report.subscriptions_removed += 1
        else:
            sub.failures += 1
    for delivery in deliveries:
        outcomes = by_delivery[delivery.id]
        results_seen = {o.result for o in outcomes}
        delivery.lease_until = None
        if "sent" in results_seen:
            delivery.state, delivery.sent_at = "sent", now
            report.sent += 1
        elif "retry" in results_seen:
            wait = _backoff(
                delivery.attempts, max((o.retry_after or 0 for o in outcomes), default=0)
            )
            if now + wait > _expires(delivery):
                delivery.state = "failed"
                report.failed += 1
            else:
                delivery.state, delivery.next_attempt_at = "pending", now + wait
                report.retried += 1
        elif results_seen <= {"gone"}:
            delivery.state = "gone"  # no device left to remind
            report.gone += 1
        else:
            delivery.state = "failed"
            report.failed += 1
        details = [o.detail or str(o.status) for o in outcomes if o.result != "sent"]
        delivery.last_error = "; ".join(details)[:500] or None
    db.session.commit()


def _expires(delivery: Delivery) -> datetime:
    return delivery.due_at + timedelta(seconds=TTL.get(delivery.kind, 3600))


def _backoff(attempts: int, retry_after: float) -> timedelta:
    """Exponential backoff with jitter, at least what the push service asked for."""
    base = min(3600.0, 30.0 * 2 ** max(0, attempts - 1))
    return timedelta(seconds=max(retry_after, base / 2 + random.random() * base / 2))


def send_test(user: User) -> tuple[int, int]:
    """A test notification to each of the user's devices, now. Returns (sent, failed)."""
    vapid = push.load_vapid(current_app)
    session = push.http_session(4)
    body = payload("test", tag="test", path="/settings")
    sent = failed = 0
    for sub in list(user.subscriptions):
        outcome = push.send(
            sub.info(),
            body,
            vapid=vapid,
            ttl=600,
            topic="test",
            subject=current_app.config["VAPID_SUBJECT"],
            session=session,
        )
        if outcome.result == "sent":
            sent += 1
        else:
            failed += 1
            if outcome.result == "gone":
                db.session.delete(sub)
    db.session.commit()
    session.close()
    return sent, failed
