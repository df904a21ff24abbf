"""People: accounts, passwords and the lockout that guards them."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Integer,
    String,
    case,
    exists,
    false,
    func,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pnapp.errors import Conflict, NotFound, TooMany
from pnapp.extensions import db
from pnapp.i18n import N_
from pnapp.models.delivery import CHANNELS, PushSubscription, route
from pnapp.models.logins import Login
from pnapp.models.sessions import RATING_COLUMNS, MassageSession, Therapist
from pnapp.models.types import UTCDateTime, epoch_seconds
from pnapp.timeutil import local_date, paper_for_zone, utcnow, week_bounds

ROLES = ("patient", "caregiver")
# What the person may add for the doctor's report (Settings, PATCH /me).
REPORT = ("full_name", "birth_date", "paper_size")

_hasher = PasswordHasher()
# Verifying against this keeps an unknown e-mail as slow as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password, only a timing shield")


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
    # E-mail: reminder mail and the like go only to an address its owner proved is theirs;
    # a permanent SMTP refusal marks it bouncing until they check it.
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    email_bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Off after a one-click unsubscribe (RFC 8058) from a reminder mail.
    email_reminders: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # What the person chose: "push", "email" or "push,email"; the ladder decides what goes.
    reminder_channels: Mapped[str] = mapped_column(
        String(16), default="push", server_default="push"
    )
    # The page reported that this browser blocks notifications.
    push_blocked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # When a push service last told us one of their devices is gone (404/410): with none
    # left, reminder_route says "devices_gone" rather than "no_device".
    push_gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A newer password-reset request makes every older link useless.
    reset_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The same for e-mailed sign-in links; cleared when one is used, so each works once.
    sign_in_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The secret in the calendar subscription's address; a new one kills the old address.
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    # When a calendar app last read that feed: Settings names the calendar among the roads.
    calendar_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # For the doctor's report and the FHIR Patient only; the app itself says display_name.
    full_name: Mapped[str | None] = mapped_column(String(120))
    birth_date: Mapped[date | None] = mapped_column(Date)
    # The report's paper, "letter" or "a4"; None takes it from the zone (paper_for_zone).
    paper_size: Mapped[str | None] = mapped_column(String(8))
    # When the PGIC question was last set aside with "Not now" (answers are their own rows).
    pgic_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Kind words from caregivers (models.encouragement): shown and delivered unless turned off.
    encouragements: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
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
    def register(cls, data: dict[str, Any], *, verify: bool = False) -> User:
        """A new account; with `verify`, a link to confirm the address is mailed too (sign-up
        pages and API), in the same transaction."""
        user = cls(
            email=cls.normalize_email(data["email"]),
            display_name=data["display_name"].strip(),
            role=data["role"],
            timezone=data.get("timezone") or "UTC",
            language=data.get("language"),
            # The calendar address is made with the account, so that Settings, which shows
            # it, never has to write on a GET (calendar.feed_token makes one for older rows).
            calendar_token=secrets.token_urlsafe(32) if data["role"] == "patient" else None,
        )
        user.set_password(data["password"])
        db.session.add(user)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            raise Conflict(
                N_("An account with that e-mail already exists."),
                fields={"email": [N_("An account with that e-mail already exists.")]},
            ) from None
        if verify:
            from pnapp.models.recovery import ask_to_verify

            ask_to_verify(user)
        db.session.commit()
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
    def report_paper(self) -> str:
        """The report's paper: the one chosen, else the usual one where the patient lives."""
        return self.paper_size or paper_for_zone(self.timezone)

    @property
    def reminder(self) -> dict[str, Any]:
        return {
            "enabled": self.reminder_enabled,
            "weekday": self.reminder_weekday,
            "time": self.reminder_time,
            "channels": self.reminder_channel_list,
        }

    @reminder.setter
    def reminder(self, value: dict[str, Any]) -> None:
        if "enabled" in value:
            self.reminder_enabled = value["enabled"]
        if "weekday" in value:
            self.reminder_weekday = value["weekday"]
        if "time" in value:
            self.reminder_time = value["time"]
        if "channels" in value:
            self.reminder_channels = ",".join(c for c in CHANNELS if c in value["channels"])

    @property
    def reminder_channel_list(self) -> list[str]:
        """What the person chose ("push", "email"); the ladder decides what is sent."""
        return self.reminder_channels.split(",")

    @property
    def reminder_route(self) -> dict[str, str]:
        """How this week's reminder will go, and why (see delivery.route)."""
        has_devices = db.session.scalar(select(exists().where(PushSubscription.user_id == self.id)))
        return route(self, bool(has_devices))

    def update(self, data: dict[str, Any], now: datetime | None = None) -> None:
        keys = ("display_name", "timezone", "weekly_goal", "reminder", "language", *REPORT)
        for key in (*keys, "push_blocked", "email_reminders"):
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
            raise NotFound()
        return found

    def own_therapist(self, therapist_id: int) -> Therapist:
        found = db.session.scalar(
            select(Therapist).where(Therapist.id == therapist_id, Therapist.patient_id == self.id)
        )
        if found is None:
            raise NotFound()
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
        """Weeks kept, streaks, relief, the weekly trend and the PGIC answers of the window
        (API.md, Progress and Progress over months), from two queries."""
        from pnapp.models.pgic import PgicAnswer
        from pnapp.progress import relief_by_measure, trend, weeks_kept
        from pnapp.timeutil import local_midnight, week_start

        first_monday = week_start(local_date(now, self.timezone)) - timedelta(weeks=weeks - 1)
        since = local_midnight(first_monday, self.timezone)
        mine = MassageSession.patient_id == self.id
        # The window's ratings, and only the start times of everything before it: the
        # streaks need every week ever kept, the averages only the window (on the
        # (patient_id, started_at) index, a history of 1,000 sessions reads 1,000 small
        # values, not 1,000 rows of ratings).
        window = db.session.execute(
            select(MassageSession.started_at, *RATING_COLUMNS).where(
                mine, MassageSession.started_at >= since
            )
        ).all()
        earlier = db.session.scalars(
            select(epoch_seconds(MassageSession.started_at)).where(
                mine, MassageSession.started_at < since
            )
        ).all()
        starts = [r.started_at for r in window]
        kept = weeks_kept(starts, self.timezone, self.weekly_goal, now, weeks, earlier)
        return {
            "weekly_goal": self.weekly_goal,
            **kept,
            "relief": relief_by_measure(r for r in window if r.started_at <= now),
            "trend": trend(window, self.timezone, now, weeks),
            "pgic": [a for a in PgicAnswer.since(self, since) if a.answered_at <= now],
        }

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


def locked_error(until: datetime, now: datetime) -> TooMany:
    wait = max(1, int((until - now).total_seconds()) + 1)
    return TooMany(
        N_("Too many wrong passwords. Please wait a few minutes and try again."), retry_after=wait
    )


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
