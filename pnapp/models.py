"""The data model. Rules about the data live here as methods, so views stay thin."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    case,
    func,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship, selectinload

from pnapp.errors import ApiError
from pnapp.extensions import db
from pnapp.i18n import N_
from pnapp.timeutil import local_date, utcnow, week_bounds

MEASURES = ("pain", "stress", "numbness", "tingling", "weakness")
REQUIRED_MEASURES = ("pain", "stress")
AREAS = ("feet_lower_legs", "hands_lower_arms", "whole_body")
ADJUNCTS = ("heat_towels", "cold_towels", "hot_tub", "sauna")
HEAT_ADJUNCTS = ("heat_towels", "hot_tub", "sauna")
ROLES = ("patient", "caregiver")

_hasher = PasswordHasher()
# Verifying against this keeps an unknown e-mail as slow as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password, only a timing shield")


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in Python on every database (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-cased
    password_hash: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    weekly_goal: Mapped[int] = mapped_column(Integer, default=1)
    reminder_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    reminder_weekday: Mapped[int] = mapped_column(Integer, default=0)
    reminder_time: Mapped[str] = mapped_column(String(5), default="09:00")
    # The next weekly reminder instant (UTC), kept in step with the settings above so the
    # scheduler finds due patients with one indexed range scan.
    next_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Consecutive wrong passwords, and until when password checks are refused: kept here,
    # not in a worker's memory, so the lockout holds across workers and machines.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The language chosen in settings ("en", "fr-CA", "es"); None follows the browser.
    language: Mapped[str | None] = mapped_column(String(8))
    # The language the browser last asked for: notifications go out in it when none is chosen.
    browser_language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("role IN ('patient', 'caregiver')", name="role"),
        CheckConstraint("weekly_goal BETWEEN 1 AND 7", name="weekly_goal"),
        CheckConstraint("reminder_weekday BETWEEN 0 AND 6", name="reminder_weekday"),
    )

    sessions: Mapped[list[MassageSession]] = relationship(
        back_populates="patient",
        foreign_keys="MassageSession.patient_id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    therapists: Mapped[list[Therapist]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", passive_deletes=True
    )
    subscriptions: Mapped[list[PushSubscription]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    # The login this request came with (set by the user loader); None outside a request.
    login = None  # a Login, or None

    # Accounts

    @staticmethod
    def normalize_email(email: str) -> str:
        return email.strip().lower()

    @classmethod
    def by_email(cls, email: str) -> User | None:
        return db.session.scalar(select(cls).where(cls.email == cls.normalize_email(email)))

    @classmethod
    def register(cls, data: dict[str, Any]) -> User:
        user = cls(
            email=cls.normalize_email(data["email"]),
            display_name=data["display_name"].strip(),
            role=data["role"],
            timezone=data.get("timezone") or "UTC",
            language=data.get("language"),
        )
        user.set_password(data["password"])
        db.session.add(user)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            raise ApiError(
                409,
                N_("An account with that e-mail already exists."),
                fields={"email": [N_("An account with that e-mail already exists.")]},
            ) from None
        return user

    @classmethod
    def authenticate(cls, email: str, password: str, now: datetime | None = None) -> User | None:
        user = cls.by_email(email)
        if user is None:
            # End the transaction before the slow hash check (see verify_password).
            db.session.commit()
            _verify(_DUMMY_HASH, password)
            return None
        if not user.verify_password(password, now):
            return None
        if _hasher.check_needs_rehash(user.password_hash):
            user.set_password(password)
            db.session.commit()
        return user

    def set_password(self, password: str) -> None:
        self.password_hash = _hasher.hash(password)

    def verify_password(self, password: str, now: datetime | None = None) -> bool:
        """Check the password, at most LOCK_AFTER wrong tries in a row before a pause.

        Every door that takes a password (log-in, password change, account deletion) comes
        here, so a stolen cookie is no password oracle either. While locked, the password is
        not even checked: the answer is a 429 whatever was typed.
        1. Refuse while locked_until is ahead.
        2. End the transaction before the slow hash check: on SQLite a writing request holds
           the write lock for its whole transaction, and everyone else's writes would queue.
        3. Count the result with one atomic UPDATE (two workers failing at once both count).
        """
        now = now or utcnow()
        if self.locked_until is not None and self.locked_until > now:
            raise locked_error(self.locked_until, now)
        stored = self.password_hash
        db.session.commit()
        ok = _verify(stored, password)
        table = User.__table__
        if ok:
            if self.failed_logins:
                db.session.execute(
                    update(table)
                    .where(table.c.id == self.id)
                    .values(failed_logins=0, locked_until=None)
                )
        else:
            failures = table.c.failed_logins + 1
            db.session.execute(
                update(table)
                .where(table.c.id == self.id)
                .values(
                    failed_logins=failures,
                    locked_until=case(
                        (failures % LOCK_AFTER == 0, now + LOCK_FOR), else_=table.c.locked_until
                    ),
                )
            )
        db.session.commit()
        return ok

    def change_password(self, password: str) -> None:
        """Set a new password and end every other login (API.md: only the current one stays)."""
        self.set_password(password)
        Login.end_all(self, keep=self.login)
        db.session.commit()

    def get_id(self) -> str:
        # Flask-Login keeps this in the signed cookie: the login's random token, which the
        # server looks up (hashed) on every request, so ending the login ends the cookie.
        return self.login.token if self.login else ""

    @property
    def is_patient(self) -> bool:
        return self.role == "patient"

    @property
    def is_caregiver(self) -> bool:
        return self.role == "caregiver"

    @property
    def reminder(self) -> dict[str, Any]:
        return {
            "enabled": self.reminder_enabled,
            "weekday": self.reminder_weekday,
            "time": self.reminder_time,
        }

    @reminder.setter
    def reminder(self, value: dict[str, Any]) -> None:
        if "enabled" in value:
            self.reminder_enabled = value["enabled"]
        if "weekday" in value:
            self.reminder_weekday = value["weekday"]
        if "time" in value:
            self.reminder_time = value["time"]

    def update(self, data: dict[str, Any], now: datetime | None = None) -> None:
        for key in ("display_name", "timezone", "weekly_goal", "reminder", "language"):
            if key in data:
                setattr(self, key, data[key].strip() if key == "display_name" else data[key])
        self.schedule_reminder(now or utcnow())
        db.session.commit()

    def schedule_reminder(self, now: datetime) -> None:
        """Set next_reminder_at from the reminder settings, in the patient's zone."""
        from pnapp.timeutil import next_weekly

        if not (self.reminder_enabled and self.is_patient):
            self.next_reminder_at = None
            return
        self.next_reminder_at = next_weekly(
            now, self.timezone, self.reminder_weekday, self.reminder_time
        )

    def delete_account(self) -> None:
        db.session.delete(self)
        db.session.commit()

    # The patient's own records

    def own_session(self, session_id: int) -> MassageSession:
        """The patient's session, or a 404 that does not tell whether it exists for another."""
        found = db.session.scalar(
            select(MassageSession).where(
                MassageSession.id == session_id, MassageSession.patient_id == self.id
            )
        )
        if found is None:
            raise ApiError(404)
        return found

    def own_therapist(self, therapist_id: int) -> Therapist:
        found = db.session.scalar(
            select(Therapist).where(Therapist.id == therapist_id, Therapist.patient_id == self.id)
        )
        if found is None:
            raise ApiError(404)
        return found

    def sessions_in_week(self, now: datetime) -> int:
        """How many sessions started in the patient's current local ISO week."""
        start, end = week_bounds(now, self.timezone)
        return db.session.scalar(
            select(func.count(MassageSession.id)).where(
                MassageSession.patient_id == self.id,
                MassageSession.started_at >= start,
                MassageSession.started_at < end,
            )
        )

    def progress(self, now: datetime, weeks: int = 12) -> dict[str, Any]:
        """Weeks kept, streaks and relief (API.md, Progress), from one query."""
        from pnapp.progress import relief_by_measure, weeks_kept
        from pnapp.timeutil import local_midnight, week_start

        rows = db.session.execute(
            select(MassageSession.started_at, *RATING_COLUMNS).where(
                MassageSession.patient_id == self.id
            )
        ).all()
        kept = weeks_kept((r.started_at for r in rows), self.timezone, self.weekly_goal, now, weeks)
        first_monday = week_start(local_date(now, self.timezone)) - timedelta(weeks=weeks - 1)
        since = local_midnight(first_monday, self.timezone)
        in_window = [r for r in rows if since <= r.started_at <= now]
        return {"weekly_goal": self.weekly_goal, **kept, "relief": relief_by_measure(in_window)}

    def latest_unfinished_session(self, now: datetime, within_hours: int = 24):
        """The newest session still waiting for its after ratings, if it is recent."""
        return db.session.scalar(
            select(MassageSession)
            .where(
                MassageSession.patient_id == self.id,
                MassageSession.after_pain.is_(None),
                MassageSession.started_at >= now - timedelta(hours=within_hours),
            )
            .order_by(MassageSession.started_at.desc(), MassageSession.id.desc())
            .limit(1)
        )


