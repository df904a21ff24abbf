""" "Remind me tomorrow": one more weekly reminder, 24 hours after the tap, at most once a
week (API.md, Notification payloads).

The extra reminder is a weekly Delivery whose period is the local week plus ":snooze", so the
unique (user, kind, period, channel) row that makes every reminder go exactly once also makes
the snooze happen at most once a week, and the delivery loop sends it when it falls due like
any other row (with the weekly reminder's words, mail and expiry).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pnapp.extensions import db
from pnapp.i18n import user_language
from pnapp.models import Delivery, PushSubscription, User
from pnapp.reminders.payloads import WEEKLY, weekly_payload
from pnapp.reminders.planning import _deliveries, _insert_new
from pnapp.timeutil import iso_week_label, local_date

SNOOZE_FOR = timedelta(hours=24)


def snooze_period(week: str) -> str:
    return f"{week}:snooze"


def snooze(user: User, now: datetime) -> datetime | None:
    """Plan one more reminder for `user` 24 hours after `now`; its due time, or None when
    this week's snooze was used already or nothing can carry it (reminders off, no road)."""
    if not (user.is_patient and user.reminder_enabled):
        return None
    week = iso_week_label(local_date(now, user.timezone))
    due = now + SNOOZE_FOR
    has_device = (
        db.session.scalar(db.select(PushSubscription.id).where(PushSubscription.user_id == user.id))
        is not None
    )
    rows = _deliveries(
        user,
        has_device,
        WEEKLY,
        snooze_period(week),
        due,
        lambda: weekly_payload(week, user_language(user)),
    )
    planned = _insert_new(rows)
    db.session.commit()
    return due if planned else None


def snoozed(user: User, now: datetime) -> bool:
    """Whether this week's one snooze is taken."""
    week = iso_week_label(local_date(now, user.timezone))
    return (
        db.session.scalar(
            db.select(Delivery.id).where(
                Delivery.user_id == user.id,
                Delivery.kind == WEEKLY,
                Delivery.period == snooze_period(week),
            )
        )
        is not None
    )
