"""Logins live on the server: logging out ends them, whoever holds a copy of the cookie."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask.sessions import SecureCookieSessionInterface

from pnapp import create_app
from pnapp.extensions import db
from pnapp.models import Login, PushSubscription, User
from tests.conftest import PASSWORD, Api

PHONE = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"
LAPTOP = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Version/17 Safari/605"


def logged_in(app, email: str, user_agent: str = PHONE) -> Api:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    return Api(client).login(email)


def copy_of_cookie(api: Api, app) -> Api:
    """Another client holding the same session cookie, as a thief with a copy would."""
    thief = app.test_client()
    cookie = api.client.get_cookie("pnapp_session")
    thief.set_cookie("pnapp_session", cookie.value)
    return Api(thief)


def test_a_copy_of_the_cookie_taken_before_logout_no_longer_works(app, alice):
    api = logged_in(app, alice.email)
    thief = copy_of_cookie(api, app)
    assert thief.get("/me").status_code == 200
    assert api.post("/auth/logout").status_code == 204
    assert thief.get("/me").status_code == 401
    assert thief.client.get("/settings").status_code == 302  # to the log-in page


def test_logging_out_on_the_page_ends_the_login_too(app, alice):
    api = logged_in(app, alice.email)
    thief = copy_of_cookie(api, app)
    page = api.client.get("/settings").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert api.client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert thief.get("/me").status_code == 401


def test_the_cookie_holds_a_random_login_token_and_the_server_only_its_hash(app, alice):
    api = logged_in(app, alice.email)
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    data = serializer.loads(api.client.get_cookie("pnapp_session").value)
    token = data["_user_id"]
    assert str(alice.id) != token and len(token) >= 40
    with app.app_context():
        [login] = db.session.scalars(db.select(Login)).all()
        assert token not in (login.token_hash, str(login.id))
        assert login.user_id == alice.id and login.method == "password"


def test_the_person_sees_where_they_are_logged_in_and_ends_one(app, alice):
    phone = logged_in(app, alice.email, PHONE)
    laptop = logged_in(app, alice.email, LAPTOP)
    items = phone.get("/auth/logins").get_json()["items"]
    assert len(items) == 2
    assert [i["current"] for i in items].count(True) == 1
    assert {i["user_agent"] for i in items} == {PHONE, LAPTOP}
    assert all(i["created_at"].endswith("Z") and i["last_seen_at"] for i in items)

    laptops = [i["id"] for i in items if i["user_agent"] == LAPTOP]
    assert phone.delete(f"/auth/logins/{laptops[0]}").status_code == 204
    assert laptop.get("/me").status_code == 401
    assert phone.get("/me").status_code == 200
    assert len(phone.get("/auth/logins").get_json()["items"]) == 1


def test_nobody_ends_or_sees_another_persons_logins(app, alice, charlie):
    mine = logged_in(app, alice.email)
    theirs = logged_in(app, charlie.email)
    [charlies] = theirs.get("/auth/logins").get_json()["items"]
    assert mine.delete(f"/auth/logins/{charlies['id']}").get_json()["error"]["code"] == "not_found"
    assert theirs.get("/me").status_code == 200
    assert [i["id"] for i in mine.get("/auth/logins").get_json()["items"]] != [charlies["id"]]


def test_log_out_everywhere_ends_every_login_this_one_included(app, alice):
    phone, laptop = logged_in(app, alice.email), logged_in(app, alice.email, LAPTOP)
    assert phone.post("/auth/logout-everywhere").status_code == 204
    assert phone.get("/me").status_code == 401
    assert laptop.get("/me").status_code == 401
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Login.id))) == 0


def test_a_password_change_keeps_only_the_current_login(app, alice):
    phone, laptop = logged_in(app, alice.email), logged_in(app, alice.email, LAPTOP)
    thief = copy_of_cookie(laptop, app)
    response = phone.post(
        "/auth/password", {"current_password": PASSWORD, "new_password": "a brand new password"}
    )
    assert response.status_code == 204
    assert phone.get("/me").status_code == 200
    assert laptop.get("/me").status_code == 401 and thief.get("/me").status_code == 401
    assert len(phone.get("/auth/logins").get_json()["items"]) == 1


def test_settings_lists_the_devices_in_words_and_logs_one_out(app, alice):
    phone, laptop = logged_in(app, alice.email, PHONE), logged_in(app, alice.email, LAPTOP)
    page = phone.client.get("/settings").get_data(as_text=True)
    assert "Where you are logged in" in page
    assert "Chrome on Android" in page and "Safari on Mac" in page
    assert "This device" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    laptop_id = next(
        i["id"] for i in phone.get("/auth/logins").get_json()["items"] if not i["current"]
    )
    response = phone.client.post(
        f"/settings/logins/{laptop_id}/end", data={"csrf_token": token}, follow_redirects=True
    )
    assert "That device was logged out." in response.get_data(as_text=True)
    assert laptop.get("/me").status_code == 401 and phone.get("/me").status_code == 200

    page = phone.client.get("/settings").get_data(as_text=True)
    assert "Safari on Mac" not in page and "Log out everywhere" not in page  # one login left


def test_last_seen_is_kept_without_writing_on_every_request(app, alice):
    api = logged_in(app, alice.email)
    with app.app_context():
        an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
        db.session.execute(db.update(Login).values(last_seen_at=an_hour_ago))
        db.session.commit()
    api.get("/me")
    with app.app_context():
        seen = db.session.scalar(db.select(Login.last_seen_at))
    assert seen > an_hour_ago + timedelta(minutes=59)
    api.get("/me")
    with app.app_context():
        assert db.session.scalar(db.select(Login.last_seen_at)) == seen  # within five minutes


def test_a_writing_request_notes_the_login_as_seen_in_its_own_transaction(app, alice):
    api = logged_in(app, alice.email)
    token = api.csrf_token()
    with app.app_context():
        an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
        db.session.execute(db.update(Login).values(last_seen_at=an_hour_ago))
        db.session.commit()
    # No GET before it: the PATCH is the first request since the login went stale.
    response = api.patch("/me", {"weekly_goal": 2}, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(db.select(Login.last_seen_at)) > an_hour_ago + timedelta(
            minutes=59
        )


def test_logging_out_removes_this_devices_push_subscription_only(app, alice):
    phone, laptop = logged_in(app, alice.email), logged_in(app, alice.email, LAPTOP)
    keys = {"p256dh": "B" * 87, "auth": "A" * 22}
    for api, name in ((phone, "phone"), (laptop, "laptop")):
        body = {"endpoint": f"https://fcm.googleapis.com/fcm/send/{name}", "keys": keys}
        assert api.post("/push/subscriptions", body).status_code == 201
    phone.post("/auth/logout")
    with app.app_context():
        left = db.session.scalars(db.select(PushSubscription.endpoint)).all()
    # The next person to pick up the phone gets none of alice's reminders; her laptop still does.
    assert left == ["https://fcm.googleapis.com/fcm/send/laptop"]


def test_the_login_cookie_is_secure_in_production(db_url, alice):
    production = create_app(
        {
            "TESTING": True,
            "ENV": "production",
            "SQLALCHEMY_DATABASE_URI": db_url,
            "SECRET_KEY": "production-secret",
            "PUBLIC_URL": "https://pnapp.example",
        }
    )
    response = Api(production.test_client()).post(
        "/auth/login", {"email": alice.email, "password": PASSWORD}
    )
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert "pnapp_session=" in cookie and "; Secure" in cookie and "HttpOnly" in cookie


def test_production_refuses_to_start_without_its_public_address(db_url, monkeypatch):
    monkeypatch.delenv("PNAPP_PUBLIC_URL", raising=False)
    config = {"ENV": "production", "SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "s"}
    with pytest.raises(RuntimeError, match="PNAPP_PUBLIC_URL"):
        create_app(config)


def test_the_login_cookie_is_not_secure_in_development(app, alice):
    response = Api(app.test_client()).post(
        "/auth/login", {"email": alice.email, "password": PASSWORD}
    )
    assert "; Secure" not in response.headers["Set-Cookie"]


def test_deleting_the_account_ends_its_logins(app, alice):
    api = logged_in(app, alice.email)
    other = logged_in(app, alice.email, LAPTOP)
    assert api.delete("/me", {"password": PASSWORD}).status_code == 204
    assert other.get("/me").status_code == 401
    with app.app_context():
        assert db.session.get(User, alice.id) is None
        assert db.session.scalar(db.select(db.func.count(Login.id))) == 0


def test_a_login_unused_for_longer_than_the_cookie_lives_has_ended_and_is_cleared(app, alice):
    """The cookie lasts 60 days; a copy of it kept longer must not work either, and the
    scheduler's pass deletes the row."""
    from pnapp.scheduler import run_once

    idle = logged_in(app, alice.email)
    thief = copy_of_cookie(idle, app)
    recent = logged_in(app, alice.email, LAPTOP)
    with app.app_context():
        long_ago = datetime.now(UTC) - app.permanent_session_lifetime - timedelta(minutes=1)
        idle_id = db.session.scalar(db.select(Login.id).order_by(Login.id))
        db.session.execute(
            db.update(Login).where(Login.id == idle_id).values(last_seen_at=long_ago)
        )
        db.session.commit()
    assert thief.get("/me").status_code == 401
    assert idle.get("/me").status_code == 401
    assert [x["user_agent"] for x in recent.get("/auth/logins").get_json()["items"]] == [LAPTOP]
    run_once(app)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Login)) == 1
    assert recent.get("/me").status_code == 200
