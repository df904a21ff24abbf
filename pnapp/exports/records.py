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
