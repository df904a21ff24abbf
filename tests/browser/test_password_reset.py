"""A patient who forgot her password gets back in from her phone: the link on the login
page, her address, the mailed link, a new password, and she is home, logged in."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.conftest import make_user
from tests.smtpserver import link_in


def test_forgot_password_from_the_login_page_to_logged_in(
    phone, app, live_server, mailbox, monkeypatch
):
    # Links in mail are made on PUBLIC_URL; here that is the live server.
    monkeypatch.setitem(app.config, "PUBLIC_URL", live_server)
    alice = make_user(app, "alice@example.com", "patient", name="Alice")

    phone.goto("/login")
    phone.get_by_role("link", name="Forgot your password?").tap()
    expect(phone).to_have_url(f"{live_server}/password-reset")
    phone.get_by_label("E-mail").fill("alice@example.com")
    phone.get_by_role("button", name="Send me a link").tap()
    expect(phone.get_by_role("status").last).to_contain_text(
        "If an account uses that address, we have sent a link to it."
    )

    [mail] = mailbox.wait_for(alice.email)
    phone.goto(link_in(mail, f"{live_server}/password-reset/"))
    field = phone.get_by_label("New password (at least 10 characters)")
    assert field.bounding_box()["height"] >= 48
    field.fill("a brand new password")
    button = phone.get_by_role("button", name="Set my new password")
    assert button.bounding_box()["height"] >= 48
    button.tap()

    expect(phone).to_have_url(f"{live_server}/")
    expect(phone.locator("#status")).to_contain_text("Your new password is set.")
    expect(phone.get_by_text("Menu", exact=True)).to_be_visible()  # logged in
    assert phone.locator("body").get_attribute("data-user") == str(alice.id)
