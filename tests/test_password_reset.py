"""Forgotten passwords: a mailed one-time link, valid an hour, that dies when used, when the
password changes or when a newer one is asked for; the same answer for any address; and a
reset that ends every other login, lifts the lockout and logs the person in."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from types import SimpleNamespace
from urllib.parse import urlsplit

import itsdangerous.timed
import pytest

from pnapp.extensions import db
from pnapp.models import LOCK_AFTER, User
from tests.conftest import PASSWORD, Api
from tests.smtpserver import link_in
from tests.test_pages import Browser, text

NEW_PASSWORD = "a brand new password"


def ask(api: Api, email: str):
    response = api.post("/auth/password-reset", {"email": email})
    assert response.status_code == 202, response.get_json()
    return response


def reset_link(app, mailbox, email: str, count: int = 1) -> str:
    mail = mailbox.wait_for(email, count)[count - 1]
    assert mail["Subject"] == "Set a new password for pnapp"
    return link_in(mail, f"{app.config['PUBLIC_URL']}/password-reset/")


def token_of(link: str) -> str:
    return link.rsplit("/", 1)[-1]


def confirm(api: Api, link: str, password: str = NEW_PASSWORD):
    return api.post(
        "/auth/password-reset/confirm", {"token": token_of(link), "new_password": password}
    )


def can_log_in(app, email: str, password: str) -> bool:
    api = Api(app.test_client())
    return api.post("/auth/login", {"email": email, "password": password}).status_code == 200


def test_a_reset_link_sets_a_new_password_once_and_logs_in(app, alice, anon, mailbox):
    ask(anon, "  Alice@Example.com ")
    link = reset_link(app, mailbox, alice.email)
    reader = Api(app.test_client())  # the phone the mail was opened on
    response = confirm(reader, link)
    assert response.status_code == 200
    assert response.get_json()["user"]["email"] == alice.email
    assert reader.get("/me").status_code == 200  # logged in
    assert can_log_in(app, alice.email, NEW_PASSWORD)
    assert not can_log_in(app, alice.email, PASSWORD)

    again = confirm(Api(app.test_client()), link, "yet another password")
    assert again.status_code == 410
    assert again.get_json()["error"]["code"] == "gone"
    assert can_log_in(app, alice.email, NEW_PASSWORD)


def test_a_reset_ends_every_other_login(app, alice, as_alice, anon, mailbox):
    assert as_alice.get("/me").status_code == 200
    ask(anon, alice.email)
    response = confirm(Api(app.test_client()), reset_link(app, mailbox, alice.email))
    assert response.status_code == 200
    assert as_alice.get("/me").status_code == 401  # the login from before is over


def test_a_reset_link_expires_after_an_hour(app, alice, anon, mailbox, monkeypatch):
    ask(anon, alice.email)
    link = reset_link(app, mailbox, alice.email)
    later = datetime.now(UTC).timestamp() + 61 * 60
    monkeypatch.setattr(itsdangerous.timed, "time", SimpleNamespace(time=lambda: later))
    assert confirm(anon, link).status_code == 410
    monkeypatch.undo()
    assert confirm(anon, link).status_code == 200  # within the hour it still worked


def test_a_newer_request_makes_the_older_link_useless(app, alice, anon, mailbox):
    ask(anon, alice.email)
    first = reset_link(app, mailbox, alice.email)
    time.sleep(0.01)
    ask(anon, alice.email)
    second = reset_link(app, mailbox, alice.email, count=2)
    assert first != second
    assert confirm(anon, first).status_code == 410
    assert confirm(anon, second).status_code == 200


def test_changing_the_password_kills_the_link(app, alice, as_alice, anon, mailbox):
    ask(anon, alice.email)
    link = reset_link(app, mailbox, alice.email)
    changed = as_alice.post(
        "/auth/password", {"current_password": PASSWORD, "new_password": "changed it myself"}
    )
    assert changed.status_code == 204
    assert confirm(anon, link).status_code == 410
    assert can_log_in(app, alice.email, "changed it myself")


def test_any_address_gets_the_same_answer_and_only_an_account_gets_mail(app, alice, mailbox):
    known = Api(app.test_client()).post("/auth/password-reset", {"email": alice.email})
    unknown = Api(app.test_client()).post("/auth/password-reset", {"email": "nobody@example.com"})
    assert (known.status_code, known.get_data()) == (unknown.status_code, unknown.get_data())
    assert known.status_code == 202
    mailbox.wait_for(alice.email)
    assert mailbox.to("nobody@example.com") == []

    # The page too: the same status and the same page, byte for byte.
    pages = []
    for email in (alice.email, "nobody@example.com"):
        pages.append(Browser(app.test_client()).submit("/password-reset", {"email": email}))
    assert pages[0].status_code == pages[1].status_code == 200
    assert pages[0].get_data() == pages[1].get_data()
    assert "If an account uses that address, we have sent a link to it." in text(pages[0])


def test_a_reset_lifts_the_password_lockout(app, alice, anon, mailbox):
    for _ in range(LOCK_AFTER):
        anon.post("/auth/login", {"email": alice.email, "password": "not the password"})
    locked = anon.post("/auth/login", {"email": alice.email, "password": PASSWORD})
    assert locked.status_code == 429
    ask(anon, alice.email)
    assert confirm(anon, reset_link(app, mailbox, alice.email)).status_code == 200
    assert can_log_in(app, alice.email, NEW_PASSWORD)
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user.failed_logins == 0 and user.locked_until is None


def test_an_unconfirmed_address_may_get_a_reset_and_using_it_confirms_the_address(
    app, alice, anon, mailbox
):
    assert anon.post("/auth/login", {"email": alice.email, "password": PASSWORD}).status_code
    assert anon.get("/me").get_json()["email_verified"] is False
    ask(anon, alice.email)
    response = confirm(anon, reset_link(app, mailbox, alice.email))
    assert response.get_json()["user"]["email_verified"] is True


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"token": "nonsense", "new_password": NEW_PASSWORD}, 404),
        ({"token": "a.b.c", "new_password": NEW_PASSWORD}, 404),
        ({"token": "x", "new_password": "short"}, 422),
        ({"new_password": NEW_PASSWORD}, 422),
        ({"token": "x", "new_password": NEW_PASSWORD, "extra": 1}, 422),
    ],
)
def test_bad_confirmations_are_clear_4xx_and_change_nothing(app, alice, anon, body, status):
    response = anon.post("/auth/password-reset/confirm", body)
    assert response.status_code == status
    assert response.get_json()["error"]["status"] == status
    assert can_log_in(app, alice.email, PASSWORD)


def test_a_reset_link_of_a_deleted_account_is_404(app, alice, as_alice, anon, mailbox):
    ask(anon, alice.email)
    link = reset_link(app, mailbox, alice.email)
    assert as_alice.delete("/me", {"password": PASSWORD}).status_code == 204
    assert confirm(anon, link).status_code == 404


def test_requests_are_limited_per_address(limited_app, alice):
    def ask_from(ip: str, email: str) -> int:
        client = Api(limited_app.test_client())
        response = client.post(
            "/auth/password-reset", {"email": email}, environ_base={"REMOTE_ADDR": ip}
        )
        return response.status_code

    # From three different places: the address is what counts.
    codes = [ask_from(f"10.0.0.{i}", alice.email) for i in range(4)]
    assert codes == [202, 202, 202, 429]
    assert ask_from("10.0.0.9", "Alice@Example.com") == 429  # the same address, spelled otherwise
    assert ask_from("10.0.0.9", "someone.else@example.com") == 202


def test_requests_are_limited_per_ip(limited_app):
    client = Api(limited_app.test_client())
    codes = [
        client.post("/auth/password-reset", {"email": f"p{i}@example.com"}).status_code
        for i in range(11)
    ]
    assert codes[:10] == [202] * 10 and codes[10] == 429
    assert int(
        client.post("/auth/password-reset", {"email": "q@example.com"}).headers["Retry-After"]
    )


def test_the_pages_from_forgot_password_to_logged_in(app, alice, mailbox):
    browser = Browser(app.test_client())
    login = browser.get("/login").get_data(as_text=True)
    assert 'href="/password-reset"' in login and "Forgot your password?" in login
    sent = browser.submit("/password-reset", {"email": alice.email})
    assert sent.status_code == 200
    path = urlsplit(reset_link(app, mailbox, alice.email)).path

    form = browser.get(path)
    assert form.status_code == 200 and "Set a new password" in text(form)
    short = browser.submit(path, {"new_password": "short"}, follow=False)
    assert short.status_code == 422
    done = browser.submit(path, {"new_password": NEW_PASSWORD}, follow=False)
    assert done.status_code == 302 and done.headers["Location"] == "/"
    home = browser.get("/")
    assert "Your new password is set." in text(home)
    assert f'data-user="{alice.id}"' in home.get_data(as_text=True)

    dead = Browser(app.test_client()).get(path)
    assert dead.status_code == 410 and "Ask for a new link" in text(dead)
