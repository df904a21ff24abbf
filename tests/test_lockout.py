"""Every door that checks a password pauses after ten wrong ones in a row, for the account
(kept in the database, so it holds across workers and machines), not only for an address."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from pnapp import create_app
from pnapp.extensions import db
from pnapp.models import LOCK_AFTER, User
from tests.conftest import PASSWORD, Api

WRONG = "not the password at all"


def unlock_time_passes(app, user_id: int) -> None:
    with app.app_context():
        db.session.execute(
            db.update(User)
            .where(User.id == user_id)
            .values(locked_until=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.session.commit()


def password_hash(app, user_id: int) -> str | None:
    with app.app_context():
        user = db.session.get(User, user_id)
        return user.password_hash if user else None


def form_token(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_ten_wrong_passwords_pause_the_account_even_for_the_right_one(app, anon, alice):
    wrong = {"email": alice.email, "password": WRONG}
    assert [anon.post("/auth/login", wrong).status_code for _ in range(LOCK_AFTER)] == [401] * 10
    response = anon.post("/auth/login", {"email": alice.email, "password": PASSWORD})
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60 + 1

    unlock_time_passes(app, alice.id)
    assert anon.post("/auth/login", {"email": alice.email, "password": PASSWORD}).status_code == 200
    with app.app_context():
        assert db.session.get(User, alice.id).failed_logins == 0  # a success starts again


def test_the_pause_holds_on_every_machine_because_it_is_in_the_database(app, db_url, alice):
    anon = Api(app.test_client())
    for _ in range(LOCK_AFTER):
        anon.post("/auth/login", {"email": alice.email, "password": WRONG})
    other_machine = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "test-secret"}
    )
    other = Api(other_machine.test_client())
    response = other.post("/auth/login", {"email": alice.email, "password": PASSWORD})
    assert response.status_code == 429


def test_a_stolen_cookie_is_no_password_oracle_on_account_deletion(app, as_alice, alice):
    for _ in range(LOCK_AFTER):
        assert as_alice.delete("/me", {"password": WRONG}).status_code == 403
    assert as_alice.delete("/me", {"password": PASSWORD}).status_code == 429
    with app.app_context():
        assert db.session.get(User, alice.id) is not None


def test_a_stolen_cookie_is_no_password_oracle_on_password_change(app, as_alice, alice):
    stored = password_hash(app, alice.id)
    body = {"current_password": WRONG, "new_password": "a new password 1234"}
    for _ in range(LOCK_AFTER):
        assert as_alice.post("/auth/password", body).status_code == 403
    right = {"current_password": PASSWORD, "new_password": "a new password 1234"}
    assert as_alice.post("/auth/password", right).status_code == 429
    with app.app_context():
        assert db.session.get(User, alice.id).password_hash == stored


@pytest.mark.parametrize(
    "path, field",
    [("/settings/delete", "password"), ("/settings/password", "current_password")],
)
def test_the_pages_that_ask_for_the_password_pause_too(app, as_alice, alice, path, field):
    client = as_alice.client
    token = form_token(client, path)
    stored = password_hash(app, alice.id)
    body = {"csrf_token": token, field: WRONG, "new_password": "a new password 1234"}
    for _ in range(LOCK_AFTER):
        assert client.post(path, data=body).status_code == 422
    response = client.post(path, data={**body, field: PASSWORD})
    assert response.status_code == 429
    assert "Too many wrong passwords" in response.get_data(as_text=True)
    assert password_hash(app, alice.id) == stored  # neither changed nor deleted


def test_the_login_page_says_to_wait_while_paused(app, alice):
    client = app.test_client()
    token = form_token(client, "/login")
    for _ in range(LOCK_AFTER):
        client.post("/login", data={"csrf_token": token, "email": alice.email, "password": WRONG})
    response = client.post(
        "/login", data={"csrf_token": token, "email": alice.email, "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "Too many wrong passwords" in response.get_data(as_text=True)
    assert client.get("/settings").status_code == 302  # not logged in


def test_a_right_password_before_the_tenth_resets_the_count(app, anon, alice):
    for _ in range(LOCK_AFTER - 1):
        anon.post("/auth/login", {"email": alice.email, "password": WRONG})
    assert anon.post("/auth/login", {"email": alice.email, "password": PASSWORD}).status_code == 200
    anon.post("/auth/logout")
    for _ in range(LOCK_AFTER - 1):
        anon.post("/auth/login", {"email": alice.email, "password": WRONG})
    assert anon.post("/auth/login", {"email": alice.email, "password": PASSWORD}).status_code == 200
