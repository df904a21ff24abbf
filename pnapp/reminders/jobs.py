"""What a pass sends: the claimed Delivery rows made into messages, one per live device for
push and one finished mail for e-mail, after dropping the rows nobody wants any more (too
late, reminders turned off, a share ended, a mail no longer due); and the bulk update that
records a row's new state, which the delivery loop shares.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, update

from pnapp.extensions import db
from pnapp.models import CareShare, Delivery, PushSubscription, User
from pnapp.reminders import mails
from pnapp.reminders.caring import SCOPE_OF
from pnapp.reminders.planning import AFTER_NUDGE, ENCOURAGEMENT, MISSED_WEEK, TTL, WEEKLY
from pnapp.reminders.snooze import SNOOZE_FOR

if TYPE_CHECKING:
    from pnapp.reminders import Report


@dataclass(frozen=True)
class Job:
    """One message to one device or address, as plain values the sending threads can hold:
    for push, the payload and the subscription; for e-mail, the finished message."""

    delivery_id: int
    user_id: int
    kind: str
    channel: str
    due_at: datetime
    attempts: int
    message: Any
    subscription_id: int | None = None
    subscription: dict | None = None


def build(now: datetime, ids: list[int], report: Report) -> list[Job]:
    """The messages for claimed deliveries. Those expired, no longer wanted or with no
    device left are recorded at once; then the transaction ends, before anything is sent."""
    rows = db.session.execute(
        select(
            Delivery.id,
            Delivery.user_id,
            Delivery.kind,
            Delivery.period,
            Delivery.channel,
            Delivery.due_at,
            Delivery.attempts,
            Delivery.payload,
        ).where(Delivery.id.in_(ids))
    ).all()
    unwanted = _unwanted(rows)
    # Too late: the push service would drop it, and so do we.
    expired = [r for r in rows if now > expires(r.kind, r.due_at) and r.id not in unwanted]
    unwanted.update({r.id: "expired" for r in expired})
    live = [r for r in rows if r.id not in unwanted]
    ready, not_mailed = mails.jobs([r for r in live if r.channel == "email"])
    unwanted.update(not_mailed)
    if unwanted:
        failed = [{"id": i, "state": "failed", "last_error": why} for i, why in unwanted.items()]
        set_states(now, failed, commit=False)
        report.failed += len(failed)
    jobs = [
        Job(r.id, r.user_id, r.kind, "email", r.due_at, r.attempts, message) for r, message in ready
    ]
    jobs += _push_jobs(now, [r for r in live if r.channel == "push"], report)
    # Nothing may wait on the network inside a transaction: on SQLite it would hold the
    # write lock, and every patient's entry would queue behind a slow push service.
    db.session.commit()
    return jobs


def _push_jobs(now: datetime, live: list, report: Report) -> list[Job]:
    """One job per live device of each push delivery; one with no device left is gone."""
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
        Job(r.id, r.user_id, r.kind, "push", r.due_at, r.attempts, r.payload, s.id, subscription(s))
        for r in live
        for s in subs[r.user_id]
    ]
    with_devices = {j.delivery_id for j in jobs}
    deviceless = [r.id for r in live if r.id not in with_devices]
    if deviceless:
        set_states(now, [{"id": i, "state": "gone"} for i in deviceless], commit=False)
        report.gone += len(deviceless)
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
        unwanted.update(_snoozed_but_done([r for r in reminding if r.id not in unwanted]))
    needs = {MISSED_WEEK: "alerts", **SCOPE_OF}
    alerts = [r for r in rows if r.kind in needs]
    if alerts:
        shares = db.session.execute(
            select(CareShare.patient_id, CareShare.caregiver_id, CareShare.scopes).where(
                CareShare.caregiver_id.in_({r.user_id for r in alerts})
            )
        ).all()
        held = {(s.caregiver_id, str(s.patient_id)): s.scopes for s in shares}
        unwanted.update(
            {
                r.id: "share ended"
                for r in alerts
                if needs[r.kind] not in held.get((r.user_id, r.period.split(":", 1)[0]), ())
            }
        )
    unwanted.update(_unwanted_encouragements([r for r in rows if r.kind == ENCOURAGEMENT]))
    return unwanted


def _unwanted_encouragements(rows: list) -> dict[int, str]:
    """Encouragements to a patient who turned them off since."""
    if not rows:
        return {}
    willing = set(
        db.session.scalars(
            select(User.id).where(User.id.in_({r.user_id for r in rows}), User.encouragements)
        )
    )
    return {r.id: "encouragements off" for r in rows if r.user_id not in willing}


def _snoozed_but_done(rows: list) -> dict[int, str]:
    """ "Remind me tomorrow" rows whose week's goal was met meanwhile (a few a day at most)."""
    snoozed = [r for r in rows if r.kind == WEEKLY and r.period.endswith(":snooze")]
    done = {}
    for row in snoozed:
        user = db.session.get(User, row.user_id)
        # The week of the tap (the reminder comes a day later, maybe in the next week).
        tapped = row.due_at - SNOOZE_FOR
        if user is not None and user.sessions_in_week(tapped) >= user.weekly_goal:
            done[row.id] = "goal met"
    return done


def subscription(row) -> dict:
    """A PushSubscription row as the push channel's address."""
    return {"endpoint": row.endpoint, "keys": {"p256dh": row.p256dh, "auth": row.auth}}


# Core, not the ORM's bulk UPDATE by primary key: that one raises StaleDataError when a row
# has gone (an account deleted mid-batch cascades to its deliveries), and the whole batch's
# results would be lost and everyone else's reminders sent again after the lease.
_SET_STATE = update(Delivery.__table__).where(Delivery.__table__.c.id == bindparam("delivery_id"))


def set_states(now: datetime, changes: list[dict], commit: bool = True) -> None:
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


def ttl(kind: str) -> int:
    return TTL.get(kind, 3600)


def expires(kind: str, due_at: datetime) -> datetime:
    return due_at + timedelta(seconds=ttl(kind))
