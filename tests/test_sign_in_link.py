"""Signing in by e-mail: a one-time link, valid 15 minutes, mailed only to a confirmed
address, with the same answer for any address; it ends in the same server-side login as a
password, noted as an e-mailed link, and logging out ends it like any other."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from types import SimpleNamespace
from urllib.parse import urlsplit

import itsdangerous.timed
import pytest

from pnapp.extensions import db
from pnapp.models import User
from tests.conftest import PASSWORD, Api, confirm_address
from tests.smtpserver import link_in
from tests.test_pages import Browser, text

SUBJECT = "Your link to sign in to pnapp"


def ask(api: Api, email: str):
    response = api.post("/auth/sign-in-link", {"email": email})
    assert response.status_code == 202, response.get_json()
    return response


def sign_in_link(app, mailbox, email: str, count: int = 1) -> str:
    mail = mailbox.wait_for(email, count)[count - 1]
    assert mail["Subject"] == SUBJECT
    return link_in(mail, f"{app.config['PUBLIC_URL']}/sign-in/")


def use(api: Api, link: str):
    return api.post("/auth/sign-in-link/confirm", {"token": link.rsplit("/", 1)[-1]})


@pytest.fixture
def confirmed_alice(app, alice):
    confirm_address(app, alice.id)
    return alice


def test_a_link_signs_in_once_as_an_e_mailed_link_login(app, confirmed_alice, anon, mailbox):
    ask(anon, "  Alice@Example.com ")
    link = sign_in_link(app, mailbox, confirmed_alice.email)
    phone = Api(app.test_client())
    response = use(phone, link)
    assert response.status_code == 200
    assert response.get_json()["user"]["email"] == confirmed_alice.email
    [login] = phone.get("/auth/logins").get_json()["items"]
    assert login["current"] and login["method"] == "email_link"

    again = use(Api(app.test_client()), link)
    assert again.status_code == 410
    assert again.get_json()["error"]["code"] == "gone"

    # The same login as a password's: logging out ends it on the server.
    assert phone.post("/auth/logout").status_code == 204
    assert phone.get("/me").status_code == 401


def test_log_out_everywhere_ends_a_link_login_too(app, confirmed_alice, as_alice, anon, mailbox):
    ask(anon, confirmed_alice.email)
    phone = Api(app.test_client())
    assert use(phone, sign_in_link(app, mailbox, confirmed_alice.email)).status_code == 200
    methods = sorted(x["method"] for x in as_alice.get("/auth/logins").get_json()["items"])
    assert methods == ["email_link", "password"]
    assert as_alice.post("/auth/logout-everywhere").status_code == 204
    assert phone.get("/me").status_code == 401


def test_a_link_expires_after_15_minutes(app, confirmed_alice, anon, mailbox, monkeypatch):
    ask(anon, confirmed_alice.email)
    link = sign_in_link(app, mailbox, confirmed_alice.email)
    later = datetime.now(UTC).timestamp() + 16 * 60
    monkeypatch.setattr(itsdangerous.timed, "time", SimpleNamespace(time=lambda: later))
    assert use(anon, link).status_code == 410
    monkeypatch.undo()
    assert use(anon, link).status_code == 200  # within the 15 minutes it still worked


def test_a_newer_link_makes_the_older_one_useless(app, confirmed_alice, anon, mailbox):
    ask(anon, confirmed_alice.email)
    first = sign_in_link(app, mailbox, confirmed_alice.email)
    time.sleep(0.01)
    ask(anon, confirmed_alice.email)
    second = sign_in_link(app, mailbox, confirmed_alice.email, count=2)
    assert first != second
    assert use(anon, first).status_code == 410
    assert use(anon, second).status_code == 200


def test_the_same_answer_for_any_address_and_mail_only_to_a_confirmed_one(
    app, confirmed_alice, bob, mailbox
):
    """bob's address is not confirmed: it gets no link (a link that signs in must go where
    its owner has proved they read mail), and nobody can tell from the answer."""
    answers = [
        Api(app.test_client()).post("/auth/sign-in-link", {"email": email})
        for email in (confirmed_alice.email, bob.email, "nobody@example.com")
    ]
    assert {(r.status_code, r.get_data()) for r in answers} == {(202, answers[0].get_data())}
    mailbox.wait_for(confirmed_alice.email)
    assert mailbox.to(bob.email) == []
    assert mailbox.to("nobody@example.com") == []

    pages = [
        Browser(app.test_client()).submit("/sign-in-link", {"email": email})
        for email in (confirmed_alice.email, bob.email, "nobody@example.com")
    ]
    assert {p.status_code for p in pages} == {200}
    assert pages[0].get_data() == pages[1].get_data() == pages[2].get_data()
    assert "we have sent a sign-in link to it" in text(pages[0])


def test_a_link_dies_when_the_address_stops_being_confirmed(app, confirmed_alice, anon, mailbox):
    ask(anon, confirmed_alice.email)
    link = sign_in_link(app, mailbox, confirmed_alice.email)
    with app.app_context():
        db.session.get(User, confirmed_alice.id).email_bounced_at = datetime.now(UTC)
        db.session.commit()
    assert use(anon, link).status_code == 410
    assert anon.get("/me").status_code == 401


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"token": "nonsense"}, 404),
        ({"token": "a.b.c"}, 404),
        ({"token": ""}, 422),
        ({}, 422),
        ({"token": "x", "extra": 1}, 422),
    ],
)
def test_bad_links_are_clear_4xx_and_sign_nobody_in(app, anon, body, status):
    response = anon.post("/auth/sign-in-link/confirm", body)
    assert response.status_code == status
    assert response.get_json()["error"]["status"] == status
    assert anon.get("/me").status_code == 401


def test_a_password_reset_link_does_not_sign_in(app, confirmed_alice, anon, mailbox):
    anon.post("/auth/password-reset", {"email": confirmed_alice.email})
    mail = mailbox.wait_for(confirmed_alice.email)[0]
    reset = link_in(mail, f"{app.config['PUBLIC_URL']}/password-reset/")
    assert use(anon, reset).status_code == 404
    assert anon.get("/me").status_code == 401


def test_requests_are_limited_per_address_and_per_ip(limited_app, app, confirmed_alice):
    def ask_from(ip: str, email: str) -> int:
        client = Api(limited_app.test_client())
        response = client.post(
            "/auth/sign-in-link", {"email": email}, environ_base={"REMOTE_ADDR": ip}
        )
        return response.status_code

    codes = [ask_from(f"10.0.0.{i}", confirmed_alice.email) for i in range(4)]
    assert codes == [202, 202, 202, 429]
    assert ask_from("10.0.0.9", "ALICE@example.com") == 429
    client = Api(limited_app.test_client())
    codes = [
        client.post("/auth/sign-in-link", {"email": f"p{i}@example.com"}).status_code
        for i in range(11)
    ]
    assert codes[:10] == [202] * 10 and codes[10] == 429
    # The page counts with the API.
    page = Browser(limited_app.test_client()).submit("/sign-in-link", {"email": "p0@example.com"})
    assert page.status_code == 429


def test_the_pages_from_log_in_to_signed_in(app, confirmed_alice, mailbox):
    browser = Browser(app.test_client())
    login = browser.get("/login").get_data(as_text=True)
    assert 'href="/sign-in-link"' in login and "E-mail me a sign-in link" in login
    assert 'autocomplete="username webauthn"' in login
    assert browser.submit("/sign-in-link", {"email": "not an address"}).status_code == 422
    assert browser.submit("/sign-in-link", {"email": confirmed_alice.email}).status_code == 200
    path = urlsplit(sign_in_link(app, mailbox, confirmed_alice.email)).path

    # Opening the link (a mail scanner does) signs nobody in and does not use it up.
    page = browser.get(path)
    assert page.status_code == 200 and "Sign me in" in text(page)
    assert browser.get(path).status_code == 200
    done = browser.submit(path, {}, follow=False)
    assert done.status_code == 302 and done.headers["Location"] == "/"
    home = browser.get("/")
    assert f'data-user="{confirmed_alice.id}"' in home.get_data(as_text=True)
    settings = text(browser.get("/settings"))
    assert "Signed in with an e-mailed link" in settings

    dead = Browser(app.test_client()).get(path)
    assert dead.status_code == 410 and "Ask for a new link" in text(dead)


def test_a_password_still_works_and_its_login_says_so(app, confirmed_alice, as_alice):
    [login] = as_alice.get("/auth/logins").get_json()["items"]
    assert login["method"] == "password"
    assert Api(app.test_client()).login(confirmed_alice.email, PASSWORD)
