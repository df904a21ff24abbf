"""Logins: one row per logged-in device, so that logging out really ends it."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import ForeignKey, String, bindparam, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship

from pnapp.extensions import db
from pnapp.models.types import UTCDateTime, hash_token
from pnapp.timeutil import utcnow

if TYPE_CHECKING:
    from pnapp.models.accounts import User


class Login(db.Model):
    """One device's login, kept on the server so that logging out really ends it.

    The cookie holds a random token (signed by Flask); only its SHA-256 is stored, so a copy
    of this table logs nobody in.
    """

    __tablename__ = "logins"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # How the person proved who they are: "password" today; passkeys and links to come.
    method: Mapped[str] = mapped_column(String(16), default="password")
    user_agent: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()

    # How often last_seen_at is written: a read-only page should not write every time.
    SEEN_EVERY = timedelta(minutes=5)
    token = None  # the cookie's token: set only on the object made by start() or found()

    @classmethod
    def start(cls, user: User, user_agent: str | None, method: str = "password", now=None) -> Login:
        import secrets

        now = now or utcnow()
        token = secrets.token_urlsafe(32)
        login = cls(
            user_id=user.id,
            token_hash=hash_token(token),
            method=method,
            user_agent=(user_agent or "")[:200] or None,
            created_at=now,
            last_seen_at=now,
        )
        db.session.add(login)
        db.session.flush()
        login.token = token
        user.login = login
        return login

    @classmethod
    def found(cls, token: str, now: datetime | None = None) -> User | None:
        """The user of a live login, with .login set; None for an ended or unknown one."""
        if not isinstance(token, str) or not token:
            return None
        login = db.session.scalar(by_token_hash(), {"token_hash": hash_token(token)})
        now = now or utcnow()
        if login is None or login.last_seen_at < cls.idle_since(now):
            return None
        if now - login.last_seen_at > cls.SEEN_EVERY:
            login._seen(now)
        login.token = token
        login.user.login = login
        return login.user

    def _seen(self, now: datetime) -> None:
        from pnapp.database import is_reading_request

        if not is_reading_request():
            # A writing request already holds the write lock (SQLite): note it in its own
            # transaction, saved with the request's changes.
            self.last_seen_at = now
            return
        # A reading request's transaction must stay read-only (on SQLite it could not take
        # the write lock later without failing), so this goes on a connection of its own.
        # Best effort: a busy database only delays the "last seen" time.
        try:
            with db.engine.begin() as conn:
                conn.execute(
                    update(Login.__table__)
                    .where(Login.__table__.c.id == self.id)
                    .values(last_seen_at=now)
                )
        except OperationalError:
            return
        self.last_seen_at = now

    def end(self) -> None:
        """End this login; the caller commits."""
        db.session.execute(Login.__table__.delete().where(Login.__table__.c.id == self.id))

    @classmethod
    def end_all(cls, user: User, keep: Login | None = None) -> None:
        """End every login of the user (but `keep`); the caller commits."""
        query = cls.__table__.delete().where(cls.__table__.c.user_id == user.id)
        if keep is not None:
            query = query.where(cls.__table__.c.id != keep.id)
        db.session.execute(query)

    @staticmethod
    def idle_since(now: datetime) -> datetime:
        """Logins unused since before this have ended: the cookie's own lifetime, held on
        the server too, so a copy of an old cookie does not live on."""
        return now - current_app.permanent_session_lifetime

    @classmethod
    def forget_idle(cls, now: datetime) -> int:
        """Delete the rows of logins that ended by idling; the scheduler calls this."""
        result = db.session.execute(
            cls.__table__.delete().where(cls.__table__.c.last_seen_at < cls.idle_since(now))
        )
        db.session.commit()
        return result.rowcount

    @classmethod
    def of(cls, user: User) -> list[Login]:
        """This device's login first, then the others, most recently used first."""
        found = db.session.scalars(
            select(cls)
            .where(cls.user_id == user.id, cls.last_seen_at >= cls.idle_since(utcnow()))
            .order_by(cls.last_seen_at.desc(), cls.id.desc())
        )
        return sorted(found, key=lambda login: not login.current)

    @property
    def current(self) -> bool:
        return self.user.login is not None and self.user.login.id == self.id

    @property
    def device(self) -> tuple[str | None, str | None]:
        """(browser, system) in words people know, from the User-Agent; None where unknown.
        Order matters: Edge and Samsung Internet also say "Chrome", Chrome says "Safari"."""
        ua = self.user_agent or ""
        browser = next((name for key, name in _BROWSERS if key in ua), None)
        system = next((name for key, name in _SYSTEMS if key in ua), None)
        return browser, system


_BROWSERS = (
    ("Edg/", "Edge"),
    ("SamsungBrowser", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS", "Firefox"),
    ("CriOS", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Macintosh", "Mac"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


@cache
def by_token_hash():
    """Every request with a cookie runs this query: built once (after the models are all
    defined), so its SQL cache key is too."""
    return (
        select(Login)
        .where(Login.token_hash == bindparam("token_hash"))
        .options(joinedload(Login.user))
    )
