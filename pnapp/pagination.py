"""Keyset pagination over a patient's sessions, newest first.

The cursor names the last row returned (its start time and id), so rows added meanwhile
are neither skipped nor repeated, whatever page a client is on.
"""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, or_, select

from pnapp.errors import Invalid
from pnapp.extensions import db
from pnapp.i18n import N_
from pnapp.models import MassageSession, User
from pnapp.timeutil import local_midnight


def encode_cursor(session: MassageSession) -> str:
    raw = f"{session.started_at.astimezone(UTC).isoformat()}|{session.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _, ident = raw.partition("|")
        started = datetime.fromisoformat(when)
        ident = int(ident)
        # Only what this API gives out: aware times in a sane range, ids a database can hold.
        if started.tzinfo is None or not 1 <= ident <= 2**31 - 1:
            raise ValueError
        if not 2000 <= started.astimezone(UTC).year <= 9000:
            raise ValueError
        return started, ident
    except (ValueError, OverflowError, UnicodeDecodeError):
        raise Invalid(fields={"cursor": [N_("Not a cursor this API gave out.")]}) from None


def session_page(
    patient: User,
    *,
    limit: int = 50,
    cursor: str | None = None,
    from_: date | None = None,
    to: date | None = None,
) -> tuple[list[MassageSession], str | None]:
    """One page of sessions, with the cursor for the next page (None on the last page).

    `from` and `to` are dates in the patient's own zone, both included.
    """
    query = select(MassageSession).where(MassageSession.patient_id == patient.id)
    if from_:
        query = query.where(MassageSession.started_at >= local_midnight(from_, patient.timezone))
    if to:
        end = local_midnight(to + timedelta(days=1), patient.timezone)
        query = query.where(MassageSession.started_at < end)
    if cursor:
        started, ident = decode_cursor(cursor)
        query = query.where(
            or_(
                MassageSession.started_at < started,
                and_(MassageSession.started_at == started, MassageSession.id < ident),
            )
        )
    query = query.order_by(MassageSession.started_at.desc(), MassageSession.id.desc())
    rows = list(db.session.scalars(query.limit(limit + 1)))
    if len(rows) > limit:
        return rows[:limit], encode_cursor(rows[limit - 1])
    return rows, None
