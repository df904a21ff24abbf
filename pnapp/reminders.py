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

import json
import logging
import random
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import (
    String,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import selectinload

from pnapp import push
from pnapp.extensions import db
from pnapp.i18n import N_, in_language, user_language
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
# Claimed rows are recorded a batch at a time, with a few batches on the wire at once, so a
# crash repeats at most SEND_BATCH * IN_FLIGHT pushes (and the push Topic collapses those).
SEND_BATCH = 64
IN_FLIGHT = 3
TTL = {WEEKLY: 12 * 3600, AFTER_NUDGE: 6 * 3600, MISSED_WEEK: 12 * 3600}
TEXT = {
    WEEKLY: N_("Time for your weekly massage check-in"),
    AFTER_NUDGE: N_("How do you feel after your massage? Tap to rate."),
    MISSED_WEEK: N_("%(name)s has no session recorded for last week."),
    "test": N_("This is a test reminder from pnapp."),
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


def payload(kind: str, *, tag: str, path: str, language: str, **values) -> dict:
    """Declarative Web Push (Safari 18.4+); other browsers hand it to the service worker.
    Generic words only, in the person's language: it shows on lock screens."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    body = in_language(language, TEXT[kind])
    return {
        "web_push": 8030,
        "notification": {
            "title": "pnapp",
            "body": body % values if values else body,
            "navigate": f"{base}{path}",
            "tag": tag,
            "lang": language,
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
        # Plain rows, not User objects: a few columns, and one bulk UPDATE below instead of
        # the unit of work's bookkeeping for every user.
        users = db.session.execute(
            select(
                User.id,
                User.timezone,
                User.weekly_goal,
                User.reminder_weekday,
                User.reminder_time,
                User.next_reminder_at,
                User.language,
                User.browser_language,
            )
            .where(User.reminder_enabled, User.next_reminder_at <= now)
            .order_by(User.next_reminder_at)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        ).all()
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
        rows, moves = [], []
        for user in users:
            due = user.next_reminder_at
            moves.append(
                {
                    "id": user.id,
                    "next_reminder_at": next_weekly(
                        now, user.timezone, user.reminder_weekday, user.reminder_time
                    ),
                }
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
                    payload(
                        WEEKLY,
                        tag=f"weekly-{week.replace('-', '')}",
                        path="/sessions/new",
                        language=user_language(user),
                    ),
                )
            )
        db.session.execute(update(User), moves)
        planned += _insert_new(rows)
        db.session.commit()


def _goal_met(users: list) -> set[int]:
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
        select(
            MassageSession.id,
            MassageSession.patient_id,
            MassageSession.started_at,
            User.language,
            User.browser_language,
        )
        .join(User, User.id == MassageSession.patient_id)
        .where(
            User.reminder_enabled,  # reminders off means no nudges either
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
            row.patient_id,
            AFTER_NUDGE,
            f"session-{row.id}",
            row.started_at + after,
            payload(
                AFTER_NUDGE,
                tag=f"after-{row.id}",
                path=f"/sessions/{row.id}",
                language=user_language(row),
            ),
        )
        for row in found
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
        .options(selectinload(CareShare.patient), selectinload(CareShare.caregiver))
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
                    language=user_language(share.caregiver),
                    name=name,
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
    if db.engine.dialect.name == "postgresql":
        return _insert_new_postgresql(rows)
    stmt = sqlite.insert(Delivery).on_conflict_do_nothing(
        index_elements=["user_id", "kind", "period"]
    )
    return len(db.session.execute(stmt.returning(Delivery.id), rows).all())


# A batch as one array per column of _delivery's rows: psycopg would otherwise rewrite a
# multi-row VALUES statement with thousands of placeholders for every batch, which cost more
# than the insert itself.
_INSERT_POSTGRESQL = text(
    """
    INSERT INTO deliveries
        (user_id, kind, period, state, attempts, due_at, next_attempt_at, payload, created_at)
    SELECT batch.*, now()
    FROM unnest(
        CAST(:user_id AS integer[]), CAST(:kind AS text[]), CAST(:period AS text[]),
        CAST(:state AS text[]), CAST(:attempts AS integer[]), CAST(:due_at AS timestamptz[]),
        CAST(:next_attempt_at AS timestamptz[]), CAST(:payload AS json[])
    ) AS batch
    ON CONFLICT (user_id, kind, period) DO NOTHING
    RETURNING id
    """
)


def _insert_new_postgresql(rows: list[dict]) -> int:
    arrays = {key: [row[key] for row in rows] for key in rows[0]}
    arrays["payload"] = [json.dumps(p) for p in arrays["payload"]]
    return len(db.session.execute(_INSERT_POSTGRESQL, arrays).all())


# Sending: claim, send, record.


def claim(now: datetime, limit: int = SEND_BATCH) -> list[int]:
    """Mark up to `limit` due deliveries as ours (state sending, with a lease) and commit.

    Rows whose lease ran out (their sender died) come first; then pending rows in the order
    they fell due. Two statements, so each can walk the (state, next_attempt_at) index.
    """
    ids: list[int] = []
    for due in (
        select(Delivery.id).where(Delivery.state == "sending", Delivery.lease_until < now),
        select(Delivery.id)
        .where(Delivery.state == "pending", Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at),
    ):
        if len(ids) >= limit:
            break
        ids += db.session.scalars(
            update(Delivery)
            .where(
                Delivery.id.in_(
                    due.limit(limit - len(ids)).with_for_update(skip_locked=True).scalar_subquery()
                )
            )
            .values(state="sending", lease_until=now + LEASE, attempts=Delivery.attempts + 1)
            .returning(Delivery.id)
        ).all()
    db.session.commit()
    return ids


@dataclass(frozen=True)
class Job:
    """One message to one device, as plain values the sending threads can hold."""

    delivery_id: int
    kind: str
    due_at: datetime
    attempts: int
    subscription_id: int
    subscription: dict
    payload: dict


def _jobs(now: datetime, ids: list[int], report: Report) -> list[Job]:
    """The messages for claimed deliveries. Those expired, no longer wanted or with no
    device left are recorded at once; then the transaction ends, before anything is sent."""
    rows = db.session.execute(
        select(
            Delivery.id,
            Delivery.user_id,
            Delivery.kind,
            Delivery.period,
            Delivery.due_at,
            Delivery.attempts,
            Delivery.payload,
        ).where(Delivery.id.in_(ids))
    ).all()
    unwanted = _unwanted(rows)
    stale = [
        {"id": r.id, "state": "failed", "last_error": "expired"}
        for r in rows
        # Too late: the push service would drop it, and so do we.
        if now > _expires(r.kind, r.due_at) and r.id not in unwanted
    ] + [{"id": i, "state": "failed", "last_error": why} for i, why in unwanted.items()]
    if stale:
        _set_states(now, stale, commit=False)
        report.failed += len(stale)
    dropped = {c["id"] for c in stale}
    live = [r for r in rows if r.id not in dropped]
    subs = defaultdict(list)
    for sub in db.session.execute(
        select(
            PushSubscription.id,
            PushSubscription.user_id,
            PushSubscription.endpoint,
            PushSubscription.p256dh,
            PushSubscription.auth,
        ).where(PushSubscription.user_id.in_({r.user_id for r in live}))
    ):
        subs[sub.user_id].append(sub)
    jobs = [
        Job(
            r.id,
            r.kind,
            r.due_at,
            r.attempts,
            s.id,
            {"endpoint": s.endpoint, "keys": {"p256dh": s.p256dh, "auth": s.auth}},
            r.payload,
        )
        for r in live
        for s in subs[r.user_id]
    ]
    with_devices = {j.delivery_id for j in jobs}
    deviceless = [r.id for r in live if r.id not in with_devices]
    if deviceless:
        _set_states(now, [{"id": i, "state": "gone"} for i in deviceless], commit=False)
        report.gone += len(deviceless)
    # Nothing may wait on the network inside a transaction: on SQLite it would hold the
    # write lock, and every patient's entry would queue behind a slow push service.
    db.session.commit()
    return jobs


def _unwanted(rows: list) -> dict[int, str]:
    """Claimed deliveries their person no longer wants, and why, checked just before
    sending: reminders and nudges switched off since planning, and caregiver alerts whose
    share has ended or lost the alerts scope."""
    unwanted: dict[int, str] = {}
    reminding = [r for r in rows if r.kind in (WEEKLY, AFTER_NUDGE)]
    if reminding:
        enabled = set(
            db.session.scalars(
                select(User.id).where(
                    User.id.in_({r.user_id for r in reminding}), User.reminder_enabled
                )
            )
        )
        unwanted.update({r.id: "reminders off" for r in reminding if r.user_id not in enabled})
    alerts = [r for r in rows if r.kind == MISSED_WEEK]
    if alerts:
        shares = db.session.execute(
            select(CareShare.patient_id, CareShare.caregiver_id, CareShare.scopes).where(
                CareShare.caregiver_id.in_({r.user_id for r in alerts})
            )
        ).all()
        alerting = {(s.caregiver_id, str(s.patient_id)) for s in shares if "alerts" in s.scopes}
        unwanted.update(
            {
                r.id: "share ended"
                for r in alerts
                if (r.user_id, r.period.split(":", 1)[0]) not in alerting
            }
        )
    return unwanted


def send_pending(now: datetime, report: Report | None = None, *, workers: int = 16) -> Report:
    """Send every claimable delivery.

    A pipeline: while one batch is on the wire, the next is claimed and queued, and a batch
    is recorded as soon as its last message is answered, so the sending threads seldom wait
    for the database.
    """
    report = report or Report()
    vapid = push.load_vapid(current_app)
    subject = current_app.config["VAPID_SUBJECT"]
    session = push.http_session(workers)

    def send(job: Job) -> push.Outcome:
        return push.send(
            job.subscription,
            job.payload,
            vapid=vapid,
            subject=subject,
            ttl=TTL.get(job.kind, 3600),
            topic=job.payload["notification"]["tag"],
            session=session,
        )

    in_flight: deque = deque()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while True:
            while len(in_flight) < IN_FLIGHT and (ids := claim(now)):
                jobs = _jobs(now, ids, report)
                in_flight.append((jobs, [pool.submit(send, job) for job in jobs]))
            if not in_flight:
                break
            jobs, futures = in_flight.popleft()
            _record(now, list(zip(jobs, (f.result() for f in futures), strict=True)), report)
    session.close()
    return report


def _record(now: datetime, results: list[tuple[Job, push.Outcome]], report: Report) -> None:
    """Write each delivery's new state, and retire dead subscriptions, in a few statements."""
    by_delivery: dict[int, list[tuple[Job, push.Outcome]]] = defaultdict(list)
    sent_subs, gone_subs, failing_subs = [], [], []
    for job, outcome in results:
        by_delivery[job.delivery_id].append((job, outcome))
        report.outcomes[outcome.result] += 1
        {"sent": sent_subs, "gone": gone_subs}.get(outcome.result, failing_subs).append(
            job.subscription_id
        )
    changes = []
    for delivery_id, pairs in by_delivery.items():
        job, outcomes = pairs[0][0], [o for _, o in pairs]
        seen = {o.result for o in outcomes}
        details = "; ".join(o.detail or str(o.status) for o in outcomes if o.result != "sent")
        change = {"id": delivery_id, "last_error": details[:500] or None}
        if "sent" in seen:
            change.update(state="sent", sent_at=now)
            report.sent += 1
        elif "retry" in seen:
            wait = _backoff(job.attempts, max(o.retry_after or 0 for o in outcomes))
            if now + wait > _expires(job.kind, job.due_at):
                change.update(state="failed")
                report.failed += 1
            else:
                change.update(state="pending", next_attempt_at=now + wait)
                report.retried += 1
        elif seen == {"gone"}:
            change.update(state="gone")  # no device left to remind
            report.gone += 1
        else:
            change.update(state="failed")
            report.failed += 1
        changes.append(change)
    _set_states(now, changes, commit=False)
    if sent_subs:
        db.session.execute(
            update(PushSubscription)
            .where(PushSubscription.id.in_(sent_subs))
            .values(last_success_at=now, failures=0)
        )
    if failing_subs:
        db.session.execute(
            update(PushSubscription)
            .where(PushSubscription.id.in_(failing_subs))
            .values(failures=PushSubscription.failures + 1)
        )
    if gone_subs:
        db.session.execute(delete(PushSubscription).where(PushSubscription.id.in_(gone_subs)))
        report.subscriptions_removed += len(set(gone_subs))
    db.session.commit()


# Core, not the ORM's bulk UPDATE by primary key: that one raises StaleDataError when a row
# has gone (an account deleted mid-batch cascades to its deliveries), and the whole batch's
# results would be lost and everyone else's reminders sent again after the lease.
_SET_STATE = update(Delivery.__table__).where(Delivery.__table__.c.id == bindparam("delivery_id"))


def _set_states(now: datetime, changes: list[dict], commit: bool = True) -> None:
    """Bulk UPDATE of deliveries by id, skipping rows deleted meanwhile; the lease ends
    with the attempt."""
    if changes:
        keys = ("state", "sent_at", "next_attempt_at", "last_error")
        rows = [
            {"delivery_id": c["id"], "lease_until": None, **{k: c[k] for k in keys if k in c}}
            for c in changes
        ]
        # Group by the set of columns: executemany needs the same keys in every row.
        groups = defaultdict(list)
        for row in rows:
            groups[tuple(sorted(row))].append(row)
        for group in groups.values():
            db.session.connection().execute(_SET_STATE, group)
    if commit:
        db.session.commit()


def _expires(kind: str, due_at: datetime) -> datetime:
    return due_at + timedelta(seconds=TTL.get(kind, 3600))


def _backoff(attempts: int, retry_after: float) -> timedelta:
    """Exponential backoff with jitter, at least what the push service asked for."""
    base = min(3600.0, 30.0 * 2 ** max(0, attempts - 1))
    return timedelta(seconds=max(retry_after, base / 2 + random.random() * base / 2))


def send_test(user: User) -> tuple[int, int]:
    """A test notification to each of the user's devices, now. Returns (sent, failed).

    1. Read the devices and the words, and end the transaction (a request that may write
       holds SQLite's write lock from its first query).
    2. Send to all devices at once, outside any transaction.
    3. Record the answers in a short transaction of their own.
    """
    body = payload("test", tag="test", path="/settings", language=user_language(user))
    devices = db.session.execute(
        select(
            PushSubscription.id,
            PushSubscription.endpoint,
            PushSubscription.p256dh,
            PushSubscription.auth,
        ).where(PushSubscription.user_id == user.id)
    ).all()
    vapid = push.load_vapid(current_app)
    subject = current_app.config["VAPID_SUBJECT"]
    session = push.http_session(max(1, len(devices)))
    db.session.commit()

    def send(device) -> push.Outcome:
        return push.send(
            {"endpoint": device.endpoint, "keys": {"p256dh": device.p256dh, "auth": device.auth}},
            body,
            vapid=vapid,
            ttl=600,
            topic="test",
            subject=subject,
            session=session,
        )

    with ThreadPoolExecutor(max_workers=max(1, len(devices))) as pool:
        outcomes = list(pool.map(send, devices))
    session.close()
    gone = [d.id for d, o in zip(devices, outcomes, strict=True) if o.result == "gone"]
    if gone:
        db.session.execute(delete(PushSubscription).where(PushSubscription.id.in_(gone)))
        db.session.commit()
    sent = sum(o.result == "sent" for o in outcomes)
    return sent, len(outcomes) - sent
