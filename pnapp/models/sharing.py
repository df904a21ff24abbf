"""Caregivers: invitations and the shares they become."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload

from pnapp.errors import Conflict, Forbidden, Gone, NotFound
from pnapp.extensions import db
from pnapp.i18n import N_
from pnapp.models.types import UTCDateTime, hash_token
from pnapp.timeutil import utcnow

if TYPE_CHECKING:
    from pnapp.models.accounts import User

SCOPES = ("progress", "sessions", "notes", "alerts", "record", "digest", "heads_up")
DEFAULT_SCOPES = ["progress", "alerts"]


ALREADY_SHARING = N_(
    "You already follow this person, so this link changes nothing. "
    "They can change what you see on their sharing page."
)


class Invite(db.Model):
    """A one-time link a patient gives a caregiver. Only the token's hash is stored."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    patient: Mapped[User] = relationship()

    @classmethod
    def create(
        cls, patient: User, scopes: list[str], days: int, now: datetime | None = None
    ) -> tuple[Invite, str]:
        """A new invite and its token (the token is shown once, never stored)."""
        import secrets

        now = now or utcnow()
        token = secrets.token_urlsafe(32)
        invite = cls(
            patient_id=patient.id,
            token_hash=hash_token(token),
            scopes=sorted(set(scopes), key=SCOPES.index),
            expires_at=now + timedelta(days=days),
        )
        db.session.add(invite)
        db.session.commit()
        return invite, token

    @classmethod
    def by_token(cls, token: str) -> Invite | None:
        return db.session.scalar(select(cls).where(cls.token_hash == hash_token(token)))

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and self.expires_at > now

    @classmethod
    def pending(cls, patient: User, now: datetime | None = None) -> list[Invite]:
        """The patient's invites that still work, oldest first."""
        now = now or utcnow()
        return list(
            db.session.scalars(
                select(cls)
                .where(cls.patient_id == patient.id, cls.used_at.is_(None), cls.expires_at > now)
                .order_by(cls.created_at, cls.id)
            )
        )

    @classmethod
    def cancel(cls, patient: User, invite_id: int, now: datetime | None = None) -> None:
        """Kill one of the patient's working invites at once; anything else is a 404."""
        now = now or utcnow()
        voided = db.session.execute(
            update(cls)
            .where(
                cls.id == invite_id,
                cls.patient_id == patient.id,
                cls.used_at.is_(None),
                cls.expires_at > now,
            )
            .values(used_at=now)
        ).rowcount
        if voided != 1:
            db.session.rollback()
            raise NotFound()
        db.session.commit()

    @classmethod
    def void_all(cls, patient_id: int, now: datetime | None = None) -> None:
        """Kill every unused invite to this patient (the caller commits). Marking them used
        keeps their links answering "expired or already used", which is what a caregiver
        holding one needs to hear."""
        db.session.execute(
            update(cls)
            .where(cls.patient_id == patient_id, cls.used_at.is_(None))
            .values(used_at=now or utcnow())
        )

    @classmethod
    def accept(cls, token: str, caregiver: User, now: datetime | None = None) -> CareShare:
        """Use the invite once and make a share from it.

        1. Claim the invite with a conditional UPDATE, so two caregivers racing with the same
           link cannot both get in (410 for the loser, or for a used or expired link).
        2. A caregiver who already shares with this patient keeps the scopes they have: an
           invite never widens a share (409); the patient changes scopes instead.
        3. Insert the share. Two invites of one patient accepted at once by one caregiver
           both pass step 2; UNIQUE(patient_id, caregiver_id) stops the second (409).
        Each refusal rolls back, so the refused invite stays unused.
        """
        now = now or utcnow()
        invite = cls.by_token(token) if isinstance(token, str) else None
        if invite is None:
            raise NotFound(N_("That invitation link is not known."))
        if not caregiver.is_caregiver:
            raise Forbidden(N_("Only a caregiver account can accept an invitation."))
        claimed = db.session.execute(
            update(cls)
            .where(cls.id == invite.id, cls.used_at.is_(None), cls.expires_at > now)
            .values(used_at=now)
        ).rowcount
        if claimed != 1:
            db.session.rollback()
            raise Gone(
                N_("That invitation link has expired or was already used. Ask for a new one."),
            )
        if db.session.scalar(
            select(CareShare.id).where(
                CareShare.patient_id == invite.patient_id, CareShare.caregiver_id == caregiver.id
            )
        ):
            db.session.rollback()
            raise Conflict(ALREADY_SHARING)
        share = CareShare(
            patient_id=invite.patient_id, caregiver_id=caregiver.id, scopes=list(invite.scopes)
        )
        # Sharing again: the old "stopped sharing" line has nothing more to say. (Before the
        # add: the autoflush of a later statement would meet a racing twin's row outside the
        # try below.)
        db.session.execute(
            EndedShare.__table__.delete().where(
                EndedShare.patient_id == invite.patient_id,
                EndedShare.caregiver_id == caregiver.id,
            )
        )
        db.session.add(share)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            raise Conflict(ALREADY_SHARING) from None
        return share


