"""Passkeys in Debian's Chromium, with the DevTools protocol's virtual authenticator standing
in for a phone's face or fingerprint unlock: make one after sign-up, log out, sign in with
it, remove it; another account cannot use it; an answer sent twice is refused.

Served as http://localhost:PORT: Chromium refuses a relying party id of 127.0.0.1.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from pnapp.extensions import db
from pnapp.models import Login, Passkey
from tests.conftest import PASSWORD, make_user

# An internal (platform) authenticator that keeps discoverable credentials and verifies the
# person, as a phone does (RECIPES.md).
AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}

# What passkeys.js does, step by step, so a test can keep or change the browser's answer.
ASSERT = """async () => {
  const token = (await (await fetch('/api/v1/auth/csrf')).json()).csrf_token;
  const post = (path, body) => fetch('/api/v1' + path, {method: 'POST',
    headers: {'Content-Type': 'application/json', 'X-CSRFToken': token},
    body: body ? JSON.stringify(body) : undefined});
  const options = await (await post('/auth/passkey-login/options')).json();
  const cred = await navigator.credentials.get(
    {publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options)});
  return cred.toJSON();
}"""
SEND = """async (credential) => {
  const token = (await (await fetch('/api/v1/auth/csrf')).json()).csrf_token;
  const r = await fetch('/api/v1/auth/passkey-login', {method: 'POST',
    headers: {'Content-Type': 'application/json', 'X-CSRFToken': token},
    body: JSON.stringify({credential})});
  return {status: r.status, body: await r.json()};
}"""


@pytest.fixture
def origin(app, live_server, monkeypatch):
    """The site as the browser sees it, and PUBLIC_URL (the relying party) with it."""
    url = live_server.replace("127.0.0.1", "localhost")
    monkeypatch.setitem(app.config, "PUBLIC_URL", url)
    return url


# The virtual authenticator answers a conditional request (the e-mail field's suggestion) at
# once, as if the person had picked the passkey: a phone without it taps the button.
NO_SUGGESTION = "delete PublicKeyCredential.isConditionalMediationAvailable;"


class Phone:
    """A phone-sized page with a virtual authenticator."""

    def __init__(self, browser, origin, suggestion=False):
        self.context = browser.new_context(
            base_url=origin,
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
            timezone_id="America/Toronto",
            locale="en-CA",
        )
        if not suggestion:
            self.context.add_init_script(NO_SUGGESTION)
        self.page = self.context.new_page()
        self.cdp = self.context.new_cdp_session(self.page)
        self.cdp.send("WebAuthn.enable", {"enableUI": False})
        self.authenticator = self.cdp.send(
            "WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR}
        )["authenticatorId"]

    def credentials(self) -> list[dict]:
        return self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator})[
            "credentials"
        ]

    def log_in_with_password(self, email: str) -> None:
        page = self.page
        page.goto("/login")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in", exact=True).tap()
        expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Hello"))

    def with_passkey(self, email: str) -> Phone:
        """Logged in with the password, a passkey made in Settings."""
        self.log_in_with_password(email)
        self.make_passkey_in_settings()
        return self

    def make_passkey_in_settings(self) -> None:
        page = self.page
        page.goto("/settings#passkeys")
        page.get_by_role("button", name="Use a passkey on this device").tap()
        expect(page.get_by_role("status")).to_contain_text("Your passkey is saved.")

    def log_out(self) -> None:
        page = self.page
        page.goto("/settings")
        page.locator("form.logout").get_by_role("button", name="Log out").tap()
        expect(page).to_have_url(re.compile(r"/login"))


@pytest.fixture
def phones(browser, origin):
    made = []

    def new(**kwargs) -> Phone:
        made.append(Phone(browser, origin, **kwargs))
        return made[-1]

    yield new
    for phone in made:
        phone.context.close()


def test_sign_up_make_a_passkey_log_out_sign_in_with_it_and_remove_it(app, origin, phones):
    phone = phones()
    page = phone.page
    page.goto("/register")
    page.get_by_label("Your first name").fill("Marjorie")
    page.get_by_label("E-mail").fill("marjorie@example.com")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Create my account").tap()

    # Right after sign-up: "Use a passkey next time".
    expect(page.get_by_role("heading", level=1)).to_have_text("Use a passkey next time")
    make = page.get_by_role("button", name="Make a passkey")
    expect(make).to_be_visible()
    assert make.bounding_box()["height"] >= 48
    make.tap()
    # Then on to setting up reminders, as after any patient's sign-up.
    expect(page).to_have_url(f"{origin}/reminders/setup")
    [stored] = phone.credentials()
    assert stored["isResidentCredential"] and stored["rpId"] == "localhost"

    page.goto("/settings#passkeys")
    passkeys = page.get_by_role("region", name="Passkeys")
    expect(passkeys.get_by_text("Linux")).to_be_visible()  # named after the device
    expect(passkeys.get_by_text("Not used yet")).to_be_visible()

    phone.log_out()
    sign_in = page.get_by_role("button", name="Sign in with a passkey")
    expect(sign_in).to_be_visible()
    sign_in.tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Marjorie")
    with app.app_context():
        [login] = db.session.query(Login).all()
        assert login.method == "passkey"
        [passkey] = db.session.query(Passkey).all()
        assert passkey.sign_count >= 1 and passkey.last_used_at is not None

    # The list of logins says how this device signed in.
    page.goto("/settings#logins")
    logins = page.get_by_role("region", name="Where you are logged in")
    expect(logins).to_contain_text("Signed in with a passkey")

    # Rename, then remove: the last one asks for the password.
    page.get_by_role("region", name="Passkeys").get_by_role("link", name="Rename or remove").tap()
    page.get_by_label("Name (which phone or computer it is on)").fill("My phone")
    page.get_by_role("button", name="Save the name").tap()
    expect(page.get_by_role("region", name="Passkeys")).to_contain_text("My phone")
    page.get_by_role("region", name="Passkeys").get_by_role("link", name="Rename or remove").tap()
    page.get_by_role("button", name="Remove this passkey").tap()
    expect(page.locator("#password-error")).to_contain_text("Enter your password")
    page.get_by_label("It is your last passkey. Your password, to confirm").fill(
        "a long enough password"
    )
    page.get_by_role("button", name="Remove this passkey").tap()
    expect(page.get_by_role("status").first).to_contain_text("The passkey is removed.")
    expect(page.get_by_role("region", name="Passkeys")).to_contain_text("You have no passkey yet.")

    # The phone still holds the credential, but it signs nobody in any more.
    phone.log_out()
    page.get_by_role("button", name="Sign in with a passkey").tap()
    expect(page.get_by_role("status")).to_contain_text("That passkey did not work here.")
    expect(page).to_have_url(re.compile(r"/login"))


def test_another_account_cannot_use_the_credential(app, origin, phones):
    alice = make_user(app, "alice@example.com", name="Alice")
    bob = make_user(app, "bob@example.com", name="Bob")
    alices_phone = phones().with_passkey(alice.email)
    phones().with_passkey(bob.email)
    with app.app_context():
        handles = {p.user_id: p.user_handle for p in db.session.query(Passkey)}
    assert handles[alice.id] != handles[bob.id]
    alices_phone.log_out()

    # Alice's answer, relabelled with Bob's user handle: the signature still checks, but
    # the credential is Alice's, so it proves nobody.
    from webauthn.helpers import bytes_to_base64url

    answer = alices_phone.page.evaluate(ASSERT)
    answer["response"]["userHandle"] = bytes_to_base64url(handles[bob.id])
    refused = alices_phone.page.evaluate(SEND, answer)
    assert refused["status"] == 401
    assert refused["body"]["error"]["message"].startswith("That passkey did not work here.")

    # Untouched, it signs in Alice, never Bob.
    signed_in = alices_phone.page.evaluate(SEND, alices_phone.page.evaluate(ASSERT))
    assert signed_in["status"] == 200 and signed_in["body"]["user"]["id"] == alice.id


def test_a_replayed_assertion_is_refused(app, origin, phones):
    alice = make_user(app, "alice@example.com", name="Alice")
    phone = phones().with_passkey(alice.email)
    phone.log_out()

    answer = phone.page.evaluate(ASSERT)
    first = phone.page.evaluate(SEND, answer)
    assert first["status"] == 200
    phone.log_out()
    again = phone.page.evaluate(SEND, answer)  # the same answer, sent once more
    assert again["status"] == 401
    with app.app_context():
        assert db.session.query(Login).count() == 0  # nobody signed in by it


def test_the_browser_suggests_the_passkey_in_the_e_mail_field(app, origin, phones):
    """Conditional mediation: the log-in page asks quietly, and the browser offers the
    passkey where the address goes; picking it signs in without a tap on the button."""
    alice = make_user(app, "alice@example.com", name="Alice")
    phone = phones(suggestion=True).with_passkey(alice.email)
    page = phone.page
    page.goto("/settings")
    page.locator("form.logout").get_by_role("button", name="Log out").tap()
    # The virtual authenticator picks the suggested passkey at once.
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alice")
    with app.app_context():
        assert [login.method for login in db.session.query(Login)] == ["passkey"]


def test_no_user_verification_no_sign_in(app, origin, phones):
    """The phone did not check the person's face, fingerprint or PIN: no sign-in."""
    alice = make_user(app, "alice@example.com", name="Alice")
    phone = phones().with_passkey(alice.email)
    phone.log_out()
    phone.cdp.send(
        "WebAuthn.setUserVerified",
        {"authenticatorId": phone.authenticator, "isUserVerified": False},
    )
    page = phone.page
    page.get_by_role("button", name="Sign in with a passkey").tap()
    expect(page.get_by_role("status")).to_contain_text("No passkey was used.")
    expect(page).to_have_url(re.compile(r"/login"))
    # The password still works: nobody is stuck.
    phone.log_in_with_password(alice.email)