# Ten wrong passwords in a row pause password checks for a quarter of an hour; so do the
# twentieth, the thirtieth... A person who forgot is slowed, a guesser is stopped.
LOCK_AFTER = 10
LOCK_FOR = timedelta(minutes=15)


def locked_error(until: datetime, now: datetime) -> ApiError:
    wait = max(1, int((until - now).total_seconds()) + 1)
    return ApiError(
        429,
        N_("Too many wrong passwords. Please wait a few minutes and try again."),
        headers={"Retry-After": str(wait)},
    )


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


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
    def start(
        cls, user: User, user_agent: str | None, method: str = "password", now=None
    ) -> Login:
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
        login = db.session.scalar(
            select(cls).where(cls.token_hash == hash_token(token)).options(joinedload(cls.user))
        )
        if login is None:
            return None
        now = now or utcnow()
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

    @classmethod
    def of(cls, user: User) -> list[Login]:
        return list(
            db.session.scalars(
                select(cls)
                .where(cls.user_id == user.id)
                .order_by(cls.last_seen_at.desc(), cls.id.desc())
            )
        )

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


class Therapist(db.Model):
    __tablename__ = "therapists"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(40))
    certified: Mapped[bool | None] = mapped_column(Boolean)
    credential: Mapped[str | None] = mapped_column(String(40))
    screening: Mapped[dict | None] = mapped_column(JSON)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    patient: Mapped[User] = relationship(back_populates="therapists")

    # Filled by with_stats(): sessions so far and the mean pain change (before - after).
    sessions_count = 0
    mean_pain_change = None

    @classmethod
    def create(cls, patient: User, data: dict[str, Any]) -> Therapist:
        therapist = cls(patient_id=patient.id)
        therapist.update(data)
        db.session.add(therapist)
        db.session.commit()
        return therapist

    def update(self, data: dict[str, Any]) -> None:
        for key, value in data.items():
            setattr(self, key, value.strip() if key == "name" else value)
        db.session.commit()

    def delete(self) -> None:
        db.session.delete(self)
        db.session.commit()

    @classmethod
    def with_stats(cls, patient: User, therapist_id: int | None = None) -> list[Therapist]:
        """The patient's therapists by name, each with its session count and mean pain change,
        in two queries whatever the number of sessions."""
        query = select(cls).where(cls.patient_id == patient.id).order_by(cls.name, cls.id)
        if therapist_id is not None:
            query = query.where(cls.id == therapist_id)
        therapists = list(db.session.scalars(query))
        stats = db.session.execute(
            select(
                MassageSession.therapist_id,
                func.count(MassageSession.id),
                # avg() skips sessions without an after rating (before - NULL is NULL).
                func.avg(MassageSession.before_pain - MassageSession.after_pain),
            )
            .where(
                MassageSession.patient_id == patient.id,
                MassageSession.therapist_id.in_([t.id for t in therapists]),
            )
            .group_by(MassageSession.therapist_id)
        )
        by_id = {tid: (count, mean) for tid, count, mean in stats}
        for t in therapists:
            count, mean = by_id.get(t.id, (0, None))
            t.sessions_count = count
            t.mean_pain_change = None if mean is None else float(mean)
        return therapists

    def with_own_stats(self) -> Therapist:
        return Therapist.with_stats(self.patient, self.id)[0]


