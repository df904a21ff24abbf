"""E-mail: the verification link a sign-up sends, reminder mail as a person's mail client
shows it, the one-click unsubscribe, and what happens when the mail server is down or
refuses an address. Through a real SMTP server (tests/smtpserver.py)."""

from __future__ import annotations

import email
import email.policy
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import itsdangerous.timed
import pytest

from pnapp import create_app
from pnapp.extensions import db
from pnapp.models import Delivery, User
from pnapp.reminders import send_due_reminders
from pnapp.reminders.instant import wait_idle
from tests.conftest import PASSWORD, Api, confirm_address
from tests.helpers import session_body
from tests.smtpserver import link_in
from tests.test_accounts import NEW
from tests.test_ladder import settings_form
from tests.test_pages import Browser, text
from tests.test_reminders import due_instant, remind_at


def public(app) -> str:
    return app.config["PUBLIC_URL"]


def token_of(link: str) -> str:
    return link.rsplit("/", 1)[-1]


def unsubscribe_path(mail) -> str:
    return urlsplit(mail["List-Unsubscribe"].strip().strip("<>")).path


def run(app, now: datetime):
    # Mail already sent in the background lands first, as it would long before `now`.
    wait_idle(app)
    with app.app_context():
        return send_due_reminders(now)


def user_row(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def deliveries(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [
            (d.kind, d.channel, d.state) for d in db.session.query(Delivery).order_by(Delivery.id)
        ]


@pytest.fixture
def later(monkeypatch):
    """Moves the clock signed links are checked against (itsdangerous) `hours` ahead."""

    def shift(hours: float) -> None:
        moved = datetime.now(UTC).timestamp() + hours * 3600
        monkeypatch.setattr(itsdangerous.timed, "time", SimpleNamespace(time=lambda: moved))

    return shift


# Verification


def test_signing_up_mails_one_link_that_confirms_the_address_once(app, anon, mailbox):
    response = anon.post("/auth/register", NEW)
    assert response.status_code == 201
    assert response.get_json()["user"]["email_verified"] is False
    [mail] = mailbox.wait_for("dana@example.com")
    assert mail["Subject"] == "Confirm your e-mail address for pnapp"
    assert "List-Unsubscribe" not in mail  # not a reminder: nothing to unsubscribe from
    link = link_in(mail, f"{public(app)}/verify-email/")

    # Opened anywhere, logged in or not.
    stranger = Api(app.test_client())
    confirmed = stranger.post("/auth/verify-email", {"token": token_of(link)})
    assert confirmed.status_code == 200
    assert confirmed.get_json()["email_verified"] is True
    assert anon.get("/me").get_json()["email_verified"] is True

    again = stranger.post("/auth/verify-email", {"token": token_of(link)})
    assert again.status_code == 410
    assert again.get_json()["error"]["code"] == "gone"


def test_the_sign_up_page_mails_the_link_and_the_link_page_confirms_with_one_tap(app, mailbox):
    Browser(app.test_client()).submit("/register", NEW)
    [mail] = mailbox.wait_for("dana@example.com")
    path = urlsplit(link_in(mail, f"{public(app)}/verify-email/")).path

    reader = Browser(app.test_client())  # the phone's mail app, not logged in
    page = reader.get(path)
    assert page.status_code == 200 and "Confirm my address" in text(page)
    with app.app_context():  # opening the link (a mail scanner does) confirms nothing
        assert User.by_email("dana@example.com").email_verified is False
    done = reader.submit(path, {})
    assert done.status_code == 200 and "Your address is confirmed" in text(done)
    gone = reader.get(path)
    assert gone.status_code == 410 and "This link no longer works" in text(gone)


def test_an_expired_verification_link_is_gone(app, anon, mailbox, later):
    anon.post("/auth/register", NEW)
    [mail] = mailbox.wait_for("dana@example.com")
    later(49)
    response = Api(app.test_client()).post(
        "/auth/verify-email", {"token": token_of(link_in(mail, public(app)))}
    )
    assert response.status_code == 410
    assert response.get_json()["error"]["code"] == "gone"


@pytest.mark.parametrize("token", ["", "x", "a.b.c", "é" * 40, "A" * 999])
def test_a_link_that_is_not_ours_is_404_and_changes_nothing(app, anon, alice, token):
    body = {"token": token}
    response = anon.post("/auth/verify-email", body)
    assert response.status_code in (404, 422)
    assert user_row(app, alice.id).email_verified is False


def test_a_verification_link_for_a_deleted_account_is_404(app, anon, mailbox):
    anon.post("/auth/register", NEW)
    [mail] = mailbox.wait_for("dana@example.com")
    assert anon.delete("/me", {"password": NEW["password"]}).status_code == 204
    response = anon.post("/auth/verify-email", {"token": token_of(link_in(mail, public(app)))})
    assert response.status_code == 404


def test_resend_mails_a_new_link_and_refuses_once_confirmed(app, as_alice, anon, mailbox):
    assert anon.post("/auth/verify-email/resend").status_code == 401
    assert as_alice.post("/auth/verify-email/resend").status_code == 202
    [mail] = mailbox.wait_for("alice@example.com")
    assert as_alice.post("/auth/verify-email", {"token": token_of(link_in(mail, public(app)))})
    response = as_alice.post("/auth/verify-email/resend")
    assert response.status_code == 409
    assert response.get_json()["error"]["message"] == "Your e-mail address is already confirmed."


def test_the_banner_asks_to_confirm_and_its_button_sends_the_link_again(app, alice, mailbox):
    browser = Browser(app.test_client())
    browser.submit("/login", {"email": alice.email, "password": PASSWORD})
    home = text(browser.get("/"))
    assert "Please confirm your e-mail address: open the link we sent to alice@example.com." in home
    page = browser.get("/history").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = browser.client.post(
        "/verify-email/resend?next=/history", data={"csrf_token": token}, follow_redirects=True
    )
    assert response.request.path == "/history"
    assert "We sent a new link to alice@example.com." in text(response)
    mailbox.wait_for("alice@example.com")
    confirm_address(app, alice.id)
    assert "Please confirm your e-mail address" not in text(browser.get("/"))


def test_resending_is_rate_limited(limited_app, alice, mailbox):
    api = Api(limited_app.test_client()).login(alice.email)
    codes = [api.post("/auth/verify-email/resend").status_code for _ in range(4)]
    assert codes == [202, 202, 202, 429]


# Reminder mail


@pytest.fixture
def dana(app, anon, mailbox) -> dict:
    """A patient who signed up, confirmed the address from the mail, and has no phone set up
    for reminders; her Monday 18:00 reminder is set."""
    user = anon.post("/auth/register", NEW).get_json()["user"]
    [mail] = mailbox.wait_for("dana@example.com")
    assert anon.post("/auth/verify-email", {"token": token_of(link_in(mail, public(app)))})
    mailbox.clear()
    remind_at(app, anon, 0, "18:00")
    return user


def test_a_reminder_mail_is_short_generic_and_links_to_the_new_session_page(
    app, anon, dana, mailbox
):
    # A session last week with a note and ratings: none of it may travel by mail.
    due = due_instant(app, dana["id"])
    anon.post(
        "/sessions",
        session_body(
            started_at=(due - timedelta(days=8)).isoformat(),
            before={"pain": 7, "stress": 6},
            after={"pain": 3, "stress": 2},
            notes="Numb toes, secret note",
        ),
    )
    report = run(app, due + timedelta(minutes=1))
    assert report.sent == 1
    [mail] = mailbox.wait_for("dana@example.com")
    assert mail["Subject"] == "Time for your weekly massage check-in"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Content-Language"] == "en"
    assert re.fullmatch(r"<[^<>@]+@127\.0\.0\.1>", mail["Message-ID"])
    assert abs(mail["Date"].datetime - datetime.now(UTC)) < timedelta(minutes=5)
    unsubscribe = mail["List-Unsubscribe"].strip()  # folded onto its own line: it is long
    assert re.fullmatch(rf"<{re.escape(public(app))}/unsubscribe/[\w.-]+>", unsubscribe)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    plain = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    link = link_in(mail, "http")
    assert link == f"{public(app)}/sessions/new"
    assert f'href="{link}"' in html
    assert "Hello Dana," in plain
    for body in (plain.lower(), html.lower()):
        assert not re.search(r"secret|numb|toes|\bpain\b|neuropath|\b[0-9] ?/ ?10\b", body)
    assert len(plain) < 700  # short enough to read on a phone

    # The link asks a logged-out reader to log in first, then opens the page.
    reader = app.test_client()
    response = reader.get(urlsplit(link).path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/sessions/new")


def test_a_reminder_mail_comes_in_the_persons_language_and_name(app, anon, dana, mailbox):
    anon.patch("/me", {"language": "fr-CA", "display_name": "Zoë Ångström"})
    run(app, due_instant(app, dana["id"]) + timedelta(minutes=1))
    [mail] = mailbox.wait_for("dana@example.com")
    assert mail["Content-Language"] == "fr-CA"
    assert 'lang="fr-CA"' in mail.get_body(("html",)).get_content()
    assert "Zoë Ångström" in mail.get_body(("plain",)).get_content()


def test_one_click_unsubscribe_needs_no_cookie_and_stops_reminder_mail(app, anon, dana, mailbox):
    due = due_instant(app, dana["id"])
    run(app, due + timedelta(minutes=1))
    [mail] = mailbox.wait_for("dana@example.com")
    path = unsubscribe_path(mail)

    provider = app.test_client()  # a mail provider's server: no cookie, no CSRF token
    for _ in range(2):  # twice: the same answer
        response = provider.post(path, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
        assert "Reminder e-mails are off" in text(response)
        assert "Set-Cookie" not in response.headers
    assert anon.get("/me").get_json()["email_reminders"] is False
    assert anon.get("/me").get_json()["reminder_route"] == {
        "channel": "none",
        "reason": "no_device",
    }

    mailbox.clear()
    run(app, due + timedelta(days=7, minutes=1))
    run(app, due + timedelta(days=7, hours=1))
    assert mailbox.messages == []

    # The page a person opens asks first, and its button works too.
    assert "Stop reminder e-mails?" in text(provider.get(path))
    assert provider.post(path).status_code == 200


@pytest.mark.parametrize("token", ["nonsense", "a.b.c", "é", "x" * 500])
def test_an_unknown_unsubscribe_link_is_404(client, token):
    assert client.get(f"/unsubscribe/{token}").status_code == 404
    assert client.post(
        f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}
    ).status_code == (404)


def test_settings_turn_reminder_mail_back_on(app, anon, dana, mailbox):
    due = due_instant(app, dana["id"])
    run(app, due + timedelta(minutes=1))
    [mail] = mailbox.wait_for("dana@example.com")
    app.test_client().post(unsubscribe_path(mail))
    browser = Browser(anon.client)
    page = text(browser.get("/settings"))
    assert "Reminder e-mails are off" in page
    response = browser.submit("/settings", settings_form(0, "18:00", ["email"], name="Dana"))
    assert "Settings saved." in text(response)
    me = anon.get("/me").get_json()
    assert me["email_reminders"] is True and me["reminder"]["channels"] == ["email"]
    mailbox.clear()
    run(app, due + timedelta(minutes=2))  # saving set this week's reminder again: sent already
    run(app, due + timedelta(days=7, minutes=1))
    assert len(mailbox.wait_for("dana@example.com")) == 1


def test_with_the_mail_server_down_the_reminder_waits_and_then_goes_once(
    app, anon, dana, mailbox, smtp_server
):
    due = due_instant(app, dana["id"])
    smtp_server.stop()
    report = run(app, due + timedelta(minutes=1))
    assert report.retried == 1 and report.sent == 0
    assert deliveries(app)[-1] == ("weekly", "email", "pending")
    smtp_server.start()
    run(app, due + timedelta(minutes=1, seconds=10))  # too soon: backing off
    assert mailbox.messages == []
    run(app, due + timedelta(minutes=3))
    run(app, due + timedelta(minutes=30))
    run(app, due + timedelta(hours=3))
    assert len(mailbox.to("dana@example.com")) == 1
    assert deliveries(app)[-1] == ("weekly", "email", "sent")


def test_a_temporary_refusal_is_retried(app, anon, dana, mailbox):
    due = due_instant(app, dana["id"])
    mailbox.refuse_with = "451 4.3.0 Try again later"
    run(app, due + timedelta(minutes=1))
    assert deliveries(app)[-1][2] == "pending"
    assert user_row(app, dana["id"]).email_bounced_at is None
    mailbox.refuse_with = None
    run(app, due + timedelta(minutes=5))
    assert len(mailbox.to("dana@example.com")) == 1


def test_a_permanent_refusal_marks_the_address_bouncing_and_asks_to_check_it(
    app, anon, dana, mailbox
):
    due = due_instant(app, dana["id"])
    mailbox.refuse_with = "550 5.1.1 No such user here"
    run(app, due + timedelta(minutes=1))
    assert deliveries(app)[-1] == ("weekly", "email", "failed")
    assert user_row(app, dana["id"]).email_bounced_at is not None
    assert anon.get("/me").get_json()["reminder_route"] == {
        "channel": "none",
        "reason": "email_unverified",
    }
    page = Browser(anon.client)
    for path in ("/", "/history", "/settings"):
        assert (
            "E-mails to dana@example.com are coming back. Please check your address in Settings."
            in text(page.get(path))
        )
    assert "came back undelivered" in text(page.get("/settings"))

    # Not tried again next week; a new link confirms the address again.
    mailbox.refuse_with = None
    run(app, due + timedelta(days=7, minutes=1))
    assert mailbox.messages == []
    assert anon.post("/auth/verify-email/resend").status_code == 202
    [mail] = mailbox.wait_for("dana@example.com")
    assert anon.post("/auth/verify-email", {"token": token_of(link_in(mail, public(app)))})
    assert user_row(app, dana["id"]).email_bounced_at is None


def test_with_no_mail_server_set_mail_is_written_to_the_instance_folder(app, db_url):
    quiet = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "test-secret"}
    )

    Api(quiet.test_client()).post("/auth/register", NEW)
    wait_idle(quiet)
    folder = Path(quiet.instance_path) / "mail"
    [eml] = [p for p in folder.glob("*.eml") if "dana@example.com" in p.read_text()]
    assert oct(eml.stat().st_mode & 0o777) == "0o600"
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert msg["To"] == "dana@example.com"
    assert link_in(msg, f"{quiet.config['PUBLIC_URL']}/verify-email/")
    eml.unlink()


def test_no_address_or_token_reaches_the_log(app, anon, mailbox, caplog):
    with caplog.at_level(logging.DEBUG):
        anon.post("/auth/register", NEW)
        [mail] = mailbox.wait_for("dana@example.com")
        token = token_of(link_in(mail, public(app)))
        anon.post("/auth/verify-email", {"token": token})
        anon.post("/auth/password-reset", {"email": NEW["email"]})
        mailbox.wait_for("dana@example.com", 2)
    # The test's SMTP server (aiosmtpd, "mail.log") logs what it receives; it is not ours.
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail."))
    assert "dana@example" not in ours.lower()
    assert token not in ours


def test_caregivers_choose_their_alert_channels_too(app, bob):
    confirm_address(app, bob.id)
    api = Api(app.test_client()).login(bob.email)
    me = api.get("/me").get_json()
    assert me["reminder_route"] == {"channel": "email", "reason": "no_device"}
    assert "Alerts about the people you help will come by e-mail." in text(
        Browser(api.client).get("/settings")
    )
