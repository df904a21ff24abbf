"""The reminder ladder: push to a live device, e-mail to a confirmed address when there is
none (never subscribed, all gone, or notifications blocked), both when both were chosen;
caregivers' alerts by their own channels; and Settings saying which, and why. Through the
real local push service and the real SMTP server."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.datastructures import MultiDict

from pnapp.extensions import db
from pnapp.models import CareShare, Delivery
from pnapp.reminders import send_due_reminders
from pnapp.reminders.instant import wait_idle
from tests.conftest import confirm_address, share_with
from tests.helpers import iso, session_body
from tests.test_pages import Browser, text
from tests.test_reminders import due_instant, remind_at, subscribe


def run(app, now: datetime):
    # Mail already sent in the background lands first, as it would long before `now`.
    wait_idle(app)
    with app.app_context():
        return send_due_reminders(now)


def rows(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        return sorted(
            (d.kind, d.channel, d.state) for d in db.session.query(Delivery).order_by(Delivery.id)
        )


def route(api) -> dict:
    return api.get("/me").get_json()["reminder_route"]


def reminder_mails(mailbox, email: str) -> list:
    return [m for m in mailbox.to(email) if "List-Unsubscribe" in m]


@pytest.fixture
def confirmed(app, alice):
    confirm_address(app, alice.id)
    return alice


def test_with_no_device_the_reminder_comes_by_email(app, as_alice, confirmed, mailbox):
    remind_at(app, as_alice, 0, "18:00")
    assert route(as_alice) == {"channel": "email", "reason": "no_device"}
    settings = text(Browser(as_alice.client).get("/settings"))
    assert "No phone is set up for reminders, so we will e-mail you on Monday at 6:00" in settings
    due = due_instant(app, confirmed.id)
    report = run(app, due + timedelta(minutes=1))
    assert report.sent == 1
    [mail] = mailbox.wait_for(confirmed.email)
    assert mail["Subject"] == "Time for your weekly massage check-in"
    run(app, due + timedelta(minutes=5))
    assert rows(app) == [("weekly", "email", "sent")]
    assert len(mailbox.to(confirmed.email)) == 1


def test_an_unconfirmed_address_gets_nothing_but_its_verification_link(app, anon, mailbox):
    anon.post(
        "/auth/register",
        {
            "email": "erin@example.com",
            "password": "a long enough password",
            "display_name": "Erin",
            "role": "patient",
            "timezone": "America/Toronto",
        },
    )
    [verification] = mailbox.wait_for("erin@example.com")
    wait_idle(app)  # its delivery row is written as sent, before the clock is moved on
    remind_at(app, anon, 2, "09:00")
    assert route(anon) == {"channel": "none", "reason": "email_unverified"}
    user_id = anon.get("/me").get_json()["id"]
    due = due_instant(app, user_id)
    run(app, due + timedelta(minutes=1))
    assert rows(app) == [("verify_email", "email", "sent")]
    assert mailbox.to("erin@example.com") == [verification]
    assert "Please confirm your e-mail address" in text(Browser(anon.client).get("/"))


def test_a_live_device_gets_the_push_and_no_mail(app, as_alice, confirmed, mailbox, push_service):
    remind_at(app, as_alice, 0, "18:00")
    subscribe(as_alice, push_service, "phone")
    assert route(as_alice) == {"channel": "push", "reason": "push_ok"}
    run(app, due_instant(app, confirmed.id) + timedelta(minutes=1))
    assert len(push_service.to("phone")) == 1
    assert reminder_mails(mailbox, confirmed.email) == []
    assert rows(app) == [("weekly", "push", "sent")]


def test_once_the_device_is_gone_reminders_come_by_email_from_the_next_one_on(
    app, as_alice, confirmed, mailbox, push_service
):
    remind_at(app, as_alice, 0, "18:00")
    subscribe(as_alice, push_service, "phone")
    push_service.answers["phone"] = [(410, {})]
    first = due_instant(app, confirmed.id)
    run(app, first + timedelta(minutes=1))
    assert rows(app) == [("weekly", "push", "gone")]
    assert reminder_mails(mailbox, confirmed.email) == []  # this week's is lost, not doubled
    assert route(as_alice) == {"channel": "email", "reason": "devices_gone"}
    assert "Your phone no longer takes reminders, so we will e-mail you" in text(
        Browser(as_alice.client).get("/settings")
    )

    run(app, first + timedelta(days=7, minutes=1))
    assert len(mailbox.wait_for(confirmed.email)) == 1
    assert rows(app) == [("weekly", "email", "sent"), ("weekly", "push", "gone")]
    assert len(push_service.messages) == 1


def test_both_channels_chosen_send_one_push_and_one_mail(
    app, as_alice, confirmed, mailbox, push_service
):
    remind_at(app, as_alice, 0, "18:00")
    as_alice.patch("/me", {"reminder": {"channels": ["push", "email"]}})
    subscribe(as_alice, push_service, "phone")
    assert as_alice.get("/me").get_json()["reminder"]["channels"] == ["push", "email"]
    assert "We will send a notification to your phone and an e-mail on Monday" in text(
        Browser(as_alice.client).get("/settings")
    )
    due = due_instant(app, confirmed.id)
    for minutes in (1, 2, 30):
        run(app, due + timedelta(minutes=minutes))
    assert len(push_service.to("phone")) == 1
    assert len(mailbox.wait_for(confirmed.email)) == 1
    assert rows(app) == [("weekly", "email", "sent"), ("weekly", "push", "sent")]


def test_blocked_notifications_send_the_reminder_by_email(
    app, as_alice, confirmed, mailbox, push_service
):
    remind_at(app, as_alice, 0, "18:00")
    subscribe(as_alice, push_service, "phone")
    response = as_alice.patch("/me", {"push_blocked": True})
    assert response.status_code == 200
    assert response.get_json()["reminder_route"] == {"channel": "email", "reason": "push_blocked"}
    run(app, due_instant(app, confirmed.id) + timedelta(minutes=1))
    assert push_service.messages == []
    assert len(mailbox.wait_for(confirmed.email)) == 1

    as_alice.patch("/me", {"push_blocked": False})  # allowed again in the browser
    assert route(as_alice) == {"channel": "push", "reason": "push_ok"}


def test_email_alone_chosen_goes_by_email_even_with_a_device(
    app, as_alice, confirmed, mailbox, push_service
):
    remind_at(app, as_alice, 0, "18:00")
    as_alice.patch("/me", {"reminder": {"channels": ["email"]}})
    subscribe(as_alice, push_service, "phone")
    assert route(as_alice) == {"channel": "email", "reason": "push_ok"}
    run(app, due_instant(app, confirmed.id) + timedelta(minutes=1))
    assert push_service.messages == []
    assert len(mailbox.wait_for(confirmed.email)) == 1


def test_email_alone_chosen_but_unconfirmed_still_reaches_the_phone(
    app, as_alice, alice, push_service
):
    remind_at(app, as_alice, 0, "18:00")
    as_alice.patch("/me", {"reminder": {"channels": ["email"]}})
    subscribe(as_alice, push_service, "phone")
    assert route(as_alice) == {"channel": "push", "reason": "push_ok"}
    run(app, due_instant(app, alice.id) + timedelta(minutes=1))
    assert len(push_service.to("phone")) == 1


def test_reminders_off_say_so(app, as_alice, confirmed):
    assert route(as_alice) == {"channel": "none", "reason": "off"}
    assert "Reminders are off." in text(Browser(as_alice.client).get("/settings"))


@pytest.mark.parametrize(
    "channels", [[], ["sms"], ["push", "push", "email"], "email", [None], ["push", 1]]
)
def test_bad_channel_choices_are_422_and_change_nothing(as_alice, channels):
    response = as_alice.patch("/me", {"reminder": {"channels": channels}})
    assert response.status_code == 422
    assert any(f.startswith("reminder.channels") for f in response.get_json()["error"]["fields"])
    assert as_alice.get("/me").get_json()["reminder"]["channels"] == ["push"]


def settings_form(weekday: int, time: str, channels: list[str], name: str = "Alice") -> MultiDict:
    """The Settings form as a person fills it in: reminders on, at `weekday` and `time`, by
    the ticked `channels`."""
    form = MultiDict({"display_name": name, "timezone": "America/Toronto"})
    form.update({"reminder.enabled": "on", "reminder.weekday": str(weekday)})
    form["reminder.time"] = time
    form.setlist("reminder.channels", channels)
    return form


def test_the_settings_tiles_choose_the_channels(app, as_alice, confirmed):
    browser = Browser(as_alice.client)
    page = browser.get("/settings").get_data(as_text=True)
    assert 'name="reminder.channels" value="push" checked' in page
    assert "Notifications on this phone" in page and "E-mail" in page
    data = settings_form(2, "07:30", ["push", "email"])
    data["csrf_token"] = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert as_alice.client.post("/settings", data=data).status_code == 302
    assert as_alice.get("/me").get_json()["reminder"]["channels"] == ["push", "email"]
    settings = text(browser.get("/settings"))
    assert "so we will e-mail you on Wednesday at 7:30" in settings


def test_the_after_rating_nudge_comes_by_email_without_a_device(app, as_alice, confirmed, mailbox):
    as_alice.patch("/me", {"reminder": {"enabled": True}})
    started = datetime.now(UTC) - timedelta(minutes=30)
    session = as_alice.post("/sessions", session_body(started_at=iso(started))).get_json()
    for hours in (3.1, 3.2, 5):
        run(app, started + timedelta(hours=hours))
    [mail] = mailbox.wait_for(confirmed.email)
    assert mail["Subject"] == "How do you feel after your massage?"
    assert f"/sessions/{session['id']}#after" in mail.get_body(("plain",)).get_content()
    assert rows(app) == [("after_nudge", "email", "sent")]


def test_a_caregivers_missed_week_alert_follows_the_caregivers_own_channels(
    app, as_alice, as_bob, alice, bob, mailbox, push_service
):
    share_with(as_alice, as_bob, ["alerts"])
    confirm_address(app, bob.id)
    subscribe(as_alice, push_service, "alice-phone")  # the patient's phone: not bob's road
    with app.app_context():
        db.session.query(CareShare).update({"created_at": datetime(2026, 11, 1, tzinfo=UTC)})
        db.session.commit()
    monday_9am = datetime(2026, 11, 16, 14, tzinfo=UTC)
    for minutes in (1, 5, 90):
        run(app, monday_9am + timedelta(minutes=minutes))
    [mail] = mailbox.wait_for(bob.email)
    assert mail["Subject"] == "Alice has no session recorded for last week."
    plain = mail.get_body(("plain",)).get_content()
    assert f"{app.config['PUBLIC_URL']}/care/{alice.id}" in plain
    assert push_service.messages == []
    assert rows(app) == [("caregiver_missed_week", "email", "sent")]
