"""A massage logged afterwards: the before form's "When?" (now, earlier today, yesterday,
another day up to 30 days back), before and after together, counted in its own week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pnapp.timeutil import iso_week_label, local_date, logged_start, utcnow
from tests.test_pages import Browser, text

TORONTO = "America/Toronto"
# Monday 2026-11-16, 10:30 in Toronto (ISO week 47).
MONDAY = datetime(2026, 11, 16, 15, 30, tzinfo=UTC)


def test_yesterday_on_a_monday_is_in_last_week():
    start = logged_start("yesterday", "", "18:00", TORONTO, MONDAY)
    assert start == datetime(2026, 11, 15, 23, 0, tzinfo=UTC)  # Sunday 18:00 EST
    assert iso_week_label(local_date(start, TORONTO)) == "2026-W46"
    assert iso_week_label(local_date(MONDAY, TORONTO)) == "2026-W47"


def test_the_choices_read_in_the_patients_zone():
    assert logged_start("now", "", "", TORONTO, MONDAY) is None
    assert logged_start("today", "", "08:15", TORONTO, MONDAY) == datetime(
        2026, 11, 16, 13, 15, tzinfo=UTC
    )
    assert logged_start("other", "2026-10-17", "09:00", TORONTO, MONDAY) == datetime(
        2026,
        10,
        17,
        13,
        0,
        tzinfo=UTC,  # still daylight time then
    )


@pytest.mark.parametrize(
    ("when", "day", "hhmm"),
    [
        ("today", "", "11:00"),  # still to come
        ("other", "2026-10-16", "09:00"),  # 31 days back
        ("other", "2026-11-17", "09:00"),  # tomorrow
        ("other", "", "09:00"),
        ("yesterday", "", ""),
        ("yesterday", "", "25:00"),
        ("last week", "", "09:00"),
    ],
)
def test_a_day_outside_the_30_days_or_a_time_to_come_is_refused(when, day, hhmm):
    with pytest.raises(ValueError):
        logged_start(when, day, hhmm, TORONTO, MONDAY)


def test_a_session_logged_for_yesterday_lands_in_yesterdays_week(app, alice, as_alice):
    browser = Browser(app.test_client())
    browser.submit("/login", {"email": alice.email, "password": "correct horse battery"})
    yesterday = local_date(utcnow(), TORONTO) - timedelta(days=1)
    response = browser.submit(
        "/sessions/new",
        {
            "when": "yesterday",
            "when_time": "00:30",
            "before.pain": "7",
            "before.stress": "6",
            "past_after.pain": "3",
            "past_after.stress": "2",
        },
    )
    page = text(response)
    assert "Saved. Thank you." in page and "Your session" in page
    [saved] = as_alice.get("/sessions").get_json()["items"]
    started = datetime.fromisoformat(saved["started_at"].replace("Z", "+00:00"))
    assert local_date(started, TORONTO) == yesterday
    assert saved["change"]["pain"] == 4 and saved["after"]["stress"] == 2
    weeks = as_alice.get("/progress?weeks=2").get_json()["weeks"]
    counted = {w["week"]: w["sessions"] for w in weeks}
    assert counted[iso_week_label(yesterday)] == 1
    this_week = iso_week_label(yesterday + timedelta(days=1))
    if this_week != iso_week_label(yesterday):  # (a Monday: not counted in this week)
        assert counted[this_week] == 0


def test_a_refused_day_keeps_the_ratings_and_says_why(app, alice):
    browser = Browser(app.test_client())
    browser.submit("/login", {"email": alice.email, "password": "correct horse battery"})
    response = browser.submit(
        "/sessions/new",
        {
            "when": "other",
            "when_date": "2001-01-01",
            "when_time": "09:00",
            "before.pain": "7",
            "before.stress": "6",
            "past_after.pain": "3",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Choose a day within the last 30 days and a time that has passed." in page
    assert 'id="when-other" name="when" value="other" checked' in page
    assert 'id="before-pain-7" name="before.pain" value="7" checked' in page
    assert 'id="past_after-pain-3" name="past_after.pain" value="3" checked' in page