class MassageSession(db.Model):
    __tablename__ = "massage_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(36))
    # Hash of the creating request's body: a retry with the same body is the same request.
    request_hash: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_min: Mapped[int | None] = mapped_column(Integer)
    therapist_id: Mapped[int | None] = mapped_column(
        ForeignKey("therapists.id", ondelete="SET NULL"), index=True
    )
    areas: Mapped[list] = mapped_column(JSON, default=list)
    adjuncts: Mapped[list] = mapped_column(JSON, default=list)
    before_pain: Mapped[int] = mapped_column(Integer)
    before_stress: Mapped[int] = mapped_column(Integer)
    before_numbness: Mapped[int | None] = mapped_column(Integer)
    before_tingling: Mapped[int | None] = mapped_column(Integer)
    before_weakness: Mapped[int | None] = mapped_column(Integer)
    before_recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    after_pain: Mapped[int | None] = mapped_column(Integer)
    after_stress: Mapped[int | None] = mapped_column(Integer)
    after_numbness: Mapped[int | None] = mapped_column(Integer)
    after_tingling: Mapped[int | None] = mapped_column(Integer)
    after_weakness: Mapped[int | None] = mapped_column(Integer)
    after_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notes: Mapped[str | None] = mapped_column(Text)
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    patient: Mapped[User] = relationship(back_populates="sessions", foreign_keys=[patient_id])
    therapist: Mapped[Therapist | None] = relationship()

    __table_args__ = (
        UniqueConstraint("patient_id", "client_id"),
        # Serves history and week counts: one patient's sessions by start time.
        Index("ix_massage_sessions_patient_started", "patient_id", "started_at", "id"),
        # Serves the after-rating nudge: recent sessions still without after ratings.
        Index(
            "ix_massage_sessions_awaiting_after",
            "started_at",
            postgresql_where=text("after_pain IS NULL"),
            sqlite_where=text("after_pain IS NULL"),
        ),
        *(
            CheckConstraint(f"{p}_{m} BETWEEN 0 AND 10", name=f"{p}_{m}")
            for p in ("before", "after")
            for m in MEASURES
        ),
        CheckConstraint("duration_min BETWEEN 5 AND 240", name="duration_min"),
    )

    # Reading

    def ratings(self, when: str) -> dict[str, Any] | None:
        if when == "after" and self.after_pain is None:
            return None
        out: dict[str, Any] = {m: getattr(self, f"{when}_{m}") for m in MEASURES}
        out["recorded_at"] = getattr(self, f"{when}_recorded_at")
        return out

    @property
    def before(self) -> dict[str, Any]:
        return self.ratings("before")

    @property
    def after(self) -> dict[str, Any] | None:
        return self.ratings("after")

    @property
    def change(self) -> dict[str, int | None] | None:
        """before - after for each measure rated both times; positive means better."""
        if self.after_pain is None:
            return None
        out = {}
        for m in MEASURES:
            pre, post = getattr(self, f"before_{m}"), getattr(self, f"after_{m}")
            out[m] = None if pre is None or post is None else pre - post
        return out

    @property
    def has_heat(self) -> bool:
        return any(a in HEAT_ADJUNCTS for a in self.adjuncts or ())

    # Writing

    @classmethod
    def record(
        cls, patient: User, data: dict[str, Any], entered_by: User, now: datetime | None = None
    ) -> tuple[MassageSession, bool]:
        """Store a new session, or return the stored one for a retried request.

        1. A stored session with this client_id and the same request body is the answer
           (created=False); with another body the client reused a key: 409.
        2. Otherwise insert. If a concurrent request inserted the same client_id first, the
           unique constraint fails and step 1 decides against the winner's row.
        """
        client_id = str(data["client_id"])
        digest = request_digest(data)
        existing = cls._by_client_id(patient.id, client_id)
        if existing is None:
            session = cls(
                patient_id=patient.id,
                client_id=client_id,
                request_hash=digest,
                entered_by=entered_by.id,
                areas=[],
                adjuncts=[],
            )
            session.apply(patient, data, now or utcnow())
            db.session.add(session)
            try:
                db.session.commit()
                return session, True
            except IntegrityError:
                db.session.rollback()
                existing = cls._by_client_id(patient.id, client_id)
                if existing is None:
                    raise
        if existing.request_hash != digest:
            raise ApiError(409, "A different session was already saved with this client_id.")
        return existing, False

    @classmethod
    def _by_client_id(cls, patient_id: int, client_id: str) -> MassageSession | None:
        return db.session.scalar(
            select(cls).where(cls.patient_id == patient_id, cls.client_id == client_id)
        )

    def update(self, patient: User, data: dict[str, Any], now: datetime | None = None) -> None:
        self.apply(patient, data, now or utcnow())
        db.session.commit()

    def apply(self, patient: User, data: dict[str, Any], now: datetime) -> None:
        if "therapist_id" in data and data["therapist_id"] is not None:
            try:
                patient.own_therapist(data["therapist_id"])
            except ApiError:
                raise ApiError(
                    422, fields={"therapist_id": [N_("Not one of your therapists.")]}
                ) from None
        simple = ("started_at", "duration_min", "therapist_id", "notes")
        for key in simple:
            if key in data:
                setattr(self, key, data[key])
        if self.started_at is None:
            self.started_at = now
        for key in ("areas", "adjuncts"):
            if key in data:
                setattr(self, key, sorted(set(data[key] or ())))
        for when in ("before", "after"):
            if when in data:
                self._set_ratings(when, data[when], now)

    def _set_ratings(self, when: str, ratings: dict[str, Any] | None, now: datetime) -> None:
        for m in MEASURES:
            setattr(self, f"{when}_{m}", (ratings or {}).get(m))
        recorded = (ratings or {}).get("recorded_at") or (now if ratings else None)
        setattr(self, f"{when}_recorded_at", recorded)

    def delete(self) -> None:
        db.session.delete(self)
        db.session.commit()


