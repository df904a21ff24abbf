"""Time: store UTC, compute in the person's zone, and let callers pass `now` in."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.core import get_global
from babel.dates import get_timezone

# Offered first in time-zone pickers; the browser's own zone is preselected when known.
COMMON_ZONES = (
    "America/St_Johns",
    "America/Halifax",
    "America/Toronto",
    "America/New_York",
    "America/Chicago",
    "America/Winnipeg",
    "America/Regina",
    "America/Mexico_City",
    "America/Denver",
    "America/Edmonton",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Vancouver",
    "America/Anchorage",
    "Pacific/Honolulu",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Pacific/Auckland",
    "UTC",
)
# Folders of zone files that name no place (offsets, System V rules, leap-second variants).
NOT_PLACES = ("Etc/", "SystemV/", "posix/", "right/")


def utcnow() -> datetime:
    return datetime.now(UTC)


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def is_valid_zone(name: str) -> bool:
    """A place's zone (Area/Location, old names such as US/Eastern too) or UTC: the ones the
    app lists, names in people's languages and computes with. zoneinfo also finds files that
    are no place (Factory, localtime, posixrules, EST5EDT, Etc/GMT+5), which Babel cannot
    name: stored, they broke the settings page and the report for good."""
    if not isinstance(name, str) or name not in _place_zones():
        return False
    try:
        zone(name)
        get_timezone(name)
    except (ZoneInfoNotFoundError, ValueError, LookupError):
        return False
    return True


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def all_zones() -> list[str]:
    return sorted(n for n in _place_zones() if n != "UTC")


@lru_cache(maxsize=1)
def _place_zones() -> frozenset[str]:
    places = {n for n in _zone_names() if "/" in n and not n.startswith(NOT_PLACES)}
    return frozenset(places | {"UTC"})


# Where Letter paper is the usual size; A4 everywhere else.
LETTER_COUNTRIES = ("US", "CA")


def paper_for_zone(name: str) -> str:
    """ "letter" for a zone in the United States or Canada (old names too: US/Eastern,
    America/Montreal), else "a4"."""
    canonical = get_global("zone_aliases").get(name, name)
    country = get_global("zone_territories").get(canonical)
    return "letter" if country in LETTER_COUNTRIES else "a4"


def iso_week_label(d: date) -> str:
    year, week, _ = d.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(d: date) -> date:
    """The Monday of d's ISO week."""
    return d - timedelta(days=d.weekday())


def local_midnight(d: date, tz: str) -> datetime:
    """The UTC instant at which local date d begins in zone tz."""
    return datetime.combine(d, time(0), tzinfo=zone(tz)).astimezone(UTC)


def local_date(instant: datetime, tz: str) -> date:
    return instant.astimezone(zone(tz)).date()


def week_bounds(instant: datetime, tz: str) -> tuple[datetime, datetime]:
    """UTC [start, end) of the ISO week, in zone tz, that contains instant."""
    monday = week_start(local_date(instant, tz))
    return local_midnight(monday, tz), local_midnight(monday + timedelta(days=7), tz)


def to_utc_iso(value: datetime) -> str:
    """ISO 8601 in UTC with a Z, as every response gives times."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def next_weekly(now: datetime, tz: str, weekday: int, hhmm: str) -> datetime:
    """The first instant after `now` at local `weekday` (0 = Monday) and `hhmm` in zone tz.

    Computed from local wall time, never by adding 7 days in UTC, so 09:00 stays 09:00
    across daylight-saving changes. A wall time that does not exist (spring forward) lands
    an hour later; one that exists twice (fall back) is the first (fold=0).
    """
    hour, minute = (int(x) for x in hhmm.split(":"))
    monday = week_start(local_date(now, tz))
    day = monday + timedelta(days=weekday)
    while True:
        candidate = datetime.combine(day, time(hour, minute), tzinfo=zone(tz)).astimezone(UTC)
        if candidate > now:
            return candidate
        day += timedelta(days=7)


# How far back the pages let a massage be logged afterwards (API.md, Sessions: when and by whom).
LOG_BACK_DAYS = 30


def logged_start(when: str, day: str, hhmm: str, tz: str, now: datetime) -> datetime | None:
    """The UTC start of a massage logged with the before form's "When?" choice: None for
    "now" (the time it is received), else the local date ("today", "yesterday", or `day`
    for "other", at most LOG_BACK_DAYS back) at local `hhmm`. ValueError when the choice, the
    date or the time cannot be read, or the moment is in the future or too far back."""
    if when == "now":
        return None
    today = local_date(now, tz)
    if when == "today":
        d = today
    elif when == "yesterday":
        d = today - timedelta(days=1)
    elif when == "other":
        d = date.fromisoformat(day)
    else:
        raise ValueError(when)
    hour, minute = (int(x) for x in hhmm.split(":"))
    start = datetime.combine(d, time(hour, minute), tzinfo=zone(tz)).astimezone(UTC)
    if start > now or d < today - timedelta(days=LOG_BACK_DAYS):
        raise ValueError(start)
    return start
