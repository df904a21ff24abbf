""" "Remind me tomorrow": exactly one more reminder 24 hours after the tap, at most once a
week, with `now` passed in (pnapp/reminders/snooze.py), and the badge's rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pnapp.extensions import db
from pnapp.models import MassageSession, User
from pnapp.reminders.badge import due_count
from pnapp.reminders.snooze import snooze, snoozed
from tests.conftest import PASSWORD
from tests.helpers import iso, session_body
from tests.test_pages import Browser, text
from tests.test_reminders import remind_at, run, subscribe

# Wednesday 2026-11-18, 14:00 in Toronto: the reminder (Wednesday 09:00) came this morning.
TAPPED = datetime(2026, 11, 18, 19, 0, tzinfo=UTC)


def snooze_at(app, user_id: int, now: datetime):
    with app.app_context():
        user = db.session.get(User, user_id)
        return snooze(user, now), snoozed(user, now)


def weekly(push_service) -> list:
    return [
        m for m in push_service.messages if m.payload["notification"]["tag"].startswith("weekly")
    ]


def test_snoozing_sends_exactly_one_more_reminder_24_hours_later(
    app, as_alice, alice, push_service
):
    remind_at(app, as_alice, weekday=2, time="09:00")
    subscribe(as_alice, push_service, "alice-phone")

    due, used = snooze_at(app, alice.id, TAPPED)
    assert due == TAPPED + timedelta(hours=24) and used

    run(app, TAPPED + timedelta(hours=23, minutes=59))
    assert weekly(push_service) == []
    for later in (timedelta(hours=24), timedelta(hours=24, minutes=1), timedelta(hours=30)):
        run(app, TAPPED + later)
    [again] = weekly(push_service)
    note = again.payload["notification"]
    assert note["tag"] == "weekly-2026W47"  # replaces this week's reminder on the phone
    assert [a["action"] for a in note["actions"]] == ["start", "snooze"]


def test_a_second_snooze_in_the_same_week_changes_nothing(app, as_alice, alice, push_service):
    remind_at(app, as_alice, weekday=2, time="09:00")
    subscribe(as_alice, push_service, "alice-phone")
    assert snooze_at(app, alice.id, TAPPED)[0] is not None
    # Later that week (Friday, Sunday night in Toronto): at most once a week.
    for later in (timedelta(days=2), timedelta(days=4, hours=4)):
        assert snooze_at(app, alice.id, TAPPED + later) == (None, True)
    for hours in range(20, 120, 4):
        run(app, TAPPED + timedelta(hours=hours))
    assert len(weekly(push_service)) == 1


def test_next_week_may_be_snoozed_again(app, as_alice, alice, push_service):
    remind_at(app, as_alice, weekday=2, time="09:00")
    subscribe(as_alice, push_service, "alice-phone")
    assert snooze_at(app, alice.id, TAPPED)[0] is not None
    next_week = TAPPED + timedelta(days=7)
    assert snooze_at(app, alice.id, next_week) == (next_week + timedelta(hours=24), True)


def test_no_snooze_while_reminders_are_off_or_nothing_can_carry_it(app, as_alice, alice):
    assert snooze_at(app, alice.id, TAPPED) == (None, False)
    remind_at(app, as_alice, weekday=2, time="09:00")  # no phone, no confirmed address
    assert snooze_at(app, alice.id, TAPPED) == (None, False)


def test_the_badge_shows_what_is_due(app, as_alice, alice):
    remind_at(app, as_alice, weekday=2, time="09:00")

    def badge(now):
        with app.app_context():
            return due_count(db.session.get(User, alice.id), now)

    assert badge(TAPPED - timedelta(hours=6)) == 0  # Wednesday 08:00: not reminded yet
    assert badge(TAPPED) == 1  # reminded, no session this week
    started = TAPPED + timedelta(hours=1)
    created = as_alice.post("/sessions", session_body(started_at=iso(started))).get_json()
    assert badge(started + timedelta(minutes=5)) == 1  # the after rating is due
    with app.app_context():
        session = db.session.get(MassageSession, created["id"])
        session.update(db.session.get(User, alice.id), {"after": {"pain": 1, "stress": 1}})
    assert badge(started + timedelta(hours=1)) == 0  # the week's goal is met


def test_no_snoozed_reminder_once_the_weeks_massage_is_recorded(app, as_alice, alice, push_service):
    remind_at(app, as_alice, weekday=2, time="09:00")
    subscribe(as_alice, push_service, "alice-phone")
    assert snooze_at(app, alice.id, TAPPED)[0] is not None
    as_alice.post("/sessions", session_body(started_at=iso(TAPPED + timedelta(hours=2))))
    report = run(app, TAPPED + timedelta(hours=24, minutes=1))
    assert weekly(push_service) == [] and report.failed == 1


def test_the_snooze_page_asks_first_then_says_when(app, alice, as_alice, push_service):
    """Where a notification opens its button's link instead (no service worker), the page
    asks with one button; a second ask that week is told it is used."""
    remind_at(app, as_alice, weekday=2, time="09:00")
    subscribe(as_alice, push_service, "alice-phone")
    browser = Browser(app.test_client())
    browser.submit("/login", {"email": alice.email, "password": PASSWORD})
    page = text(browser.get("/reminders/snooze?week=2026-W47"))
    assert "We will send one more reminder 24 hours from now." in page
    assert "We will remind you again on" in text(browser.submit("/reminders/snooze", {}))
    page = text(browser.get("/reminders/snooze"))
    assert "You already asked for one more reminder this week." in page
    assert "Remind me tomorrow" not in page.split("You already asked")[1]
