"""The app badge (Badging API): 1 while this week's session or an after rating is due, else
cleared. Push payloads set it when a reminder goes out; the pages that change what is due
(home, a session) say what it is now, and static/js/badge.js sets or clears it."""

from __future__ import annotations

from datetime import datetime, time

from pnapp.timeutil import zone


def due_count(user, now: datetime) -> int:
    """1 when an after rating is waiting, or when this week's reminder time has passed and
    the week's goal is not met yet; else 0."""
    if not user.is_patient:
        return 0
    if user.latest_unfinished_session(now) is not None:
        return 1
    if not user.reminder_enabled:
        return 0
    local = now.astimezone(zone(user.timezone))
    hour, minute = map(int, user.reminder_time.split(":"))
    reminded = (local.weekday(), local.time()) >= (user.reminder_weekday, time(hour, minute))
    return int(reminded and user.sessions_in_week(now) < user.weekly_goal)
