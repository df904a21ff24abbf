"""Setting reminders up as a new patient would, on a phone-sized Chromium: the two steps right
after sign-up, permission granted or refused, the other roads, and Settings' one statement of
how reminders reach the person. Taps are counted by the test, not estimated."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from pnapp.extensions import db
from pnapp.models import User
from tests.browser.test_push import (
    PUSH_STUB,
    log_in,
    new_phone,
    stub_state,
    subscriptions,
    wait_until,
)
from tests.conftest import PASSWORD


class Taps:
    """Taps a locator and counts it: the measure of how much a tired person must do."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, locator) -> None:
        locator.tap()
        self.count += 1


def sign_up(page: Page, email: str) -> None:
    page.goto("/register")
    page.get_by_label("Your first name").fill("Dana")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").tap()


def user_by_email(app, email: str) -> User:
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == email))
        db.session.expunge(user)
        db.session.remove()
        return user


@pytest.fixture
def granted_phone(browser, live_server, app, push_service, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", live_server)
    subscriber = push_service.subscriber("dana-phone")
    context = new_phone(browser, live_server)
    context.grant_permissions(["notifications"], origin=live_server)
    context.add_init_script(PUSH_STUB % {"sub": json.dumps(subscriber.subscription())})
    try:
        yield context.new_page(), subscriber
    finally:
        context.close()


def test_a_new_patient_turns_reminders_on_within_five_taps_of_signing_up(granted_phone, app):
    page, subscriber = granted_phone
    sign_up(page, "dana@example.com")
    # Straight after sign-up: step 1, with nothing asked of the browser yet.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "When do you usually have your massage?"
    )
    page.wait_for_load_state("networkidle")
    assert stub_state(page)["permissionRequests"] == 0

    tap = Taps()
    tap(page.get_by_text("Wednesday", exact=True))
    tap(page.get_by_text("11:00 AM", exact=True))
    tap(page.get_by_role("button", name="Next"))
    expect(page.get_by_role("heading", level=1)).to_have_text("How should we remind you?")
    expect(page.get_by_text("Reminders are off on this phone.")).to_be_visible()
    tap(page.get_by_role("button", name="Turn on reminders"))

    summary = page.locator("#reminder-summary")
    expect(summary).to_contain_text("Reminders are on: Wednesday at 11:00 AM.")
    expect(summary).to_contain_text("They come by notifications on your phone.")
    expect(page.get_by_role("link", name="Done")).to_be_visible()
    assert tap.count <= 5, tap.count
    dana = user_by_email(app, "dana@example.com")
    assert dana.reminder == {
        "enabled": True,
        "weekday": 2,
        "time": "11:00",
        "channels": ["push"],
    }
    wait_until(lambda: subscriptions(app, dana.id), what="the stored subscription")
    assert subscriptions(app, dana.id) == [subscriber.endpoint]
    # The one permission prompt came from the tap.
    assert stub_state(page)["permissionRequests"] == 1
    page.screenshot(path="test-artifacts/setup-done.png", full_page=True)


def test_the_set_up_can_be_skipped_and_settings_offers_it_again(granted_phone):
    page, _ = granted_phone
    sign_up(page, "dana@example.com")
    page.get_by_role("link", name="Skip for now").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Hello, Dana"))
    page.goto("/settings")
    reminders = page.get_by_role("region", name="Reminders", exact=True)
    expect(reminders.locator("#reminder-summary")).to_contain_text("Reminders are off.")
    reminders.get_by_role("link", name="Set up reminders step by step").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "When do you usually have your massage?"
    )


@pytest.fixture
def denying_phone(browser, live_server, app, alice, push_service):
    """Alice's phone, where the notification prompt is answered "Block" (headless Chromium
    denies every prompt nobody granted)."""
    subscriber = push_service.subscriber("alice-phone")
    context = new_phone(browser, live_server)
    context.add_init_script(PUSH_STUB % {"sub": json.dumps(subscriber.subscription())})
    try:
        page = context.new_page()
        log_in(page, alice.email)
        yield page
    finally:
        context.close()


def test_a_refused_permission_is_explained_beside_the_button_with_e_mail_offered(
    denying_phone, app, alice
):
    page = denying_phone
    with app.app_context():
        db.session.get(User, alice.id).email_verified = True
        db.session.commit()
        db.session.remove()
    page.goto("/reminders/setup")
    page.get_by_role("button", name="Next").tap()
    device = page.get_by_role("region", name="Reminders on this phone")
    device.get_by_role("button", name="Turn on reminders").tap()

    # The reason sits where the button was, with what to do next, in words.
    beside = device.locator(".push-action")
    error = beside.get_by_text("Notifications are blocked for pnapp.")
    expect(error).to_be_visible()
    expect(error).to_contain_text("set Notifications to Allow")
    expect(error).to_have_attribute("role", "alert")
    expect(device.get_by_role("button", name="Turn on reminders")).to_be_hidden()
    expect(page.locator("#reminder-summary")).to_contain_text("Reminders are off.")
    page.screenshot(path="test-artifacts/setup-denied.png", full_page=True)

    # E-mail, in one tap.
    page.get_by_role("button", name="Send my reminders by e-mail").tap()
    expect(page.get_by_role("status")).to_have_text("Reminders are on. They will come by e-mail.")
    expect(page.locator("#reminder-summary")).to_contain_text("They come by e-mail.")
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user.reminder_enabled and user.reminder_channel_list == ["push", "email"]
        assert user.reminder_route == {"channel": "email", "reason": "push_blocked"}
        db.session.remove()


def test_settings_never_says_on_while_no_road_can_carry_a_reminder(denying_phone, app, alice):
    page = denying_phone
    page.goto("/settings")
    reminders = page.get_by_role("region", name="Reminders", exact=True)
    reminders.get_by_label("Remind me when I have not had this week's massage").check()
    reminders.get_by_role("button", name="Save reminder").tap()
    summary = page.locator("#reminder-summary")
    # No phone, no confirmed address: wanted, but not "on".
    expect(summary).to_contain_text("Reminders are not reaching you yet.")
    expect(summary).not_to_contain_text("Reminders are on")
    expect(summary).to_contain_text("No reminder can reach you yet")
    page.screenshot(path="test-artifacts/settings-no-road.png", full_page=True)


NO_PUSH = "delete window.PushManager;"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


@pytest.mark.parametrize(
    ("user_agent", "says"),
    [
        (None, "This browser cannot show reminders."),
        (IPHONE, "On an iPhone or iPad, reminders work once pnapp is on your Home Screen:"),
    ],
)
def test_where_push_is_impossible_the_other_roads_are_offered(
    browser, live_server, alice, user_agent, says
):
    options = {"user_agent": user_agent} if user_agent else {}
    context = new_phone(browser, live_server, **options)
    try:
        context.add_init_script(NO_PUSH)
        page = context.new_page()
        log_in(page, alice.email)
        page.goto("/reminders/setup/how")
        device = page.get_by_role("region", name="Reminders on this phone")
        expect(device.get_by_text(says)).to_be_visible()
        expect(device.get_by_role("button", name="Turn on reminders")).to_be_hidden()
        expect(page.get_by_role("button", name="Send my reminders by e-mail")).to_be_visible()
        expect(page.get_by_role("link", name="Add to my calendar")).to_be_visible()
    finally:
        context.close()
