"""Encouragements: a caregiver sends one of a few kind preset messages to a patient they
share with, at most one a day (the patient's local day) per caregiver and patient. The
patient receives it by their own channels and sees it on the home page, unless they turned
encouragements off. Only the preset's key is stored: the words are said in the reader's
language when shown or sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship

from pnapp.errors import TooMany
from pnapp.extensions import db
from pnapp.i18n import N_
from pnapp.models.types import UTCDateTime
from pnapp.timeutil import local_date, local_midnight, utcnow

if TYPE_CHECKING:
    from pnapp.models.accounts import User

ENCOURAGEMENT = "encouragement"
PRESETS = {
    "thinking_of_you": N_("Thinking of you. Enjoy your massage this week."),
    "proud": N_("I am proud of you for keeping up your massages."),
    "drive": N_("I can drive you to your next massage. Just ask."),
    "rest": N_("Take it easy today. I am here if you need me."),
}
# How long the home page shows one.
SHOWN_FOR = timedelta(days=7)
ONE_A_DAY = N_("You already sent an encouragement today. You can send another tomorrow.")


class Encouragement(db.Model):
    __tablename__ = "encouragements"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    caregiver_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    message: Mapped[str] = mapped_column(String(32))
    # The patient's local date it was sent on: UNIQUE makes "one a day" hold under races.
    day: Mapped[str] = mapped_column(String(10))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    caregiver: Mapped[User] = relationship(foreign_keys=[caregiver_id])

    __table_args__ = (UniqueConstraint("patient_id", "caregiver_id", "day"),)

    @property
    def text(self) -> str:
        return PRESETS[self.message]

    @classmethod
    def send(
        cls, caregiver: User, patient: User, message: str, now: datetime | None = None
    ) -> Encouragement:
        """Store it and, unless the patient turned encouragements off, queue its delivery
        on the patient's ladder (sent right after the commit); a second one the same day
        is a 429 whose Retry-After runs to the patient's next midnight."""
        from pnapp.reminders.caring import plan_encouragement

        now = now or utcnow()
        today = local_date(now, patient.timezone)
        row = cls(
            patient_id=patient.id,
            caregiver_id=caregiver.id,
            message=message,
            day=today.isoformat(),
            sent_at=now,
        )
        db.session.add(row)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            midnight = local_midnight(today + timedelta(days=1), patient.timezone)
            raise TooMany(
                ONE_A_DAY,
                retry_after=max(1, int((midnight - now).total_seconds())),
            ) from None
        if patient.encouragements:
            plan_encouragement(row, patient, now)
        db.session.commit()
        return row

    @classmethod
    def sent_today(cls, caregiver: User, patient: User, now: datetime | None = None) -> bool:
        today = local_date(now or utcnow(), patient.timezone).isoformat()
        return bool(
            db.session.scalar(
                select(cls.id).where(
                    cls.patient_id == patient.id,
                    cls.caregiver_id == caregiver.id,
                    cls.day == today,
                )
            )
        )

    @classmethod
    def for_home(cls, patient: User, now: datetime | None = None) -> list[Encouragement]:
        """The patient's encouragements of the last week, newest first (none when off)."""
        if not patient.encouragements:
            return []
        now = now or utcnow()
        return list(
            db.session.scalars(
                select(cls)
                .where(cls.patient_id == patient.id, cls.sent_at > now - SHOWN_FOR)
                .order_by(cls.sent_at.desc(), cls.id.desc())
                .limit(3)
                .options(joinedload(cls.caregiver))  # one query with the names, not two
            )
        )