def request_digest(data: dict[str, Any]) -> str:
    """A stable hash of a validated request body (key order and time spelling do not matter)."""

    def canon(value):
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat()
        if isinstance(value, dict):
            return {k: canon(v) for k, v in value.items()}
        if isinstance(value, (list, tuple, set)):
            return sorted(canon(v) for v in value)
        return value if isinstance(value, (int, str, bool, type(None))) else str(value)

    text = json.dumps(canon(data), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


MAX_DEVICES = 10


class PushSubscription(db.Model):
    """One browser's Web Push subscription."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(2048), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    # The login that subscribed: logging that device out ends its subscription too, so the
    # next person to use the phone gets none of this person's reminders.
    login_id: Mapped[int | None] = mapped_column(
        ForeignKey("logins.id", ondelete="CASCADE"), index=True
    )

    user: Mapped[User] = relationship(back_populates="subscriptions")

    @classmethod
    def store(cls, user: User, data: dict[str, Any]) -> bool:
        """Save a subscription for this user; True when it is new.

        An endpoint stored for someone else stays theirs, keys and all, and the caller is
        told nothing different: an endpoint is a capability URL, and whoever learns one must
        not be able to redirect or silence that person's reminders by posting it. (A phone
        that changes hands drops its subscription at logout.) Each person keeps at most
        MAX_DEVICES: storing one more retires their oldest, so no one can pile up devices
        for every reminder and test to be sent to.
        """
        found = db.session.scalar(select(cls).where(cls.endpoint == data["endpoint"]))
        login_id = user.login.id if user.login else None
        if found is not None:
            if found.user_id == user.id:
                found.p256dh = data["keys"]["p256dh"]
                found.auth = data["keys"]["auth"]
                found.failures = 0
                found.login_id = login_id  # now this login's: it ends with its log-out
            db.session.commit()
            return False
        db.session.add(
            cls(
                user_id=user.id,
                login_id=login_id,
                endpoint=data["endpoint"],
                p256dh=data["keys"]["p256dh"],
                auth=data["keys"]["auth"],
                failures=0,
            )
        )
        try:
            db.session.flush()
        except IntegrityError:
            # Another request stored the same endpoint at the same moment: theirs stands.
            db.session.rollback()
            return cls.store(user, data) and False
        oldest = db.session.scalars(
            select(cls.id)
            .where(cls.user_id == user.id)
            .order_by(cls.created_at.desc(), cls.id.desc())
            .offset(MAX_DEVICES)
        ).all()
        if oldest:
            db.session.execute(cls.__table__.delete().where(cls.id.in_(oldest)))
        db.session.commit()
        return True

    @classmethod
    def forget(cls, user: User, endpoint: str) -> None:
        db.session.execute(
            cls.__table__.delete().where(cls.user_id == user.id, cls.endpoint == endpoint)
        )
        db.session.commit()

    def info(self) -> dict[str, Any]:
        """The shape pywebpush takes."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


