"""A patient invites a caregiver through the share sheet, the caregiver records a session
for her, and she ends the share: on two phones."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.test_record_session import log_in, tap_rating
from tests.conftest import Api, make_user
from tests.helpers import iso, session_body


@pytest.fixture
def second_phone(browser, live_server):
    context = browser.new_context(
        base_url=live_server,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        timezone_id="America/Toronto",
    )
    yield context.new_page()
    context.close()


def test_alice_invites_bob_by_qr_link_and_ends_it(
    phone, second_phone, app, live_server, monkeypatch
):
    # Invitation links are made on PUBLIC_URL; here that is the live server.
    monkeypatch.setitem(app.config, "PUBLIC_URL", live_server)
    alice = make_user(app, "alice@example.com", "patient", name="Alice")
    api = Api(app.test_client()).login(alice.email)
    now = datetime.now(UTC)
    for weeks_ago in (1, 2, 3):
        api.post(
            "/sessions",
            session_body(
                started_at=iso(now - timedelta(weeks=weeks_ago)),
                notes="only for me",
                after={"pain": 2, "stress": 2},
            ),
        )
    make_user(app, "bob@example.com", "caregiver", name="Bob")

    # Alice's phone has a share sheet: record what it is handed.
    phone.add_init_script(
        "navigator.share = (data) => { window.sharedWith = data; return Promise.resolve(); };"
    )
    # Alice, on her phone, makes an invitation with the default scopes.
    log_in(phone, alice.email)
    phone.goto("/share")
    expect(phone.get_by_label("Weeks kept and relief")).to_be_checked()
    expect(phone.get_by_label("My notes")).not_to_be_checked()
    phone.get_by_label("Let them record sessions for me").check()
    phone.get_by_role("button", name="Make an invitation link").tap()
    qr = phone.locator(".qr svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box["width"] >= 150  # big enough to scan across a table
    link = phone.get_by_role("textbox", name="Link").input_value()
    assert re.fullmatch(rf"{re.escape(live_server)}/invite/[\w-]{{40,}}", link)
    # The form gives way to the link until she asks for another.
    expect(phone.get_by_role("button", name="Make an invitation link")).to_have_count(0)
    expect(phone.get_by_role("link", name="Make another invitation link")).to_be_visible()
    phone.get_by_role("button", name="Share…").tap()
    assert phone.evaluate("window.sharedWith.url") == link

    # Bob scans it on his own phone, logs in from the invitation and accepts.
    bob = second_phone
    bob.goto(link)
    expect(bob.get_by_role("heading", level=1)).to_have_text("Alice invites you")
    expect(bob.get_by_text("Alice would like you to see:")).to_be_visible()
    bob.get_by_role("link", name="I have an account: log in").tap()
    bob.get_by_label("E-mail").fill("bob@example.com")
    bob.get_by_label("Password").fill("correct horse battery")
    bob.get_by_role("button", name="Log in").tap()
    bob.get_by_role("button", name="Accept").tap()
    expect(bob.get_by_role("heading", level=1)).to_have_text("Alice")
    expect(bob.get_by_role("heading", name="Weeks kept")).to_be_visible()
    expect(bob.locator(".calendar li.kept")).to_have_count(3)
    expect(bob.get_by_text("only for me")).to_have_count(0)

    # Bob records today's session for Alice as she tells him her ratings.
    bob.get_by_role("link", name="Record a session for Alice").tap()
    for form, pain, stress in (("before", 6, 5), ("after", 3, 2)):
        tap_rating(bob, form, "pain", pain)
        tap_rating(bob, form, "stress", stress)
    bob.get_by_role("button", name="Save").tap()
    expect(bob.get_by_text("Saved for Alice.")).to_be_visible()
    phone.goto("/history")
    expect(phone.get_by_text("entered by Bob")).to_have_count(1)

    # Alice sees that Bob looked.
    phone.goto("/share")
    expect(phone.get_by_text("Last looked:")).to_be_visible()
    # Alice ends the share, after being told what that does; Bob is told, and sees nothing.
    phone.get_by_role("link", name="End sharing with Bob").tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Stop sharing with Bob?")
    phone.get_by_role("button", name="Yes, end sharing").tap()
    expect(phone.get_by_text("Sharing with Bob has ended.")).to_be_visible()
    bob.reload()
    expect(
        bob.get_by_text(re.compile(r"Alice stopped sharing on \w+ \d+, \d{4}\."))
    ).to_be_visible()
    expect(bob.get_by_text("Weeks kept")).to_have_count(0)
    bob.goto("/care")
    expect(bob.get_by_role("link", name="Alice")).to_have_count(0)
    expect(bob.get_by_text("Alice stopped sharing on")).to_be_visible()
