"""Reaching people: their push subscriptions, each notification sent at most once, and the
ladder that decides which channels a reminder takes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pnapp.extensions import db
from pnapp.models.types import UTCDateTime
from pnapp.timeutil import utcnow

if TYPE_CHECKING:
    from pnapp.models.accounts import User

MAX_DEVICES = 10
# The roads a message takes, in the order the ladder tries them.
CHANNELS = ("push", "email")
# Mail a person is waiting for, sent the moment the request that asked for it commits.
VERIFY_EMAIL = "verify_email"
PASSWORD_RESET = "password_reset"
SIGN_IN_LINK = "sign_in_link"
REMOVE_PASSKEY = "remove_passkey"
# Where Delivery.queue leaves the ids of such mail, for pnapp.reminders.instant to send.
SEND_AFTER_COMMIT = "pnapp.send_after_commit"


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
        user.push_gone_at = None  # a device again: the next gone one is news
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

    UNIQUE(user_id, kind, period, channel) is what makes a reminder exactly-once: a scheduler
    inserts the row before sending, and a second scheduler's insert of the same row fails.
    """

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(64))
    # The road it takes: "push" (every live device) or "email".
    channel: Mapped[str] = mapped_column(String(8), default="push", server_default="push")
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
        UniqueConstraint("user_id", "kind", "period", "channel"),
        # Serves the claim: due rows by state and time.
        Index("ix_deliveries_state_next_attempt", "state", "next_attempt_at"),
        CheckConstraint("state IN ('pending', 'sending', 'sent', 'failed', 'gone')", name="state"),
    )

    @classmethod
    def queue(cls, user_id: int, kind: str, period: str, now: datetime) -> Delivery:
        """An e-mail the person is waiting for (a verification or reset link), written in the
        caller's transaction and sent in the background right after it commits; should that
        fail, the scheduler's next pass retries it like any other row. The payload stays
        empty: the message, its link and the link's token are made when it is sent."""
        row = cls(
            user_id=user_id,
            kind=kind,
            period=period,
            channel="email",
            state="pending",
            attempts=0,
            due_at=now,
            next_attempt_at=now,
            payload={},
        )
        db.session.add(row)
        db.session.flush()
        db.session.info.setdefault(SEND_AFTER_COMMIT, []).append(row.id)
        return row


def ladder(chosen: Iterable[str], *, push_ok: bool, email_ok: bool) -> tuple[str, ...]:
    """The channels a reminder takes (API.md "Reminders on every channel"): each chosen one
    that can reach the person; when none of those can, the first that can, push before
    e-mail. So the default choice, push, falls back to e-mail when no device is left."""
    usable = {"push": push_ok, "email": email_ok}
    picked = tuple(c for c in CHANNELS if c in chosen and usable[c])
    return picked or tuple(c for c in CHANNELS if usable[c])[:1]


def can_mail(person) -> bool:
    """Reminder mail may go to the address (of a User, or a row with these columns): proved
    theirs, not bouncing, not unsubscribed."""
    return bool(
        person.email_verified and person.email_bounced_at is None and person.email_reminders
    )


def channels_for(person, has_devices: bool) -> tuple[str, ...]:
    """The ladder for a User, or a row with its reminder_channels, push_blocked and e-mail
    columns: push needs a device the browser does not block."""
    return ladder(
        person.reminder_channels.split(","),
        push_ok=has_devices and not person.push_blocked,
        email_ok=can_mail(person),
    )


def route(user: User, has_devices: bool) -> dict[str, str]:
    """How this week's reminder will go, and why (User.reminder_route).

    The reason speaks of push whenever push is not what carries it: no_device (never
    subscribed, or removed by hand), devices_gone (the push service retired them all),
    push_blocked (the browser said notifications are denied); for a reminder that cannot
    go at all it is email_unverified when an address to confirm would fix it.
    """
    if user.is_patient and not user.reminder_enabled:
        return {"channel": "none", "reason": "off"}
    if user.push_blocked:
        push_state = "push_blocked"
    elif not has_devices:
        push_state = "devices_gone" if user.push_gone_at else "no_device"
    else:
        push_state = "push_ok"
    channels = channels_for(user, has_devices)
    if "push" in channels:
        return {"channel": "push", "reason": "push_ok"}
    if channels:
        return {"channel": "email", "reason": push_state}
    unconfirmed = not user.email_verified or user.email_bounced_at is not None
    return {"channel": "none", "reason": "email_unverified" if unconfirmed else push_state}