class CareShare(db.Model):
    """A patient lets a caregiver see some of their data (scopes), until either ends it."""

    __tablename__ = "care_shares"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    caregiver_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    scopes: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    patient: Mapped[User] = relationship(foreign_keys=[patient_id])
    caregiver: Mapped[User] = relationship(foreign_keys=[caregiver_id])

    __table_args__ = (UniqueConstraint("patient_id", "caregiver_id"),)

    @classmethod
    def visible_to(cls, user: User) -> list[CareShare]:
        """A patient's caregivers, or a caregiver's patients."""
        column = cls.patient_id if user.is_patient else cls.caregiver_id
        return list(
            db.session.scalars(
                select(cls)
                .where(column == user.id)
                .order_by(cls.created_at, cls.id)
                .options(selectinload(cls.patient), selectinload(cls.caregiver))
            )
        )

    @classmethod
    def of(cls, user: User, share_id: int) -> CareShare:
        """A share this user is part of (either side), or 404."""
        share = db.session.get(cls, share_id)
        if share is None or user.id not in (share.patient_id, share.caregiver_id):
            raise NotFound()
        return share

    @classmethod
    def grant(cls, caregiver: User, patient_id: int, scope: str | None) -> CareShare:
        """The caregiver's share of this patient if it holds `scope` (any share when None);
        else a 404 that does not say whether the patient exists."""
        share = db.session.scalar(
            select(cls).where(cls.patient_id == patient_id, cls.caregiver_id == caregiver.id)
        )
        if share is None or (scope is not None and scope not in share.scopes):
            raise NotFound()
        return share

    def has(self, scope: str) -> bool:
        return scope in self.scopes

    def set_scopes(self, scopes: list[str]) -> None:
        """Change the scopes; narrowing voids the patient's unused invites, which could
        otherwise give back what was just taken away."""
        new = sorted(set(scopes), key=SCOPES.index)
        if set(self.scopes) - set(new):
            Invite.void_all(self.patient_id)
        self.scopes = new
        db.session.commit()

    def end(self, by: User | None = None, now: datetime | None = None) -> None:
        """End the share at once, with the patient's unused invites (as when narrowing).
        The caregiver is left a line saying who ended it and when, not a bare 404."""
        Invite.void_all(self.patient_id)
        db.session.execute(
            EndedShare.__table__.delete().where(
                EndedShare.patient_id == self.patient_id,
                EndedShare.caregiver_id == self.caregiver_id,
            )
        )
        db.session.add(
            EndedShare(
                patient_id=self.patient_id,
                caregiver_id=self.caregiver_id,
                ended_by="caregiver"
                if by is not None and by.id == self.caregiver_id
                else "patient",
                ended_at=now or utcnow(),
            )
        )
        db.session.delete(self)
        db.session.commit()


class EndedShare(db.Model):
    """What a caregiver is told about a share that ended: "<patient> stopped sharing on
    <date>". Only the pair, who ended it and when; it goes with either account."""

    __tablename__ = "ended_shares"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    caregiver_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    ended_by: Mapped[str] = mapped_column(String(16))
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    patient: Mapped[User] = relationship(foreign_keys=[patient_id])

    __table_args__ = (UniqueConstraint("patient_id", "caregiver_id"),)

    @classmethod
    def of_caregiver(cls, caregiver: User) -> list[EndedShare]:
        return list(
            db.session.scalars(
                select(cls)
                .where(cls.caregiver_id == caregiver.id)
                .order_by(cls.ended_at.desc())
                .options(selectinload(cls.patient))
            )
        )

    @classmethod
    def find(cls, caregiver: User, patient_id: int) -> EndedShare | None:
        return db.session.scalar(
            select(cls).where(cls.caregiver_id == caregiver.id, cls.patient_id == patient_id)
        )
