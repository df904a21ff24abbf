"""Everything stored about an account, as one JSON document, minus secrets (password and
token hashes, push encryption keys)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from pnapp.extensions import db
from pnapp.models import (
    AccessEntry,
    CareShare,
    Delivery,
    Encouragement,
    Invite,
    Link,
    MassageSession,
    PgicAnswer,
    PushSubscription,
    Therapist,
    User,
)
from pnapp.timeutil import to_utc_iso, utcnow


def _row(obj: Any, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every stored column of a row (so a column added later is exported too), times as ISO
    UTC with Z like the API, days (a date of birth) as YYYY-MM-DD."""
    out = {}
    for column in obj.__table__.columns:
        if column.key in exclude:
            continue
        value = getattr(obj, column.key)
        if isinstance(value, datetime):
            value = to_utc_iso(value)
        elif isinstance(value, date):
            value = value.isoformat()
        out[column.key] = value
    return out


def _person(user: User) -> dict[str, Any]:
    return {"id": user.id, "display_name": user.display_name}


def all_json(patient: User, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything stored about the account. Left out: the password hash, invite token
    hashes, the calendar feed's secret and push encryption keys (secrets, not data about the
    person), and the other side of a share beyond their id and name (their data, not this
    account's)."""
    shares = db.session.scalars(
        select(CareShare)
        .where(or_(CareShare.patient_id == patient.id, CareShare.caregiver_id == patient.id))
        .order_by(CareShare.created_at, CareShare.id)
        .options(selectinload(CareShare.patient), selectinload(CareShare.caregiver))
    )

    def rows(model, column, **kwargs) -> list[dict[str, Any]]:
        query = select(model).where(column == patient.id).order_by(model.id)
        return [_row(r, **kwargs) for r in db.session.scalars(query)]

    return {
        "exported_at": to_utc_iso(now or utcnow()),
        "user": _row(patient, exclude=("password_hash", "calendar_token")),
        "sessions": rows(MassageSession, MassageSession.patient_id),
        "therapists": rows(Therapist, Therapist.patient_id),
        "pgic_answers": rows(PgicAnswer, PgicAnswer.patient_id),
        "shares": [
            {
                "id": s.id,
                "patient": _person(s.patient),
                "caregiver": _person(s.caregiver),
                "scopes": s.scopes,
                "created_at": to_utc_iso(s.created_at),
            }
            for s in shares
        ],
        "invites": rows(Invite, Invite.patient_id, exclude=("token_hash",)),
        "push_subscriptions": rows(
            PushSubscription, PushSubscription.user_id, exclude=("p256dh", "auth")
        ),
        "deliveries": rows(Delivery, Delivery.user_id),
        # The encrypted files and the hashes open nothing without the link: left out.
        "links": rows(Link, Link.patient_id, exclude=("manifest_hash", "passcode_hash", "files")),
        # Who looked at this account's data, and the kind words received.
        "access_log": rows(AccessEntry, AccessEntry.patient_id),
        "encouragements": rows(Encouragement, Encouragement.patient_id),
    }
