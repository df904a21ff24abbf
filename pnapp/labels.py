"""Words shown to people for the codes the API uses, and small display helpers."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time
from functools import lru_cache

from babel import Locale
from babel.core import get_global
from babel.dates import (
    format_skeleton,
    format_time,
    get_timezone,
    get_timezone_location,
    get_timezone_name,
)
from babel.lists import format_list
from babel.numbers import format_decimal
from flask_babel import get_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l

from pnapp.models import pgic
from pnapp.timeutil import COMMON_ZONES, all_zones, utcnow, zone
from pnapp.timeutil import paper_for_zone as paper_for_zone  # the settings page reads it

WORDS = (
    _l("zero"),
    _l("one"),
    _l("two"),
    _l("three"),
    _l("four"),
    _l("five"),
    _l("six"),
    _l("seven"),
    _l("eight"),
    _l("nine"),
    _l("ten"),
)

MEASURES = {
    "pain": {
        "name": _l("Pain"),
        "question": _l("How much pain do you feel right now?"),
        "low": _l("no pain"),
        "high": _l("worst pain imaginable"),
    },
    "stress": {
        "name": _l("Stress"),
        "question": _l("How stressed do you feel right now?"),
        "low": _l("not at all"),
        "high": _l("as stressed as I can imagine"),
    },
    "numbness": {
        "name": _l("Numbness"),
        "question": _l("How numb do your hands or feet feel right now?"),
        "low": _l("no numbness"),
        "high": _l("completely numb"),
    },
    "tingling": {
        "name": _l("Tingling"),
        "question": _l("How much tingling do you feel right now?"),
        "low": _l("no tingling"),
        "high": _l("worst tingling imaginable"),
    },
    "weakness": {
        "name": _l("Weakness"),
        "question": _l("How weak do your hands or feet feel right now?"),
        "low": _l("no weakness"),
        "high": _l("as weak as I can imagine"),
    },
}

AREAS = {
    "feet_lower_legs": _l("Feet and lower legs"),
    "hands_lower_arms": _l("Hands and lower arms"),
    "whole_body": _l("Most of the body"),
}

ADJUNCTS = {
    "heat_towels": _l("Heat towels"),
    "cold_towels": _l("Cold towels"),
    "hot_tub": _l("Hot tub"),
    "sauna": _l("Sauna"),
}

# The global impression of change question and its seven answers (pnapp.models.pgic).
PGIC_QUESTION = _l(pgic.QUESTION)
PGIC_LABELS = {value: _l(words) for value, words in pgic.ANSWERS.items()}

# The report's paper: its name, and the choice as Settings offers it.
PAPER = {"letter": _l("Letter"), "a4": _l("A4")}
PAPER_CHOICES = {
    "letter": _l("Letter (United States, Canada)"),
    "a4": _l("A4 (most other countries)"),
}

FIELD_NAMES = {
    "display_name": _l("Your name"),
    "email": _l("E-mail"),
    "password": _l("Password"),
    "current_password": _l("Current password"),
    "new_password": _l("New password"),
    "role": _l("Who you are"),
    "timezone": _l("Time zone"),
    "language": _l("Language"),
    "weekly_goal": _l("Massage sessions a week"),
    "reminder.weekday": _l("Reminder day"),
    "reminder.time": _l("Reminder time"),
    "started_at": _l("When"),
    "duration_min": _l("How long"),
    "therapist_id": _l("Therapist"),
    "areas": _l("Symptom areas"),
    "adjuncts": _l("With"),
    "notes": _l("Notes"),
    "name": _l("Name"),
    "phone": _l("Phone"),
    "scopes": _l("What they can see"),
    "before": _l("Before the massage"),
    "after": _l("After the massage"),
    "credential": _l("Credential"),
    "screening.knows_pn": _l("Did they know what peripheral neuropathy is?"),
    "screening.approach": _l("How would they treat it? (their answer, in your words)"),
    "screening.asked_symptom_areas": _l("Did they ask where your symptoms are?"),
    "client_id": _l("Session"),
    "full_name": _l("Full name"),
    "birth_date": _l("Date of birth"),
    "paper_size": _l("Paper size"),
    # Links for a therapist or a doctor.
    "label": _l("Who it is for"),
    "contents": _l("What to include"),
    "expires_in_days": _l("The link works for"),
    "passcode": _l("Passcode"),
    "value": _l("Your answer"),
}


# What to do about a rating left out (pnapp.forms.missing_ratings), beside it and in the
# summary above the form.
CHOOSE_A_NUMBER = {
    "pain": _l("Choose a number for pain"),
    "stress": _l("Choose a number for stress"),
    "numbness": _l("Choose a number for numbness"),
    "tingling": _l("Choose a number for tingling"),
    "weakness": _l("Choose a number for weakness"),
}


def problem(name: str, messages: list[str]) -> str:
    """What is wrong with a field, in the reader's language: "Choose a number for pain" for
    a missing rating, else the messages as the schema wrote them, translated."""
    from pnapp.i18n import translate

    if messages == ["missing"]:
        return str(CHOOSE_A_NUMBER[name.rpartition(".")[2]])
    return " ".join(translate(m) for m in messages)


def field_name(name: str) -> str:
    """The words for a form field named in an error summary: "before.pain" -> "Pain, before"."""
    name = re.sub(r"\.\d+$", "", name)  # "areas.0" is about the areas
    if name in FIELD_NAMES:
        return str(FIELD_NAMES[name])
    when, _, measure = name.partition(".")
    if measure in MEASURES and when in ("before", "after"):
        if when == "before":
            return gettext("%(measure)s, before", measure=MEASURES[measure]["name"])
        return gettext("%(measure)s, after", measure=MEASURES[measure]["name"])
    return name.replace("_", " ").replace(".", " ")


WEEKDAYS = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)
# Translators: short weekday names, on buttons seven to a row.
WEEKDAYS_SHORT = (
    _l("Mon"),
    _l("Tue"),
    _l("Wed"),
    _l("Thu"),
    _l("Fri"),
    _l("Sat"),
    _l("Sun"),
)


# Named formats, written by Babel in each language's own way (CLDR skeletons).
DATE_SKELETONS = {"datetime": "yMMMEd", "date": "yMMMd", "day": "MMMd", "long_date": "yMMMMd"}
DATE_SKELETONS["weekday_time"] = "MMMMEEEEd"
DATE_SKELETONS["weekday_day"] = "MMMEd"
WITH_TIME = ("datetime", "weekday_time")


def local_time(value: datetime | None, tz: str, fmt: str = "datetime") -> str:
    """A UTC instant as the person reads it, in their zone and language.

    fmt: datetime (Sun, Nov 22, 2026, 3:04 PM), date, day (Nov 22), weekday_day (Sun, Nov
    22), long_date, weekday_time, or input (2026-11-22T15:04, for <input type="datetime-local">).
    """
    if value is None:
        return ""
    local = value.astimezone(zone(tz))
    if fmt == "input":
        return local.strftime("%Y-%m-%dT%H:%M")
    locale = get_locale() or Locale("en")
    day = date_words(local, DATE_SKELETONS[fmt])
    if fmt not in WITH_TIME:
        return day
    time = format_time(local, "short", locale=locale)
    return locale.datetime_formats["medium"].replace("{1}", day).replace("{0}", time)


def change_words(measure: str, change: int | None) -> str:
    """'2 points lower' / 'no change' / '1 point higher'."""
    if change is None:
        return gettext("not rated both times")
    if change == 0:
        return gettext("no change")
    if change > 0:
        return ngettext("%(num)d point lower", "%(num)d points lower", change)
    return ngettext("%(num)d point higher", "%(num)d points higher", -change)


def date_words(value: date | datetime | str, skeleton: str = "yMMMd") -> str:
    """A calendar date (or its ISO text) written out the reader's way: Nov 16, 2026 /
    16 nov. 2026 (a datetime is taken as it is: convert it to the patient's zone first)."""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return format_skeleton(skeleton, day, locale=get_locale() or "en")


def decimal(value: float | None, places: int = 1) -> str:
    """A number with fixed decimals in the reader's way: 2.5 in English, 2,5 in French."""
    if value is None:
        return "–"
    return format_decimal(value, format="0." + "0" * places, locale=get_locale() or "en")


def zone_name(name: str) -> str:
    """A time zone as people know it, in the reader's language: 'Toronto (Eastern Time)',
    'Toronto (heure de l’Est)', 'Londres' (where CLDR has no everyday name for the zone)."""
    return _zone_name(name, str(get_locale() or "en"))


@lru_cache(maxsize=4096)
def _zone_name(name: str, locale: str) -> str:
    if name == "UTC":
        return name
    city = get_timezone_location(name, locale=locale, return_city=True)
    generic = get_timezone_name(get_timezone(name), locale=locale, zone_variant="generic")
    # Without an everyday name Babel falls back to the country, with a wrong 'daylight' word.
    if generic == get_timezone_location(name, locale=locale):
        return city
    return f"{city} ({generic})"


def zone_choices(current: str | None = None) -> list[tuple[str, str]]:
    """Every zone not among the common ones, as (name, label) in the order of its label:
    one name each, old aliases (US/Eastern, America/Montreal) left out unless in use."""
    locale = str(get_locale() or "en")
    choices = list(_zone_choices(locale))
    if current and current not in COMMON_ZONES and all(name != current for name, _ in choices):
        choices.insert(0, (current, _zone_name(current, locale)))
    return choices


@lru_cache(maxsize=8)
def _zone_choices(locale: str) -> tuple[tuple[str, str], ...]:
    aliases = get_global("zone_aliases")
    names = [n for n in all_zones() if n not in COMMON_ZONES and aliases.get(n, n) == n]
    return tuple(sorted(((n, _zone_name(n, locale)) for n in names), key=lambda c: _sort_key(c[1])))


def _sort_key(label: str) -> str:
    """Alphabetical as a reader expects it: Édmonton beside Edmonton, not after Z."""
    return "".join(
        c for c in unicodedata.normalize("NFKD", label) if not unicodedata.combining(c)
    ).casefold()


# How this week's reminder will reach the person (User.reminder_route), said in one
# sentence on Settings. Patients' reminders come at a time; caregivers' alerts whenever a
# patient's week ends.
ROUTE_WORDS = {
    "off": _l("Weekly reminders are off."),
    "push": _l("We will send a notification to your phone on %(day)s at %(time)s."),
    "both": _l("We will send a notification to your phone and an e-mail on %(day)s at %(time)s."),
    "push_ok": _l("We will e-mail you on %(day)s at %(time)s."),
    "no_device": _l(
        "No phone is set up for reminders, so we will e-mail you on %(day)s at %(time)s."
    ),
    "devices_gone": _l(
        "Your phone no longer takes reminders, so we will e-mail you on %(day)s at %(time)s."
    ),
    "push_blocked": _l(
        "Notifications are blocked on your phone, so we will e-mail you on %(day)s at %(time)s."
    ),
    "email_unverified": _l(
        "No reminder can reach you yet: turn on reminders on this phone, or confirm your "
        "e-mail address."
    ),
    "none": _l(
        "No reminder can reach you: no phone takes reminders, and reminder e-mails are off."
    ),
}
ALERT_WORDS = {
    "push": _l("Alerts about the people you help will come as notifications on your phone."),
    "both": _l(
        "Alerts about the people you help will come as notifications on your phone and by e-mail."
    ),
    "email": _l("Alerts about the people you help will come by e-mail."),
    "email_unverified": _l(
        "No alert can reach you yet: turn on reminders on this phone, or confirm your e-mail "
        "address."
    ),
    "none": _l("No alert can reach you: no phone takes reminders, and e-mails are off."),
}


def reminder_route(user) -> str:
    """The one sentence saying how this week's reminder (a caregiver's alerts) will come."""
    from pnapp.models.delivery import can_mail

    route = user.reminder_route
    channel, reason = route["channel"], route["reason"]
    both = channel == "push" and "email" in user.reminder_channel_list and can_mail(user)
    if channel == "push":
        key = "both" if both else "push"
    elif channel == "email":
        key = "email" if user.is_caregiver else reason
    else:
        key = reason if reason in ("off", "email_unverified") else "none"
    if user.is_caregiver:
        return str(ALERT_WORDS[key])
    hour, minute = map(int, user.reminder_time.split(":"))
    return str(ROUTE_WORDS[key]) % {
        "day": WEEKDAYS[user.reminder_weekday],
        "time": format_time(time(hour, minute), "short", locale=get_locale() or "en"),
    }


# Settings' one readable state of the weekly reminder: on (with the day and time, and the
# roads it takes), off, or wanted but with no road yet, which never reads as "on".
ROAD_WORDS = {
    "push": _l("notifications on your phone"),
    "email": _l("e-mail"),
    "calendar": _l("your calendar"),
}


def reminder_summary(user) -> dict[str, str]:
    """{"state": "on"|"off"|"no_road", "headline", "roads"} for a patient's reminder."""
    from pnapp import calendar
    from pnapp.models.delivery import channels_for

    route = user.reminder_route
    when = {"day": WEEKDAYS[user.reminder_weekday], "time": clock(user.reminder_time)}
    if route["reason"] == "off":
        return {"state": "off", "headline": gettext("Reminders are off."), "roads": ""}
    if route["channel"] == "none":
        # A calendar's alarm may be ignored: alone it is not a road we count on.
        return {
            "state": "no_road",
            "headline": gettext("Reminders are not reaching you yet."),
            "roads": gettext(
                "Nothing can carry them yet: turn on reminders on this phone, or choose e-mail."
            ),
        }
    roads = list(channels_for(user, route["channel"] == "push" or bool(user.subscriptions)))
    if calendar.in_use(user, utcnow()):
        roads.append("calendar")
    return {
        "state": "on",
        "headline": gettext("Reminders are on: %(day)s at %(time)s.", **when),
        # Translators: %(roads)s is "notifications on your phone", "e-mail", or both.
        "roads": gettext(
            "They come by %(roads)s.",
            roads=format_list([str(ROAD_WORDS[r]) for r in roads], locale=get_locale() or "en"),
        ),
    }


def clock(hhmm: str) -> str:
    """A local "HH:MM" as the reader writes times (9:00 AM, 09 h 00...)."""
    hour, minute = map(int, hhmm.split(":"))
    return format_time(time(hour, minute), "short", locale=get_locale() or "en")
