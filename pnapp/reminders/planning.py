"""Planning: what is due at `now`, and for whom, written as Delivery rows before anything is
sent. Weekly reminders for patients, a nudge to rate a session afterwards, and caregiver
alerts about a missed week, each by the channels the ladder picks for its person (push to a
live device, e-mail to a confirmed address; models.delivery.ladder); the unique (user, kind,
period, channel) constraint drops a row another scheduler wrote first.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import String, and_, cast, exists, literal, or_, select, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import selectinload

from pnapp.extensions import db
from pnapp.i18n import user_language
from pnapp.models import CareShare, Delivery, MassageSession, PushSubscription, User
from pnapp.models.delivery import PASSWORD_RESET, VERIFY_EMAIL, channels_for
from pnapp.reminders.payloads import (
    AFTER_NUDGE,
    DIGEST,
    ENCOURAGEMENT,
    HEADS_UP,
    MISSED_WEEK,
    WEEKLY,
    payload,
    weekly_payload,
)
from pnapp.timeutil import (
    iso_week_label,
    local_date,
    local_midnight,
    next_weekly,
    week_bounds,
    week_start,
)

# Caregivers hear about a missed week on Monday morning in the patient's zone, not at midnight.
MISSED_WEEK_ALERT_HOUR = 9

# A weekly reminder found more than this late (scheduler down, zone changed) is skipped
# rather than sent at an odd hour.
LATE_LIMIT = timedelta(hours=6)
BATCH = 500
# How long a message is worth sending (a reset link is dead after an hour anyway).
TTL = {
    WEEKLY: 12 * 3600,
    AFTER_NUDGE: 6 * 3600,
    MISSED_WEEK: 12 * 3600,
    HEADS_UP: 6 * 3600,
    DIGEST: 24 * 3600,
    ENCOURAGEMENT: 24 * 3600,
    VERIFY_EMAIL: 24 * 3600,
    PASSWORD_RESET: 3600,
}


def plan_weekly(now: datetime) -> int:
    """Weekly reminders for patients whose reminder time has come.

    1. Take due patients (next_reminder_at <= now), locking them on PostgreSQL so that a
       concurrent scheduler takes others.
    2. Move each one's next_reminder_at to next week's instant.
    3. Write a Delivery per channel the ladder picks for those whose week's goal is not met
       and whose reminder is not stale; the unique constraint drops any duplicate.
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
                *LADDER_COLUMNS,
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
        with_devices = _with_devices([u.id for u in users])
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
            if now - due > LATE_LIMIT or user.id in met:
                continue
            week = iso_week_label(local_date(due, user.timezone))
            rows += _deliveries(
                user,
                user.id in with_devices,
                WEEKLY,
                week,
                due,
                lambda user=user, week=week: weekly_payload(week, user_language(user)),
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
            *LADDER_COLUMNS,
            HAS_DEVICE.label("has_device"),
        )
        .join(User, User.id == MassageSession.patient_id)
        .where(
            User.reminder_enabled,  # reminders off means no nudges either
            MassageSession.after_pain.is_(None),
            MassageSession.started_at <= now - after,
            MassageSession.started_at > now - after - timedelta(hours=18),
            REACHABLE,
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
        delivery
        for row in found
        for delivery in _deliveries(
            row,
            row.has_device,
            AFTER_NUDGE,
            f"session-{row.id}",
            row.started_at + after,
            lambda row=row: payload(
                AFTER_NUDGE,
                tag=f"after-{row.id}",
                path=f"/sessions/{row.id}#after",
                language=user_language(row),
                actions=(("rate", f"/sessions/{row.id}#after"),),
                badge=1,
            ),
            user_id=row.patient_id,
        )
    ]
    planned = _insert_new(rows)
    db.session.commit()
    return planned


def plan_missed_weeks(now: datetime) -> int:
    """Tell caregivers holding the `alerts` scope when a patient's week ended with the goal
    not met: once per caregiver, patient and week, on Monday morning in the patient's zone,
    by the caregiver's own channels."""
    due = []
    for share in shares_with("alerts"):
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
    rows = to_caregivers(
        MISSED_WEEK,
        "missed",
        [
            (share, iso_week_label(local_date(began, share.patient.timezone)), alert_at)
            for share, began, _, alert_at in due
            if counts[share.id] < share.patient.weekly_goal
        ],
    )
    planned = _insert_new(rows)
    db.session.commit()
    return planned


