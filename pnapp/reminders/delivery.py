"""Delivery: claim due Delivery rows with a lease, send them through their channel (push to
every live device, or one mail), record the answers, back off and retry what may still
arrive, and retire dead addresses: push subscriptions the service says are gone, and mail
addresses that bounce (the person is asked to check theirs).

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

from sqlalchemy import delete, select, update

from pnapp.extensions import db
from pnapp.i18n import user_language
from pnapp.models import Delivery, PushSubscription, User
from pnapp.reminders import jobs
from pnapp.reminders.channels import TransportError, email, push
from pnapp.reminders.jobs import Job
from pnapp.reminders.payloads import payload
from pnapp.timeutil import utcnow

if TYPE_CHECKING:
    from pnapp.reminders import Report

LEASE = timedelta(minutes=10)
# Claimed rows are recorded a batch at a time, with a few batches on the wire at once, so a
# crash repeats at most SEND_BATCH * IN_FLIGHT pushes (and the push Topic collapses those).
# Batches of 256 rather than 64: the claiming and recording of a batch cost about the same
# statements whatever its size, and on PostgreSQL they held the 16 senders back (0.84 of a
# plain pywebpush loop; 0.99 with 256, bench/reminders.py).
SEND_BATCH = 256
IN_FLIGHT = 3


def claim(now: datetime, limit: int = SEND_BATCH, only: list[int] | None = None) -> list[int]:
    """Mark up to `limit` due deliveries (of `only`, when given) as ours (state sending,
    with a lease) and commit.

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
        if only is not None:
            due = due.where(Delivery.id.in_(only))
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
class Attempt:
    """What became of one message: sent, gone (the address is dead), retry or error."""

    result: str
    detail: str = ""
    retry_after: float | None = None


def _attempt(send, *args, **kwargs) -> Attempt:
    """One message through one channel's send, and what became of it."""
    try:
        send(*args, **kwargs)
    except TransportError as err:
        result = "gone" if err.gone else "error" if err.permanent else "retry"
        return Attempt(result, err.detail, err.retry_after)
    return Attempt("sent")


def _submit(pool: ThreadPoolExecutor, connections: tuple, job: Job):
    pushing, mailing = connections
    if job.channel == "email":
        return pool.submit(_attempt, email.send, mailing, job.message)
    topic = job.message["notification"]["tag"]
    return pool.submit(
        _attempt,
        push.send,
        pushing,
        job.subscription,
        job.message,
        ttl=jobs.ttl(job.kind),
        topic=topic,
    )


def send_pending(
    now: datetime, report: Report, *, workers: int = 16, only: list[int] | None = None
) -> Report:
    """Send every claimable delivery (of `only`, when given).

    A pipeline: while one batch is on the wire, the next is claimed and queued, and a batch
    is recorded as soon as its last message is answered, so the sending threads seldom wait
    for the database.
    """
    in_flight: deque = deque()
    with (
        push.connect(workers) as pushing,
        email.connect() as mailing,
        ThreadPoolExecutor(max_workers=workers) as pool,
    ):
        while True:
            while len(in_flight) < IN_FLIGHT and (ids := claim(now, only=only)):
                batch = jobs.build(now, ids, report)
                futures = [_submit(pool, (pushing, mailing), job) for job in batch]
                in_flight.append((batch, futures))
            if not in_flight:
                break
            batch, futures = in_flight.popleft()
            _record(now, list(zip(batch, (f.result() for f in futures), strict=True)), report)
    return report


def _record(now: datetime, results: list[tuple[Job, Attempt]], report: Report) -> None:
    """Write each delivery's new state, retire dead subscriptions and mark bouncing
    addresses, in a few statements."""
    by_delivery: dict[int, list[tuple[Job, Attempt]]] = defaultdict(list)
    sent_subs, gone_subs, failing_subs, bounced = [], [], [], []
    for job, outcome in results:
        by_delivery[job.delivery_id].append((job, outcome))
        report.outcomes[job.channel][outcome.result] += 1
        if job.channel == "email":
            if outcome.result == "gone":  # a permanent refusal of the address itself
                bounced.append(job.user_id)
            continue
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
            if now + wait > jobs.expires(job.kind, job.due_at):
                change.update(state="failed")
                report.failed += 1
            else:
                change.update(state="pending", next_attempt_at=now + wait)
                report.retried += 1
        elif seen == {"gone"} and job.channel == "push":
            change.update(state="gone")  # no device left to remind
            report.gone += 1
        else:
            change.update(state="failed")
            report.failed += 1
        changes.append(change)
    jobs.set_states(now, changes, commit=False)
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
        _retire(gone_subs, now)
        report.subscriptions_removed += len(set(gone_subs))
    if bounced:
        # Until they check it (a new verification link), no reminder mail goes there; a
        # banner on every page asks them to.
        db.session.execute(
            update(User.__table__)
            .where(User.__table__.c.id.in_(bounced))
            .values(email_bounced_at=now)
        )
    db.session.commit()


def _retire(subscription_ids: list[int], now: datetime) -> None:
    """Delete subscriptions the push service called gone, noting it on their people: with
    no device left, their reminders go by e-mail, and Settings says why."""
    owners = select(PushSubscription.user_id).where(PushSubscription.id.in_(subscription_ids))
    db.session.execute(
        update(User.__table__)
        .where(User.__table__.c.id.in_(owners.scalar_subquery()))
        .values(push_gone_at=now)
    )
    db.session.execute(delete(PushSubscription).where(PushSubscription.id.in_(subscription_ids)))


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
        futures = [
            pool.submit(
                _attempt, push.send, connection, jobs.subscription(d), body, ttl=600, topic="test"
            )
            for d in devices
        ]
        outcomes = [f.result() for f in futures]
    gone = [d.id for d, o in zip(devices, outcomes, strict=True) if o.result == "gone"]
    if gone:
        _retire(gone, utcnow())
        db.session.commit()
    sent = sum(o.result == "sent" for o in outcomes)
    return sent, len(outcomes) - sent
