"""Links for a therapist or a doctor (SMART Health Links, API.md).

A link's files are encrypted when it is made, under a key that only the link itself carries:
the server keeps the encrypted files and a hash of the manifest address, never the key, so
what it stores cannot be read without the link. A passcode, when set, is kept as an Argon2
hash like a password; ten wrong ones kill the link for good.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, func, select, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pnapp.errors import NotFound
from pnapp.extensions import db
from pnapp.models import accounts
from pnapp.models.access import record_access
from pnapp.models.types import UTCDateTime, hash_token
from pnapp.timeutil import utcnow

if TYPE_CHECKING:
    from pnapp.models.accounts import User

CONTENTS = ("summary", "report", "fhir")
MAX_FAILURES = 10
DAYS = (1, 90)


class WrongPasscode(Exception):
    """The passcode was missing or wrong; `remaining` tries are left (0: the link is dead)."""

    def __init__(self, remaining: int):
        super().__init__("wrong passcode")
        self.remaining = remaining


class Link(db.Model):
    """One link a patient gave a therapist or a doctor."""

    __tablename__ = "links"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the random last segment of the manifest address (the address is the secret).
    manifest_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(80))
    contents: Mapped[list] = mapped_column(JSON)
    with_notes: Mapped[bool] = mapped_column(Boolean, default=False)
    # [{"contentType": ..., "embedded": <compact JWE>}], made once, readable only with the key.
    files: Mapped[list] = mapped_column(JSON)
    passcode_hash: Mapped[str | None] = mapped_column(String(200))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    opens: Mapped[int] = mapped_column(Integer, default=0)
    last_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    patient: Mapped[User] = relationship()

    @property
    def passcode(self) -> bool:
        return self.passcode_hash is not None

    def active_at(self, now: datetime) -> bool:
        return self.revoked_at is None and self.failures < MAX_FAILURES and self.expires_at > now

    @property
    def active(self) -> bool:
        return self.active_at(utcnow())

    @staticmethod
    def new_manifest_id() -> str:
        """The manifest address's last segment: 32 random bytes (256 bits), 43 characters."""
        return secrets.token_urlsafe(32)

    @classmethod
    def create(
        cls,
        patient: User,
        *,
        manifest_id: str,
        label: str,
        contents: list[str],
        with_notes: bool,
        files: list[dict],
        days: int,
        passcode: str | None,
        now: datetime | None = None,
    ) -> Link:
        now = now or utcnow()
        link = cls(
            patient_id=patient.id,
            manifest_hash=hash_token(manifest_id),
            label=label.strip(),
            contents=[c for c in CONTENTS if c in contents],
            with_notes=with_notes,
            files=files,
            passcode_hash=accounts._hasher.hash(passcode) if passcode else None,
            expires_at=now + timedelta(days=days),
            created_at=now,
        )
        db.session.add(link)
        db.session.commit()
        return link

    @classmethod
    def of_patient(cls, patient: User) -> list[Link]:
        """Every link the patient made, newest first (dead ones too, so they can see them)."""
        return list(
            db.session.scalars(
                select(cls)
                .where(cls.patient_id == patient.id)
                .order_by(cls.created_at.desc(), cls.id.desc())
            )
        )

    @classmethod
    def revoke(cls, patient: User, link_id: int, now: datetime | None = None) -> None:
        """Kill one of the patient's links at once; another person's is a 404."""
        done = db.session.execute(
            update(cls)
            .where(cls.id == link_id, cls.patient_id == patient.id)
            # A link revoked twice keeps the moment it was first revoked.
            .values(revoked_at=func.coalesce(cls.revoked_at, now or utcnow()))
        ).rowcount
        if done != 1:
            db.session.rollback()
            raise NotFound()
        db.session.commit()

    @classmethod
    def open(cls, manifest_id: str, passcode: object, now: datetime | None = None) -> Link:
        """The link behind a manifest address, opened with its passcode when it has one.

        Unknown, expired, revoked or dead: NotFound (the same for all four). A missing or
        wrong passcode counts one failure with a conditional UPDATE, so two wrong guesses
        at once both count, and raises WrongPasscode with the tries left."""
        now = now or utcnow()
        link = db.session.scalar(select(cls).where(cls.manifest_hash == hash_token(manifest_id)))
        if link is None or not link.active_at(now):
            raise NotFound()
        if link.passcode_hash is not None and not link.passcode_matches(passcode):
            db.session.execute(
                update(cls)
                .where(cls.id == link.id, cls.failures < MAX_FAILURES)
                .values(failures=cls.failures + 1)
            )
            db.session.commit()
            db.session.refresh(link)
            raise WrongPasscode(max(0, MAX_FAILURES - link.failures))
        link.record_open(now)
        return link

    @classmethod
    def file_state(cls, link_id: int, number: int) -> tuple | None:
        """What a file's `location` address is signed over (pnapp.tokens): the link and the
        file's number, while the link works; None once it does not."""
        link = db.session.get(cls, link_id)
        if link is None or not link.active or not 1 <= number <= len(link.files):
            return None
        return (link.manifest_hash, number)

    def passcode_matches(self, passcode: object) -> bool:
        if not isinstance(passcode, str) or not passcode:
            return False
        try:
            return accounts._hasher.verify(self.passcode_hash, passcode)
        except (VerificationError, InvalidHashError):
            return False

    def record_open(self, now: datetime | None = None) -> None:
        """Count one open of the link (the manifest handed out its files)."""
        now = now or utcnow()
        db.session.execute(
            update(Link).where(Link.id == self.id).values(opens=Link.opens + 1, last_opened_at=now)
        )
        # The patient's access log shows the open under the link's label; one commit for both.
        record_access(self.patient_id, "link", label=self.label, now=now)
        db.session.refresh(self)
