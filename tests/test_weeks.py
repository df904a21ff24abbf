"""Weeks are ISO weeks in the patient's own time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from pnapp.extensions import db
from pnapp.models import User
from pnapp.timeutil import iso_week_label, local_midnight, week_bounds
from tests.conftest import Api, make_user
from tests.helpers import session_body


def test_late_sunday_in_auckland_is_still_the_old_week_there_but_monday_in_utc():
    # Sunday 22 Nov 2026, 23:30 in Auckland (UTC+13) is Sunday 10:30 UTC: same week both ways.
    # Monday 23 Nov 00:30 in Auckland is still Sunday 11:30 UTC: a new week only in Auckland.
    monday_early = datetime(2026, 11, 22, 11, 30, tzinfo=UTC)
    start, end = week_bounds(monday_early, "Pacific/Auckland")
    assert start == local_midnight(date(2026, 11, 23), "Pacific/Auckland")
    assert start == datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
    utc_start, _ = week_bounds(monday_early, "UTC")
    assert utc_start == datetime(2026, 11, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "label"),
    [
        (date(2026, 12, 31), "2026-W53"),
        (date(2027, 1, 3), "2026-W53"),
        (date(2027, 1, 4), "2027-W01"),
        (date(2026, 11, 16), "2026-W47"),
    ],
)
def test_iso_week_labels_include_week_53(day, label):
    assert iso_week_label(day) == label


def test_a_week_spans_a_daylight_saving_change_in_local_time():
    # New York falls back on Sunday 1 Nov 2026: that week is 7 local days but 169 hours.
    start, end = week_bounds(datetime(2026, 10, 28, 12, tzinfo=UTC), "America/New_York")
    assert start == datetime(2026, 10, 26, 4, tzinfo=UTC)
    assert end == datetime(2026, 11, 2, 5, tzinfo=UTC)


def test_this_weeks_count_follows_the_patients_zone(app):
    kiri = make_user(app, "kiri@example.com", timezone="Pacific/Auckland")
    toby = make_user(app, "toby@example.com", timezone="UTC")
    # Sunday 15 Nov 2026, 23:30 in Auckland is 10:30 UTC the same Sunday.
    for person in (kiri, toby):
        api = Api(app.test_client()).login(person.email)
        assert (
            api.post("/sessions", session_body(started_at="2026-11-15T10:30:00Z")).status_code
            == 201
        )
    an_hour_later = datetime(2026, 11, 15, 11, 30, tzinfo=UTC)  # Monday 00:30 in Auckland
    with app.app_context():
        assert db.session.get(User, kiri.id).sessions_in_week(an_hour_later) == 0
        assert db.session.get(User, toby.id).sessions_in_week(an_hour_later) == 1
        just_after = datetime(2026, 11, 15, 10, 45, tzinfo=UTC)
        assert db.session.get(User, kiri.id).sessions_in_week(just_after) == 1


def test_streaks_before_the_window_count_sessions_in_the_patients_local_weeks(app):
    """Sessions older than the shown weeks are read as numbers (seconds since 1970) and
    still fall in the right local week, a fraction of a second from midnight included."""
    from datetime import timedelta

    kiri = make_user(app, "kiri@example.com", timezone="Pacific/Auckland")
    api = Api(app.test_client()).login(kiri.email)
    # Three Auckland weeks in a row, long before a 4-week window: each session within a
    # second of that week's edge (Monday 00:00:00 local, UTC+13 in summer).
    first_monday = local_midnight(date(2026, 1, 5), "Pacific/Auckland")
    starts = [
        first_monday + timedelta(milliseconds=200),  # Monday 00:00:00.2: week 1
        first_monday + timedelta(weeks=2) - timedelta(milliseconds=300),  # Sunday 23:59:59.7
        first_monday + timedelta(weeks=2, milliseconds=1),  # Monday 00:00:00.001: week 3
    ]
    for start in starts:
        when = start.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        assert api.post("/sessions", session_body(started_at=when)).status_code == 201
    with app.app_context():
        progress = db.session.get(User, kiri.id).progress(datetime(2026, 11, 30, tzinfo=UTC), 4)
    assert progress["longest_streak_weeks"] == 3
    assert progress["current_streak_weeks"] == 0
    assert sum(week["sessions"] for week in progress["weeks"]) == 0
