"""The patient's global impression of change (PGIC, CLINICAL.md): a seven-point answer now
and then, stored with its time."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, func, select
from sqlalchemy.orm import Mapped, mapped_column

from pnapp.errors import Conflict
from pnapp.extensions import db
from pnapp.i18n import N_
from pnapp.models.sessions import MassageSession
from pnapp.models.types import UTCDateTime
from pnapp.timeutil import local_date, utcnow

if TYPE_CHECKING:
    from pnapp.models.accounts import User

# The patient version of the Clinical Global Impression (Guy 1976), in the public domain
# (CLINICAL.md). In English as FHIR shows it; pnapp.labels gives them in the reader's language.
QUESTION = N_("Since you started regular massage, how would you describe your condition overall?")
ANSWERS = {
    1: N_("Very much improved"),
    2: N_("Much improved"),
    3: N_("Minimally improved"),
    4: N_("No change"),
    5: N_("Minimally worse"),
    6: N_("Much worse"),
    7: N_("Very much worse"),
}
PGIC_VALUES = tuple(ANSWERS)


class PgicAnswer(db.Model):
    __tablename__ = "pgic_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    value: Mapped[int] = mapped_column(Integer)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("value BETWEEN 1 AND 7", name="value"),
        # Serves the progress window and "answered today?": one patient's answers by time.
        Index("ix_pgic_answers_patient_answered", "patient_id", "answered_at"),
    )

    @property
    def label(self):
        """The answer's words, in the reader's language."""
        from pnapp.labels import PGIC_LABELS

        return PGIC_LABELS[self.value]

    @property
    def improved(self) -> bool:
        """Much or very much improved: the usual responder definition (Farrar 2001)."""
        return self.value <= 2

    @classmethod
    def record(cls, patient: User, value: int, now: datetime | None = None) -> PgicAnswer:
        """Store an answer; a second one on the same local day is a Conflict.

        The patient's row is locked first (FOR UPDATE on PostgreSQL; SQLite's writing
        requests already hold the write lock), so two answers sent at once cannot both find
        the day still free."""
        from pnapp.models.accounts import User

        now = now or utcnow()
        db.session.execute(select(User.id).where(User.id == patient.id).with_for_update())
        last = cls.latest(patient)
        if last and local_date(last.answered_at, patient.timezone) == local_date(
            now, patient.timezone
        ):
            raise Conflict(N_("You already answered this question today."))
        answer = cls(patient_id=patient.id, value=value, answered_at=now)
        db.session.add(answer)
        db.session.commit()
        return answer

    @classmethod
    def skip(cls, patient: User, now: datetime | None = None) -> None:
        """ "Not now": the question waits another 28 days, like after an answer."""
        patient.pgic_asked_at = now or utcnow()
        db.session.commit()

    @classmethod
    def latest(cls, patient: User) -> PgicAnswer | None:
        return db.session.scalar(
            select(cls)
            .where(cls.patient_id == patient.id)
            .order_by(cls.answered_at.desc(), cls.id.desc())
            .limit(1)
        )

    @classmethod
    def since(cls, patient: User, start: datetime | None = None) -> list[PgicAnswer]:
        """The patient's answers (from `start` on), oldest first."""
        query = select(cls).where(cls.patient_id == patient.id)
        if start is not None:
            query = query.where(cls.answered_at >= start)
        return list(db.session.scalars(query.order_by(cls.answered_at, cls.id)))

    @classmethod
    def due(cls, patient: User, now: datetime | None = None) -> bool:
        """Whether to offer the question on this visit (pnapp.progress.pgic_due), from two
        small queries whatever the history: the last answer, then how many sessions started
        since it (or at all) by now, and the latest start."""
        from pnapp.progress import pgic_due

        now = now or utcnow()
        last = cls.latest(patient)
        query = select(func.count(), func.max(MassageSession.started_at)).where(
            MassageSession.patient_id == patient.id, MassageSession.started_at <= now
        )
        if last is not None:
            query = query.where(MassageSession.started_at > last.answered_at)
        count, latest = db.session.execute(query).one()
        return pgic_due(
            now,
            count if last is not None else max(0, count - 1),  # since the first one
            latest,
            last_answer_at=last.answered_at if last else None,
            last_asked_at=patient.pgic_asked_at,
        )
