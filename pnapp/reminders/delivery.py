"""Delivery: claim due Delivery rows with a lease, send them through a channel, record the
answers, back off and retry what may still arrive, and retire dead addresses.

Network I/O never happens inside a database transaction: claim in one short transaction,
send, record in another.
"""

from __future__ import annotations

import random
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, delete, select, update

from pnapp.extensions import db
from pnapp.i18n import user_language
from pnapp.models import CareShare, Delivery, PushSubscription, User
from pnapp.reminders.channels import TransportError, push
from pnapp.reminders.planning import AFTER_NUDGE, MISSED_WEEK, TTL, WEEKLY, payload

if TYPE_CHECKING:
    from pnapp.reminders import Report

LEASE = timedelta(minutes=10)
# Claimed rows are recorded a batch at a time, with a few batches on the wire at once, so a
# crash repeats at most SEND_BATCH * IN_FLIGHT pushes (and the push Topic collapses those).
SEND_BATCH = 64
IN_FLIGHT = 3


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
            _subscription(s),
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


@dataclass(frozen=True)
class Attempt:
    """What became of one message: sent, gone (the address is dead), retry or error."""

    result: str
    detail: str = ""
    retry_after: float | None = None


def _subscription(row) -> dict:
    """A PushSubscription row as the push channel's address."""
    return {"endpoint": row.endpoint, "keys": {"p256dh": row.p256dh, "auth": row.auth}}


def _attempt(connection: push.Connection, subscription: dict, message: dict, ttl: int) -> Attempt:
    topic = message["notification"]["tag"]
    try:
        push.send(connection, subscription, message, ttl=ttl, topic=topic)
    except TransportError as err:
        result = "gone" if err.gone else "error" if err.permanent else "retry"
        return Attempt(result, err.detail, err.retry_after)
    return Attempt("sent")


def send_pending(now: datetime, report: Report, *, workers: int = 16) -> Report:
    """Send every claimable delivery.

    A pipeline: while one batch is on the wire, the next is claimed and queued, and a batch
    is recorded as soon as its last message is answered, so the sending threads seldom wait
    for the database.
    """
    in_flight: deque = deque()
    with push.connect(workers) as connection, ThreadPoolExecutor(max_workers=workers) as pool:
        while True:
            while len(in_flight) < IN_FLIGHT and (ids := claim(now)):
                jobs = _jobs(now, ids, report)
                futures = [
                    pool.submit(_attempt, connection, job.subscription, job.payload, _ttl(job.kind))
                    for job in jobs
                ]
                in_flight.append((jobs, futures))
            if not in_flight:
                break
            jobs, futures = in_flight.popleft()
            _record(now, list(zip(jobs, (f.result() for f in futures), strict=True)), report)
    return report


def _record(now: datetime, results: list[tuple[Job, Attempt]], report: Report) -> None:
    """Write each delivery's new state, and retire dead subscriptions, in a few statements."""
    by_delivery: dict[int, list[tuple[Job, Attempt]]] = defaultdict(list)
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
        details = "; ".join(o.detail for o in outcomes if o.result != "sent")
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


def _ttl(kind: str) -> int:
    return TTL.get(kind, 3600)


def _expires(kind: str, due_at: datetime) -> datetime:
    return due_at + timedelta(seconds=_ttl(kind))


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
    db.session.commit()

    workers = max(1, len(devices))
    with push.connect(workers) as connection, ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_attempt, connection, _subscription(d), body, 600) for d in devices]
        outcomes = [f.result() for f in futures]
    gone = [d.id for d, o in zip(devices, outcomes, strict=True) if o.result == "gone"]
    if gone:
        db.session.execute(delete(PushSubscription).where(PushSubscription.id.in_(gone)))
        db.session.commit()
    sent = sum(o.result == "sent" for o in outcomes)
    return sent, len(outcomes) - sent
