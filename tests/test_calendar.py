"""Calendar reminders: the weekly reminder in a person's own calendar app, at a secret
address that needs no login, in their language, with nothing about their health in it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import partial

import pytest
import recurring_ical_events
from icalendar import Calendar
from sqlalchemy import event, update

from pnapp.extensions import db
from pnapp.models import User
from tests.conftest import PASSWORD, Api
from tests.helpers import session_body
from tests.test_pages import Browser, text

JOINED = datetime(2026, 1, 1, tzinfo=UTC)


def joined_long_ago(app, user: User) -> None:
    """Alice made her account on 1 January 2026, so the feed's series covers that year's
    daylight-saving changes whatever day the tests run on."""
    with app.app_context():
        db.session.execute(update(User).where(User.id == user.id).values(created_at=JOINED))
        db.session.commit()


def remind(api: Api, **reminder) -> None:
    timezone = reminder.pop("timezone", None)
    body = {"reminder": {"enabled": True, **reminder}}
    if timezone:
        body["timezone"] = timezone
    response = api.patch("/me", body)
    assert response.status_code == 200, response.get_json()


def feed_path(api: Api) -> str:
    response = api.get("/calendar")
    assert response.status_code == 200, response.get_json()
    return "/" + response.get_json()["feed_url"].split("/", 3)[3]


def fetch(app, path: str) -> Calendar:
    """The feed as a calendar app gets it: no cookie, then parsed back."""
    response = app.test_client().get(path)
    assert response.status_code == 200
    return Calendar.from_ical(response.data)


def occurrences(cal: Calendar, first: date, weeks: int = 12) -> list:
    return recurring_ical_events.of(cal).between(first, first + timedelta(weeks=weeks))


@pytest.mark.parametrize(
    ("zone", "weekday", "at", "first"),
    [
        # Sunday morning, the day the clocks change too (8 March, 1 November 2026).
        ("America/New_York", 6, "08:30", date(2026, 2, 16)),
        ("America/New_York", 6, "08:30", date(2026, 9, 21)),
        # Monday evening (clocks change on 29 March and 25 October 2026).
        ("Europe/Berlin", 0, "19:15", date(2026, 3, 2)),
        ("Europe/Berlin", 0, "19:15", date(2026, 9, 14)),
    ],
)
def test_the_reminder_keeps_its_local_day_and_time_across_daylight_saving_changes(
    app, alice, as_alice, zone, weekday, at, first
):
    joined_long_ago(app, alice)
    remind(as_alice, weekday=weekday, time=at, timezone=zone)
    events = occurrences(fetch(app, feed_path(as_alice)), first)

    assert len(events) == 12
    starts = [e.start for e in events]
    assert all(str(s.tzinfo) == zone for s in starts)
    assert {(s.weekday(), s.time()) for s in starts} == {(weekday, time.fromisoformat(at))}
    # The window does cross a change: the same wall time is two different UTC offsets.
    assert len({s.utcoffset() for s in starts}) == 2
    for occurrence in events:
        [alarm] = occurrence.walk("VALARM")
        assert alarm["ACTION"] == "DISPLAY" and alarm["DESCRIPTION"]
        assert alarm["TRIGGER"].dt <= timedelta(0)


def test_the_feed_is_one_weekly_event_with_its_zone_and_a_stable_uid(app, alice, as_alice):
    remind(as_alice, weekday=2, time="18:00", timezone="Europe/Berlin")
    path = feed_path(as_alice)
    body = app.test_client().get(path).get_data(as_text=True)
    assert "DTSTART;TZID=Europe/Berlin:" in body and "RRULE:FREQ=WEEKLY;BYDAY=WE" in body
    assert "BEGIN:VTIMEZONE" in body and "TZID:Europe/Berlin" in body
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in body and "X-PUBLISHED-TTL:PT1H" in body
    first, again = fetch(app, path), fetch(app, path)
    [event] = first.walk("VEVENT")
    assert event["UID"] == again.walk("VEVENT")[0]["UID"] == f"weekly-{alice.id}@127.0.0.1"
    assert first["UID"] == again["UID"]


def test_the_feed_says_nothing_about_health_or_who_it_is_for(app, alice, as_alice):
    remind(as_alice)
    note = "Burning in both feet, worse since the chemotherapy"
    body = session_body(notes=note, before={"pain": 8, "stress": 7}, after={"pain": 3, "stress": 2})
    assert as_alice.post("/sessions", body).status_code == 201
    text = app.test_client().get(feed_path(as_alice)).get_data(as_text=True)
    unfolded = text.replace("\r\n ", "")
    for secret in ("Burning", "chemotherapy", "feet", "pain", "stress", "Alice", alice.email):
        assert secret.lower() not in unfolded.lower()
    [event] = Calendar.from_ical(text).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Time for your weekly massage check-in"
    assert "http://127.0.0.1:5000/sessions/new" in str(event["DESCRIPTION"])


def test_with_reminders_off_the_calendar_has_no_event(app, alice, as_alice):
    path = feed_path(as_alice)  # reminders start off
    assert fetch(app, path).walk("VEVENT") == []
    remind(as_alice)
    assert len(fetch(app, path).walk("VEVENT")) == 1
    assert as_alice.patch("/me", {"reminder": {"enabled": False}}).status_code == 200
    cal = fetch(app, path)
    assert cal.walk("VEVENT") == [] and str(cal["X-WR-CALNAME"]) == "pnapp reminders"


def test_the_feed_follows_a_new_day_time_and_zone_from_settings(app, alice, as_alice):
    joined_long_ago(app, alice)
    remind(as_alice, weekday=0, time="09:00", timezone="America/New_York")
    path = feed_path(as_alice)
    [before] = occurrences(fetch(app, path), date(2026, 6, 1), weeks=1)
    assert before.start == datetime(2026, 6, 1, 9, 0, tzinfo=before.start.tzinfo)

    remind(as_alice, weekday=4, time="17:45", timezone="Europe/Berlin")
    [after] = occurrences(fetch(app, path), date(2026, 6, 1), weeks=1)
    assert str(after.start.tzinfo) == "Europe/Berlin"
    assert (after.start.date(), after.start.time()) == (date(2026, 6, 5), time(17, 45))
    assert after["UID"] == before["UID"]  # the same series, moved, not a second one


def test_the_feed_speaks_the_patients_language(app, alice, as_alice):
    remind(as_alice)
    assert as_alice.patch("/me", {"language": "fr-CA"}).status_code == 200
    [event] = fetch(app, feed_path(as_alice)).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Petit rappel pour votre massage de la semaine"
    assert event["SUMMARY"].params["LANGUAGE"] == "fr-CA"


def test_the_address_is_made_once_and_kept(as_alice):
    first = as_alice.get("/calendar").get_json()
    assert first == as_alice.get("/calendar").get_json()
    assert re.fullmatch(r"http://127\.0\.0\.1:5000/calendar/[\w-]{43}\.ics", first["feed_url"])
    assert first["webcal_url"] == "webcal://" + first["feed_url"].removeprefix("http://")
    assert first["download_url"] == "/api/v1/calendar/reminder.ics"


def test_the_address_is_on_the_public_url_whatever_host_the_request_names(app, alice):
    forged = app.test_client()
    forged.open = partial(forged.open, base_url="http://evil.example")  # every request
    response = Api(forged).login(alice.email).get("/calendar")
    assert response.request.host == "evil.example"
    answer = response.get_json()
    assert answer["feed_url"].startswith("http://127.0.0.1:5000/calendar/")
    assert "evil" not in answer["webcal_url"]


def test_a_new_address_answers_and_the_old_one_is_404_from_then_on(app, as_alice):
    old = feed_path(as_alice)
    response = as_alice.post("/calendar/token")
    assert response.status_code == 201
    answer = response.get_json()
    new = "/" + answer["feed_url"].split("/", 3)[3]
    assert new != old and set(answer) == {"feed_url", "webcal_url", "download_url"}
    feed = app.test_client()
    assert feed.get(old).status_code == 404
    assert feed.get(new).status_code == 200
    assert feed_path(as_alice) == new


@pytest.mark.parametrize(
    "token",
    [
        "x",
        "A" * 43,  # the right shape, nobody's
        "A" * 42 + "!",
        "A" * 5000,
        "%00" * 15,
        "é" * 43,
        "' OR 1=1 --",
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e",
    ],
)
def test_any_other_address_is_a_plain_404(app, alice, as_alice, token):
    feed_path(as_alice)  # alice has an address, so there is one to miss
    response = app.test_client().get(f"/calendar/{token}.ics")
    assert response.status_code == 404
    assert "BEGIN:VCALENDAR" not in response.get_data(as_text=True)


def test_the_feed_needs_no_cookie_and_neither_sets_nor_varies_on_one(app, as_alice):
    path = feed_path(as_alice)
    for client in (app.test_client(), as_alice.client):  # a calendar app; alice's browser
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
        assert response.headers["Cache-Control"] == "private, max-age=900"
        assert response.headers["Content-Disposition"].startswith("inline")
        assert "Set-Cookie" not in response.headers
        assert "Cookie" not in response.headers.get("Vary", "")
        assert b"\r\n" in response.data


def test_a_caregiver_has_no_calendar_and_is_told_so(as_bob):
    for method, path in (
        ("GET", "/calendar"),
        ("POST", "/calendar/token"),
        ("GET", "/calendar/reminder.ics"),
    ):
        response = as_bob.request(method, path)
        assert response.status_code == 403
        error = response.get_json()["error"]
        assert error["code"] == "forbidden" and error["message"] == "Only a patient can do this."


def test_nobody_logged_in_gets_401(anon):
    assert anon.get("/calendar").status_code == 401
    assert anon.get("/calendar/reminder.ics").get_json()["error"]["code"] == "unauthorized"


def test_the_download_is_a_file_to_import_once(app, alice, as_alice):
    remind(as_alice, weekday=3)
    response = as_alice.get("/calendar/reminder.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]
    [event] = Calendar.from_ical(response.data).walk("VEVENT")
    assert "BYDAY=TH" in event["RRULE"].to_ical().decode()


# The settings page, without JavaScript


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def alice_browser(app, alice):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    data = {"csrf_token": csrf(page), "email": alice.email, "password": PASSWORD}
    assert client.post("/login", data=data).status_code == 302
    return client


def test_settings_shows_the_calendar_card_with_the_address(alice_browser, as_alice):
    page = alice_browser.get("/settings").get_data(as_text=True)
    feed = as_alice.get("/calendar").get_json()
    assert "Add to my calendar" in page
    assert f'href="{feed["webcal_url"]}"' in page
    assert f">{feed['feed_url']}</textarea>" in page
    assert 'href="/settings/calendar.ics"' in page and "Download for my calendar" in page
    assert "Make a new secret address" in page
    assert "Calendars may ignore the alarm." in page


def test_the_settings_download_is_an_attachment(alice_browser):
    response = alice_browser.get("/settings/calendar.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"].startswith("attachment;")


def test_the_settings_form_makes_a_new_address_and_says_so(app, alice_browser, as_alice):
    old = feed_path(as_alice)
    page = alice_browser.get("/settings").get_data(as_text=True)
    response = alice_browser.post(
        "/settings/calendar/new-address", data={"csrf_token": csrf(page)}, follow_redirects=True
    )
    assert response.status_code == 200
    assert "Your calendar has a new address." in response.get_data(as_text=True)
    new = feed_path(as_alice)
    assert new != old and new in response.get_data(as_text=True)
    assert app.test_client().get(old).status_code == 404


def test_the_new_address_form_needs_its_csrf_token(alice_browser, as_alice):
    old = feed_path(as_alice)
    response = alice_browser.post("/settings/calendar/new-address", data={})
    assert response.status_code == 400
    assert feed_path(as_alice) == old


def test_a_caregivers_settings_have_no_calendar_card(app, bob):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"csrf_token": csrf(page), "email": bob.email, "password": PASSWORD})
    page = client.get("/settings").get_data(as_text=True)
    assert "Settings" in page and "Add to my calendar" not in page
    assert client.get("/settings/calendar.ics").status_code == 302


def test_the_first_address_is_made_even_when_another_request_writes_meanwhile(app, alice, bob):
    """A GET's transaction has read (the login) before the address is made; a write that
    another request commits in between must not make this one fail (SQLite: SQLITE_BUSY)."""
    as_alice = Api(app.test_client()).login(alice.email)
    with app.app_context():
        engine = db.engine
        # An account from before calendars: its address is made on first use.
        db.session.execute(update(User).where(User.id == alice.id).values(calendar_token=None))
        db.session.commit()

    wrote = []

    def another_request_writes(conn, cursor, statement, *args):
        if statement.startswith("UPDATE users SET calendar_token") and not wrote:
            wrote.append(True)
            with engine.begin() as other:
                other.execute(update(User).where(User.id == bob.id).values(display_name="Bo"))

    event.listen(engine, "before_cursor_execute", another_request_writes)
    try:
        response = as_alice.get("/calendar")
    finally:
        event.remove(engine, "before_cursor_execute", another_request_writes)
    assert wrote and response.status_code == 200, response.get_json()
    assert app.test_client().get(feed_path(as_alice)).status_code == 200


def test_the_everything_export_leaves_out_the_calendar_address(as_alice):
    """A file a patient may hand to someone must not open their calendar feed."""
    token = feed_path(as_alice).removeprefix("/calendar/").removesuffix(".ics")
    export = as_alice.get("/export/all.json")
    assert export.status_code == 200
    assert token not in export.get_data(as_text=True)
    assert "calendar_token" not in export.get_json()["user"]


def test_a_new_patient_has_a_calendar_address_from_sign_up(app, alice, bob):
    """Settings shows the address: it is made with the account, so a GET never writes."""
    with app.app_context():
        assert db.session.get(User, alice.id).calendar_token
        assert db.session.get(User, bob.id).calendar_token is None  # caregivers have none


def test_settings_names_the_calendar_as_a_road_once_a_calendar_app_reads_the_feed(
    app, alice, as_alice
):
    remind(as_alice, weekday=2, time="18:00", timezone="America/Toronto")
    with app.app_context():
        user = db.session.get(User, alice.id)
        user.email_verified = True
        db.session.commit()
        db.session.remove()
    settings = Browser(as_alice.client)
    assert "They come by e-mail." in text(settings.get("/settings"))
    fetch(app, feed_path(as_alice))
    page = text(settings.get("/settings"))
    assert "They come by e-mail and your calendar." in page