def shares_with(scope: str) -> list[CareShare]:
    """Shares holding `scope` whose caregiver can be reached at all."""
    shares = db.session.scalars(
        select(CareShare)
        .join(User, User.id == CareShare.caregiver_id)
        .where(REACHABLE)
        .options(selectinload(CareShare.patient), selectinload(CareShare.caregiver))
    ).all()
    return [s for s in shares if s.has(scope)]


def to_caregivers(kind: str, tag: str, items: list[tuple[CareShare, str, datetime]]) -> list[dict]:
    """The rows of a message about a patient to each caregiver, for (share, week, due)
    items, on the caregiver's ladder; the push opens the patient's page."""
    with_devices = _with_devices([share.caregiver_id for share, _, _ in items])
    return [
        row
        for share, week, due in items
        for row in _deliveries(
            share.caregiver,
            share.caregiver_id in with_devices,
            kind,
            f"{share.patient_id}:{week}",
            due,
            lambda share=share, week=week: payload(
                kind,
                tag=f"{tag}-{share.patient_id}-{week.replace('-', '')}",
                path=f"/care/{share.patient_id}",
                language=user_language(share.caregiver),
                name=share.patient.display_name,
            ),
        )
    ]


# What the ladder reads of a person, and the same rule in SQL to skip those it would find
# unreachable (no live device, no address reminder mail may go to) before looking closer.
LADDER_COLUMNS = (
    User.reminder_channels,
    User.push_blocked,
    User.email_verified,
    User.email_bounced_at,
    User.email_reminders,
)
HAS_DEVICE = exists().where(PushSubscription.user_id == User.id)
EMAIL_OK = and_(User.email_verified, User.email_bounced_at.is_(None), User.email_reminders)
REACHABLE = or_(and_(HAS_DEVICE, ~User.push_blocked), EMAIL_OK)


def _with_devices(user_ids: list[int]) -> set[int]:
    return set(
        db.session.scalars(
            select(PushSubscription.user_id)
            .where(PushSubscription.user_id.in_(user_ids))
            .distinct()
        )
    )


def _deliveries(
    person, has_device: bool, kind: str, period: str, due: datetime, push_payload, user_id=None
) -> list[dict]:
    """One row per channel the ladder picks for `person` (a row with LADDER_COLUMNS, or a
    User). A mail's row carries no payload: the mail is written when it is sent, in the
    person's language then, with links whose tokens must not wait in this table."""
    user_id = user_id if user_id is not None else person.id
    return [
        _delivery(user_id, kind, period, due, push_payload() if c == "push" else {}, c)
        for c in channels_for(person, has_device)
    ]


def _delivery(
    user_id: int, kind: str, period: str, due: datetime, body: dict, channel: str = "push"
) -> dict:
    return {
        "user_id": user_id,
        "kind": kind,
        "period": period,
        "channel": channel,
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
        index_elements=["user_id", "kind", "period", "channel"]
    )
    return len(db.session.execute(stmt.returning(Delivery.id), rows).all())


# A batch as one array per column of _delivery's rows: psycopg would otherwise rewrite a
# multi-row VALUES statement with thousands of placeholders for every batch, which cost more
# than the insert itself.
_INSERT_POSTGRESQL = text(
    """
    INSERT INTO deliveries
        (user_id, kind, period, channel, state, attempts, due_at, next_attempt_at, payload,
         created_at)
    SELECT batch.*, now()
    FROM unnest(
        CAST(:user_id AS integer[]), CAST(:kind AS text[]), CAST(:period AS text[]),
        CAST(:channel AS text[]), CAST(:state AS text[]), CAST(:attempts AS integer[]),
        CAST(:due_at AS timestamptz[]),
        CAST(:next_attempt_at AS timestamptz[]), CAST(:payload AS json[])
    ) AS batch
    ON CONFLICT (user_id, kind, period, channel) DO NOTHING
    RETURNING id
    """
)


def _insert_new_postgresql(rows: list[dict]) -> int:
    arrays = {key: [row[key] for row in rows] for key in rows[0]}
    arrays["payload"] = [json.dumps(p) for p in arrays["payload"]]
    return len(db.session.execute(_INSERT_POSTGRESQL, arrays).all())
