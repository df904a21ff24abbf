"""Calendar reminders: the patient's weekly reminder as an iCalendar feed (RFC 5545), which a
calendar app subscribes to at a secret address or imports once.

The feed says when, never how anyone feels: no ratings, notes or anything about their
health, since calendars are synced to other companies' servers and shown on shared screens.
Calendars may drop its alarm (RECIPES.md), so push and e-mail stay the real reminder.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

from flask import Response, current_app
from icalendar import Alarm, Calendar, Event, vDuration, vRecur
from sqlalchemy import select, update

from pnapp.assets import public_url
from pnapp.extensions import db
from pnapp.i18n import N_, in_language, user_language
from pnapp.models import User
from pnapp.timeutil import local_date, utcnow, zone

# secrets.token_urlsafe(32): 256 random bits, written as 43 base64url characters.
TOKEN_BYTES = 32
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # User.reminder_weekday: 0 = Monday
PRODID = "-//pnapp//weekly reminder//EN"
# A floor for how often apps fetch again (RFC 7986): a new day or time shows within the hour
# in apps that honour it, and a tiny feed fetched hourly costs nothing.
REFRESH = timedelta(hours=1)
# Long enough to be seen in a day view; transparent, so it never blocks anyone's free time.
LENGTH = timedelta(minutes=15)
FEED_CACHE = "private, max-age=900"
DOWNLOAD_CACHE = "private, no-store"

# Translators: the name of pnapp's calendar in the person's calendar app.
NAME = N_("pnapp reminders")
# The push reminder's words, so the calendar says the same thing.
SUMMARY = N_("Time for your weekly massage check-in")
# Translators: the weekly reminder's text in a calendar; %(url)s is the link to record one.
DESCRIPTION = N_("Have you had this week's massage? Record it in pnapp: %(url)s")


def feed_token(user: User) -> str:
    """The secret in the user's feed address, made on first use. Two first requests at once
    agree: only one UPDATE finds the column empty, and both read back what it stored."""
    if user.calendar_token is None:
        # First use is a GET, whose transaction has read (the login) and on SQLite could not
        # take the write lock once another request committed (SQLITE_BUSY at once): end it,
        # so that the UPDATE is the first statement of a transaction that waits its turn
        # (the id is read before, as the commit expires it).
        user_id = user.id
        db.session.commit()
        table = User.__table__
        db.session.execute(
            update(table)
            .where(table.c.id == user_id, table.c.calendar_token.is_(None))
            .values(calendar_token=secrets.token_urlsafe(TOKEN_BYTES))
        )
        db.session.commit()
    return user.calendar_token  # read again: the commit expired it


def new_feed_token(user: User) -> str:
    """A new secret: the old address answers 404 from now on (a shared or leaked link)."""
    user.calendar_token = secrets.token_urlsafe(TOKEN_BYTES)
    db.session.commit()
    return user.calendar_token


def feed_owner(token: str) -> User | None:
    """Whose feed this address is, or None. Any other string is None before the database
    sees it, so odd input (NUL bytes, megabytes) cannot reach a query."""
    if not TOKEN_SHAPE.fullmatch(token):
        return None
    return db.session.scalar(
        select(User).where(User.calendar_token == token, User.role == "patient")
    )


# A calendar app reads a feed every few minutes to every day: noting each read would write
# a row that often, so a read is noted once an hour at most.
SEEN_EVERY = timedelta(hours=1)
# A feed no calendar app read for this long is no longer named as a road in Settings.
SEEN_FOR = timedelta(days=30)


def note_read(user: User, now: datetime) -> None:
    """Remember that a calendar app reads this person's feed (Settings names the road)."""
    if user.calendar_seen_at is None or now - user.calendar_seen_at > SEEN_EVERY:
        user.calendar_seen_at = now
        db.session.commit()


def in_use(user: User, now: datetime) -> bool:
    return user.calendar_seen_at is not None and now - user.calendar_seen_at < SEEN_FOR


def addresses(user: User) -> dict[str, str]:
    """The feed's address on PUBLIC_URL, and the same as webcal://, which phones hand to
    their calendar app to subscribe."""
    feed = public_url("calendar.feed", token=feed_token(user))
    return {"feed_url": feed, "webcal_url": "webcal://" + feed.split("://", 1)[1]}


def reminder_calendar(user: User, now: datetime | None = None) -> Calendar:
    """The weekly reminder as a calendar: one event repeating weekly at the patient's local
    day and time (DTSTART with their zone, so 09:00 stays 09:00 across daylight saving),
    with an alarm at its start; no event while reminders are off."""
    language = user_language(user)
    host = urlsplit(current_app.config["PUBLIC_URL"]).hostname or "pnapp"
    cal = Calendar.new(
        name=in_language(language, NAME), prodid=PRODID, uid=f"calendar-{user.id}@{host}"
    )
    # RFC 7986 wants VALUE=DURATION, which Calendar.new(refresh_interval=...) leaves out.
    cal.add("REFRESH-INTERVAL", REFRESH, parameters={"VALUE": "DURATION"})
    # X- properties are untyped: a bare timedelta would be written "1:00:00".
    cal.add("X-PUBLISHED-TTL", vDuration(REFRESH))
    if not (user.is_patient and user.reminder_enabled):
        return cal
    cal.add("X-WR-TIMEZONE", user.timezone)
    start = first_slot(user)
    url = public_url("sessions.new_session")
    event = Event.new(
        uid=f"weekly-{user.id}@{host}",
        stamp=now or utcnow(),
        start=start,
        end=start + LENGTH,
        url=url,
        transparency="TRANSPARENT",
    )
    summary = in_language(language, SUMMARY)
    tagged = {"LANGUAGE": language}
    event.add("SUMMARY", summary, parameters=tagged)
    event.add("DESCRIPTION", in_language(language, DESCRIPTION) % {"url": url}, parameters=tagged)
    event.add("RRULE", vRecur(FREQ="WEEKLY", BYDAY=[BYDAY[user.reminder_weekday]]))
    alarm = Alarm()
    alarm.add("ACTION", "DISPLAY")
    alarm.add("DESCRIPTION", summary)  # a DISPLAY alarm must say something
    alarm.add("TRIGGER", timedelta(0))
    event.add_component(alarm)
    cal.add_component(event)
    cal.add_missing_timezones()
    return cal


def first_slot(user: User) -> datetime:
    """The reminder's first local day and time on or after the day the account was made:
    fixed while the settings stay, so apps see the same series at every fetch, and no
    reminders before the person joined."""
    joined = local_date(user.created_at or utcnow(), user.timezone)
    day = joined + timedelta(days=(user.reminder_weekday - joined.weekday()) % 7)
    hour, minute = (int(x) for x in user.reminder_time.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=zone(user.timezone))


def ics_response(user: User, *, download: bool = False) -> Response:
    """The calendar as text/calendar: inline for apps that subscribe (private, since the
    address is a secret, and kept a quarter of an hour at most), or a file to import once,
    which like every download is never stored."""
    disposition, caching = ("attachment", DOWNLOAD_CACHE) if download else ("inline", FEED_CACHE)
    return Response(
        reminder_calendar(user).to_ical(),
        mimetype="text/calendar",  # Flask adds "; charset=utf-8"
        headers={
            "Content-Disposition": f'{disposition}; filename="pnapp-reminder.ics"',
            "Cache-Control": caching,
        },
    )
