"""Passkeys: a person's WebAuthn credentials, with which they sign in by face, fingerprint or
the phone's PIN instead of a password (pnapp/passkeys.py runs the ceremonies)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pnapp.errors import NotFound
from pnapp.extensions import db
from pnapp.models.types import UTCDateTime
from pnapp.timeutil import utcnow

if TYPE_CHECKING:
    from pnapp.models.accounts import User

# Enough for every phone, tablet and computer a person has, and a spare; few enough that
# nobody can pile up credentials.
MAX_PASSKEYS = 10
NAME_LENGTH = 60


class Passkey(db.Model):
    """One WebAuthn credential. Only the public key is kept: a copy of this table signs
    nobody in."""

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # base64url, as the browser names it; at most 1023 bytes (WebAuthn), so 1364 characters.
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    # The authenticator's counter (32 bits, unsigned): a cloned key shows by going backwards.
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    # The user handle this credential was made with: a discoverable sign-in hands it back,
    # and it must be its owner's (RECIPES.md).
    user_handle: Mapped[bytes] = mapped_column(LargeBinary(64))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    transports: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @classmethod
    def of(cls, user: User) -> list[Passkey]:
        return list(
            db.session.scalars(
                select(cls).where(cls.user_id == user.id).order_by(cls.created_at, cls.id)
            )
        )

    @classmethod
    def own(cls, user: User, passkey_id: int) -> Passkey:
        """The person's passkey, or a 404 that does not tell whether it is someone else's."""
        found = db.session.get(cls, passkey_id)
        if found is None or found.user_id != user.id:
            raise NotFound()
        return found

    @classmethod
    def by_credential(cls, credential_id: str) -> Passkey | None:
        return db.session.scalar(select(cls).where(cls.credential_id == credential_id))

    @property
    def is_last(self) -> bool:
        return len(Passkey.of(self.user)) == 1

    def rename(self, name: str) -> None:
        self.name = name
        db.session.commit()

    def remove(self) -> None:
        db.session.delete(self)
        db.session.commit()


class PasskeyChallenge(db.Model):
    """A challenge handed to a browser, kept until used once or stale. The session cookie is
    kept by the browser, so a challenge only in it could be sent again with an old copy of
    the cookie: here, using it deletes it, whichever worker answers."""

    __tablename__ = "passkey_challenges"

    challenge_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # "register" (for user_id) or "sign-in" (for whoever holds the passkey).
    purpose: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The handle a new passkey is made with (registration only).
    user_handle: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
