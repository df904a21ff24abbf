"""Accounts: sign-up, log-in, log-out, CSRF, and the user's own settings."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from pnapp.extensions import db
from pnapp.models import User
from tests.conftest import PASSWORD

NEW = {
    "email": "Dana@Example.com",
    "password": "a long enough password",
    "display_name": "Dana",
    "role": "patient",
    "timezone": "America/Toronto",
}


def test_registering_logs_the_new_user_in(anon):
    response = anon.post("/auth/register", NEW)
    assert response.status_code == 201
    user = response.get_json()["user"]
    assert user["email"] == "dana@example.com"
    assert user["role"] == "patient" and user["timezone"] == "America/Toronto"
    assert user["weekly_goal"] == 1
    assert user["reminder"] == {
        "enabled": False,
        "weekday": 0,
        "time": "09:00",
        "channels": ["push"],  # API.md "Reminders on every channel"
    }
    assert user["created_at"].endswith("Z")
    assert "password" not in user and "password_hash" not in user
    assert anon.get("/me").get_json()["id"] == user["id"]


def test_passwords_are_stored_as_argon2id_hashes(app, anon):
    anon.post("/auth/register", NEW)
    with app.app_context():
        stored = User.by_email("dana@example.com").password_hash
    assert stored.startswith("$argon2id$")
    assert NEW["password"] not in stored
    assert PasswordHasher().verify(stored, NEW["password"])


def test_the_production_hasher_uses_argon2id_at_a_real_cost():
    import pnapp.models.accounts

    # The suite swaps in cheap parameters; the module's own defaults are the real ones.
    params = PasswordHasher()
    assert params.memory_cost >= 19 * 1024 and params.time_cost >= 2
    assert pnapp.models.accounts.PasswordHasher is PasswordHasher


def test_an_email_is_taken_whatever_its_case(anon, alice, app):
    response = anon.post("/auth/register", {**NEW, "email": "ALICE@example.COM"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"
    with app.app_context():
        assert db.session.query(User).count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"password": "short"}, "password"),
        ({"email": "not-an-email"}, "email"),
        ({"role": "doctor"}, "role"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "EST5EDT "}, "timezone"),
        ({"display_name": "   "}, "display_name"),
        ({"display_name": "x" * 81}, "display_name"),
        ({"is_admin": True}, "is_admin"),
    ],
)
def test_sign_up_mistakes_name_the_field_and_create_nothing(anon, app, change, field):
    response = anon.post("/auth/register", {**NEW, **change})
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    with app.app_context():
        assert db.session.query(User).count() == 0


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(anon, alice):
    wrong = anon.post("/auth/login", {"email": alice.email, "password": "not the password"})
    unknown = anon.post("/auth/login", {"email": "nobody@example.com", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()


def test_login_ignores_the_case_of_the_email(anon, alice):
    assert (
        anon.post("/auth/login", {"email": "ALICE@EXAMPLE.COM", "password": PASSWORD}).status_code
        == 200
    )


def test_login_starts_a_new_session(app, alice):
    """Nothing set in the session before login survives it (no session fixation)."""
    client = app.test_client()
    with client.session_transaction() as s:
        s["planted"] = "by an attacker"
    from tests.conftest import Api

    Api(client).login(alice.email)
    with client.session_transaction() as s:
        assert "planted" not in s
        assert s.permanent


def test_logout_ends_the_session(as_alice):
    assert as_alice.post("/auth/logout").status_code == 204
    assert as_alice.get("/me").status_code == 401


def test_login_without_the_csrf_token_is_refused(anon, alice):
    response = anon.post("/auth/login", {"email": alice.email, "password": PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"


def test_a_user_changes_their_settings(as_alice):
    response = as_alice.patch(
        "/me",
        {
            "display_name": "Alice B.",
            "timezone": "Europe/Paris",
            "weekly_goal": 2,
            "reminder": {"enabled": True, "weekday": 6, "time": "18:30"},
        },
    )
    assert response.status_code == 200
    me = as_alice.get("/me").get_json()
    assert me["display_name"] == "Alice B." and me["timezone"] == "Europe/Paris"
    assert me["weekly_goal"] == 2
    # channels: API.md "Reminders on every channel"
    assert me["reminder"] == {"enabled": True, "weekday": 6, "time": "18:30", "channels": ["push"]}


def test_a_partial_reminder_change_keeps_the_rest(as_alice):
    as_alice.patch("/me", {"reminder": {"enabled": True, "weekday": 3, "time": "10:00"}})
    as_alice.patch("/me", {"reminder": {"time": "11:15"}})
    assert as_alice.get("/me").get_json()["reminder"] == {
        "enabled": True,
        "weekday": 3,
        "time": "11:15",
        "channels": ["push"],  # API.md "Reminders on every channel"
    }


@pytest.mark.parametrize(
    "change",
    [
        {"weekly_goal": 0},
        {"weekly_goal": 8},
        {"weekly_goal": "2"},
        {"timezone": "Nowhere"},
        {"reminder": {"time": "25:00"}},
        {"reminder": {"time": "9:00"}},
        {"reminder": {"weekday": 7}},
        {"email": "new@example.com"},
        {"role": "caregiver"},
    ],
)
def test_invalid_settings_change_nothing(as_alice, change):
    before = as_alice.get("/me").get_json()
    response = as_alice.patch("/me", change)
    assert response.status_code == 422
    assert as_alice.get("/me").get_json() == before


def test_deleting_the_account_needs_the_password_and_removes_everything(as_alice, app, alice):
    from tests.helpers import session_body

    as_alice.post("/sessions", session_body())
    as_alice.post("/therapists", {"name": "Marie"})
    assert as_alice.delete("/me", {"password": "wrong password!"}).status_code == 403
    assert as_alice.delete("/me", {"password": PASSWORD}).status_code == 204
    assert as_alice.get("/me").status_code == 401
    with app.app_context():
        for table in db.metadata.sorted_tables:
            assert db.session.execute(table.select()).first() is None, table.name
    assert (
        as_alice.post("/auth/login", {"email": alice.email, "password": PASSWORD}).status_code
        == 401
    )


NEW_PASSWORD = "a brand new password"


def test_changing_the_password_logs_the_other_devices_out(app, alice, as_alice):
    from tests.conftest import Api

    phone = Api(app.test_client()).login(alice.email)
    wrong = as_alice.post(
        "/auth/password", {"current_password": "not it at all", "new_password": NEW_PASSWORD}
    )
    assert wrong.status_code == 403
    assert phone.get("/me").status_code == 200  # a wrong guess changes nothing

    response = as_alice.post(
        "/auth/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 204
    assert as_alice.get("/me").status_code == 200  # this device stays logged in
    assert phone.get("/me").status_code == 401  # the other one is out
    anon = Api(app.test_client())
    assert anon.post("/auth/login", {"email": alice.email, "password": PASSWORD}).status_code == 401
    anon.login(alice.email, NEW_PASSWORD)


def test_a_too_short_new_password_is_refused_and_changes_nothing(app, alice, as_alice):
    response = as_alice.post(
        "/auth/password", {"current_password": PASSWORD, "new_password": "short"}
    )
    assert response.status_code == 422
    assert "new_password" in response.get_json()["error"]["fields"]
    from tests.conftest import Api

    Api(app.test_client()).login(alice.email, PASSWORD)


def test_the_password_page_changes_it_and_ends_other_sessions(app, alice, as_alice):
    from tests.conftest import Api

    phone = Api(app.test_client()).login(alice.email)
    page = as_alice.client
    token = as_alice.csrf_token()
    wrong = page.post(
        "/settings/password",
        data={"csrf_token": token, "current_password": "nope nope", "new_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 422
    assert "That password is not right." in wrong.get_data(as_text=True)
    done = page.post(
        "/settings/password",
        data={"csrf_token": token, "current_password": PASSWORD, "new_password": NEW_PASSWORD},
        follow_redirects=True,
    )
    assert done.status_code == 200
    assert "Your password was changed. Other devices were logged out." in done.get_data(
        as_text=True
    )
    assert phone.client.get("/settings").status_code == 302
    Api(app.test_client()).login(alice.email, NEW_PASSWORD)