class Delivery(db.Model):
    """One notification to one person for one period, sent at most once.

    UNIQUE(user_id, kind, period) is what makes a reminder exactly-once: a scheduler inserts
    the row before sending, and a second scheduler's insert of the same row fails.
    """

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(64))
    # pending -> sending -> sent | failed | gone; sending returns to pending to retry.
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("user_id", "kind", "period"),
        # Serves the claim: due rows by state and time.
        Index("ix_deliveries_state_next_attempt", "state", "next_attempt_at"),
        CheckConstraint("state IN ('pending', 'sending', 'sent', 'failed', 'gone')", name="state"),
    )


SCOPES = ("progress", "sessions", "notes", "alerts")
DEFAULT_SCOPES = ["progress", "alerts"]


ALREADY_SHARING = N_(
    "You already follow this person, so this link changes nothing. "
    "They can change what you see on their sharing page."
)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
            raise ApiError(404)
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
            raise ApiError(404, N_("That invitation link is not known."))
        if not caregiver.is_caregiver:
            raise ApiError(403, N_("Only a caregiver account can accept an invitation."))
        claimed = db.session.execute(
            update(cls)
            .where(cls.id == invite.id, cls.used_at.is_(None), cls.expires_at > now)
            .values(used_at=now)
        ).rowcount
        if claimed != 1:
            db.session.rollback()
            raise ApiError(
                410,
                N_("That invitation link has expired or was already used. Ask for a new one."),
            )
        if db.session.scalar(
            select(CareShare.id).where(
                CareShare.patient_id == invite.patient_id, CareShare.caregiver_id == caregiver.id
            )
        ):
            db.session.rollback()
            raise ApiError(409, ALREADY_SHARING)
        share = CareShare(
            patient_id=invite.patient_id, caregiver_id=caregiver.id, scopes=list(invite.scopes)
        )
        db.session.add(share)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            raise ApiError(409, ALREADY_SHARING) from None
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
            raise ApiError(404)
        return share

    @classmethod
    def grant(cls, caregiver: User, patient_id: int, scope: str | None) -> CareShare:
        """The caregiver's share of this patient if it holds `scope` (any share when None);
        else a 404 that does not say whether the patient exists."""
        share = db.session.scalar(
            select(cls).where(cls.patient_id == patient_id, cls.caregiver_id == caregiver.id)
        )
        if share is None or (scope is not None and scope not in share.scopes):
            raise ApiError(404)
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

    def end(self) -> None:
        """End the share at once, with the patient's unused invites (as when narrowing)."""
        Invite.void_all(self.patient_id)
        db.session.delete(self)
        db.session.commit()


RATING_COLUMNS = tuple(
    getattr(MassageSession, f"{when}_{m}") for when in ("before", "after") for m in MEASURES
)
