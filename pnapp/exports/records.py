"""The patient's rows every export reads, oldest first."""

from __future__ import annotations

from sqlalchemy import select

from pnapp.extensions import db
from pnapp.models import MassageSession, Therapist, User

WHENS = ("before", "after")


def patient_sessions(patient: User) -> list[MassageSession]:
    return list(
        db.session.scalars(
            select(MassageSession)
            .where(MassageSession.patient_id == patient.id)
            .order_by(MassageSession.started_at, MassageSession.id)
        )
    )


def patient_therapists(patient: User) -> dict[int, Therapist]:
    query = select(Therapist).where(Therapist.patient_id == patient.id)
    return {t.id: t for t in db.session.scalars(query)}


def recorders(patient: User, sessions: list[MassageSession]) -> dict[int, User]:
    """The people other than the patient who entered some of these sessions (a caregiver
    with the `record` scope), by user id."""
    ids = {s.entered_by for s in sessions if s.entered_by not in (None, patient.id)}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
