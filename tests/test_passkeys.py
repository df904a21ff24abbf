"""Passkeys on the server side: the options the browser gets, what a made-up answer gets,
and listing, renaming and removing them (the last one only with the password or a mailed
confirmation). tests/browser/test_passkeys.py makes and uses real ones in Chromium."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from pnapp.extensions import db
from pnapp.models import Passkey
from tests.conftest import PASSWORD, Api
from tests.helpers import add_passkey
from tests.smtpserver import link_in
from tests.test_pages import Browser, text


def names(app, user_id: int) -> list[str]:
    with app.app_context():
        mine = db.session.query(Passkey).filter_by(user_id=user_id).order_by(Passkey.id)
        return [p.name for p in mine]


def test_the_options_ask_for_a_discoverable_user_verifying_passkey(app, alice, as_alice):
    add_passkey(app, alice.id)
    options = as_alice.post("/auth/passkeys/options").get_json()
    assert options["rp"]["id"] == urlsplit(app.config["PUBLIC_URL"]).hostname
    assert options["user"]["name"] == alice.email
    selection = options["authenticatorSelection"]
    assert selection["residentKey"] == "required"
    assert selection["userVerification"] == "required"
    assert len(options["excludeCredentials"]) == 1  # not a second one on the same phone

    sign_in = Api(app.test_client()).post("/auth/passkey-login/options").get_json()
    assert sign_in["userVerification"] == "required"
    assert sign_in.get("allowCredentials", []) == []  # the browser offers what it holds
    assert sign_in["challenge"] != options["challenge"]


@pytest.mark.parametrize(
    "credential",
    [
        {},
        {"id": "x", "rawId": "x", "type": "public-key", "response": {}},
        {
            "id": "x",
            "rawId": "x",
            "response": {
                "clientDataJSON": "!!",
                "authenticatorData": "",
                "signature": "",
                "userHandle": None,
            },
        },
        {"id": 5, "rawId": [], "response": "nope"},
    ],
)
def test_a_made_up_answer_signs_nobody_in(app, alice, anon, credential):
    anon.post("/auth/passkey-login/options")
    response = anon.post("/auth/passkey-login", {"credential": credential})
    assert response.status_code == 401
    assert response.get_json()["error"]["message"].startswith("That passkey did not work")
    assert anon.get("/me").status_code == 401


@pytest.mark.parametrize(
    ("body", "status"),
    [({}, 422), ({"credential": "x"}, 422), ({"credential": {}, "extra": 1}, 422)],
)
def test_bad_bodies_are_clear_4xx(as_alice, body, status):
    assert as_alice.post("/auth/passkey-login", body).status_code == status
    assert as_alice.post("/auth/passkeys", body).status_code == status


def test_a_made_up_new_passkey_is_refused_and_nothing_is_kept(app, alice, as_alice):
    as_alice.post("/auth/passkeys/options")
    response = as_alice.post("/auth/passkeys", {"credential": {"id": "x", "response": {}}})
    assert response.status_code == 422
    assert response.get_json()["error"]["message"] == "The passkey was not saved. Please try again."
    assert names(app, alice.id) == []


def test_list_rename_and_remove(app, alice, as_alice, as_charlie):
    first = add_passkey(app, alice.id, "Phone")
    second = add_passkey(app, alice.id, "Tablet")
    items = as_alice.get("/auth/passkeys").get_json()["items"]
    assert [i["name"] for i in items] == ["Phone", "Tablet"]
    assert set(items[0]) == {"id", "name", "created_at", "last_used_at"}

    assert as_alice.patch(f"/auth/passkeys/{first}", {"name": "My phone"}).status_code == 200
    assert as_alice.patch(f"/auth/passkeys/{first}", {"name": ""}).status_code == 422
    assert as_alice.patch(f"/auth/passkeys/{first}", {"name": "x" * 61}).status_code == 422
    # Someone else's passkey is not there for them.
    assert as_charlie.patch(f"/auth/passkeys/{first}", {"name": "Mine"}).status_code == 404
    assert as_charlie.delete(f"/auth/passkeys/{first}").status_code == 404
    assert as_charlie.get("/auth/passkeys").get_json()["items"] == []

    # Not the last: no password needed. The last: the password.
    assert as_alice.delete(f"/auth/passkeys/{second}").status_code == 204
    refused = as_alice.delete(f"/auth/passkeys/{first}")
    assert refused.status_code == 403
    assert refused.get_json()["error"]["message"].startswith("Enter your password")
    wrong = as_alice.delete(f"/auth/passkeys/{first}", {"password": "not it at all"})
    assert wrong.status_code == 403
    assert names(app, alice.id) == ["My phone"]
    assert as_alice.delete(f"/auth/passkeys/{first}", {"password": PASSWORD}).status_code == 204
    assert names(app, alice.id) == []


def test_the_last_passkey_may_go_with_a_mailed_confirmation(app, alice, mailbox, monkeypatch):
    passkey = add_passkey(app, alice.id, "Phone")
    browser = Browser(app.test_client())
    browser.submit("/login", {"email": alice.email, "password": PASSWORD})
    edit = f"/settings/passkeys/{passkey}"
    page = text(browser.get(edit))
    assert "It is your last passkey." in page and "E-mail me a link to remove it" in page
    without = browser.submit(f"{edit}/remove", {}, follow=False)
    assert without.status_code == 422 and "Enter your password" in text(without)

    # The page's form for the mail: the hidden token from the edit page.
    asked = browser.client.post(
        f"{edit}/remove-by-mail",
        data={"csrf_token": Api(browser.client).csrf_token()},
        follow_redirects=True,
    )
    assert "We sent a link to alice@example.com" in text(asked)
    [mail] = mailbox.wait_for(alice.email)
    assert mail["Subject"] == "Remove your passkey from pnapp"
    path = urlsplit(link_in(mail, f"{app.config['PUBLIC_URL']}/passkeys/remove/")).path

    stranger = Browser(app.test_client())  # the link works on whatever device opens it
    assert stranger.get(path).status_code == 200  # a mail scanner: nothing removed
    assert names(app, alice.id) == ["Phone"]
    done = stranger.submit(path, {})
    assert done.status_code == 200 and "Your passkey is removed" in text(done)
    assert names(app, alice.id) == []
    assert stranger.get(path).status_code == 410  # once only


def test_a_mailed_confirmation_dies_when_the_passkeys_change(app, alice, mailbox):
    passkey = add_passkey(app, alice.id, "Phone")
    browser = Browser(app.test_client())
    browser.submit("/login", {"email": alice.email, "password": PASSWORD})
    browser.client.post(
        f"/settings/passkeys/{passkey}/remove-by-mail",
        data={"csrf_token": Api(browser.client).csrf_token()},
    )
    [mail] = mailbox.wait_for(alice.email)
    path = urlsplit(link_in(mail, f"{app.config['PUBLIC_URL']}/passkeys/remove/")).path
    add_passkey(app, alice.id, "Tablet")
    assert Browser(app.test_client()).get(path).status_code == 410
    assert names(app, alice.id) == ["Phone", "Tablet"]


def test_not_the_last_needs_no_confirmation_by_mail(app, alice, mailbox):
    first = add_passkey(app, alice.id, "Phone")
    add_passkey(app, alice.id, "Tablet")
    browser = Browser(app.test_client())
    browser.submit("/login", {"email": alice.email, "password": PASSWORD})
    page = browser.client.post(
        f"/settings/passkeys/{first}/remove-by-mail",
        data={"csrf_token": Api(browser.client).csrf_token()},
        follow_redirects=True,
    )
    assert "That is not your last passkey" in text(page)
    removed = browser.submit(f"/settings/passkeys/{first}/remove", {})
    assert "The passkey is removed." in text(removed)
    assert names(app, alice.id) == ["Tablet"]
    assert mailbox.to(alice.email) == []
