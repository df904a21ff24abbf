"""Crafted input, on pages and in the API, is a clear 4xx that changes nothing; never a 500.

Each case here once made the app fail: numbers Python reads as digits but int() refuses, a
plain form field beside a dotted one, JSON nested too deep or with too long a number, time
zones that are files rather than places, and writes racing a delete.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session as DbSession
from werkzeug.datastructures import MultiDict

from pnapp.extensions import db
from pnapp.models import MassageSession, Therapist, User
from tests.conftest import PASSWORD, Api
from tests.helpers import session_body

NOT_PLAIN_NUMBERS = ["²", "--5", "-", "٣", "9" * 5000, "1_0", " 3 4"]


def form_post(api: Api, path: str, fields: list[tuple[str, str]]):
    """A page form post with the session's CSRF token, fields in the order given."""
    data = MultiDict([("csrf_token", api.csrf_token()), *fields])
    return api.client.post(path, data=data)


def stored(app, alice) -> dict:
    """What a person could notice changing: their settings, sessions and therapists."""
    with app.app_context():
        user = db.session.get(User, alice.id)
        return {
            "user": (user.display_name, user.timezone, user.weekly_goal, user.reminder),
            "sessions": db.session.scalar(text("SELECT count(*) FROM massage_sessions")),
            "therapists": db.session.query(Therapist).count(),
        }


@pytest.mark.parametrize("value", NOT_PLAIN_NUMBERS)
def test_a_rating_that_is_not_a_plain_number_is_a_form_error(app, alice, as_alice, value):
    before = stored(app, alice)
    fields = [("client_id", "9e4f7f8e-6f0e-4a55-9d5c-0d1c8f1e2a3b")]
    response = form_post(
        as_alice, "/sessions/new", [*fields, ("before.pain", value), ("before.stress", "4")]
    )
    assert response.status_code == 422
    assert "Not a valid integer." in response.get_data(as_text=True)
    assert stored(app, alice) == before


@pytest.mark.parametrize("value", NOT_PLAIN_NUMBERS)
def test_a_weekly_goal_that_is_not_a_plain_number_is_a_form_error(app, alice, as_alice, value):
    before = stored(app, alice)
    response = form_post(as_alice, "/settings", [("weekly_goal", value)])
    assert response.status_code == 422
    assert stored(app, alice) == before


PLAIN_BESIDE_DOTTED = [
    ("/sessions/new", [("before", "x"), ("before.pain", "3"), ("before.stress", "2")]),
    ("/sessions/new", [("before.pain", "3"), ("before.stress", "2"), ("before", "x")]),
    ("/sessions/new", [("before.pain", "3"), ("before.pain.x", "1")]),
    ("/sessions/new", [("areas", "whole_body"), ("areas.x", "1")]),
    ("/settings", [("reminder", "x"), ("reminder.enabled", "on")]),
    ("/settings", [("reminder.enabled", "on"), ("reminder", "x")]),
    ("/settings", [("reminder", "x")]),
    ("/sessions/new", [("started_at.", "2026-11-22T10:30")]),
    ("/settings", [("display_name.x", "Al")]),
    ("/therapists", [("name", "Ann"), ("screening", "x")]),
    ("/therapists", [("name", "Ann"), ("screening", "x"), ("screening.knows_pn", "yes")]),
    ("/therapists", [("name", "Ann"), ("screening.knows_pn", "yes"), ("screening", "x")]),
]


@pytest.mark.parametrize(("path", "fields"), PLAIN_BESIDE_DOTTED)
def test_a_plain_field_beside_a_dotted_one_is_refused_and_changes_nothing(
    app, alice, as_alice, path, fields
):
    before = stored(app, alice)
    response = form_post(as_alice, path, fields)
    assert response.status_code in (400, 422)
    assert "<html" in response.get_data(as_text=True)
    assert stored(app, alice) == before


def test_a_dotted_name_no_form_sends_is_refused_on_the_edit_page(
    app, alice, as_alice, alices_session
):
    before = as_alice.get(f"/sessions/{alices_session}").get_json()
    response = form_post(as_alice, f"/sessions/{alices_session}/edit", [("started_at.", "²")])
    assert response.status_code == 400
    assert as_alice.get(f"/sessions/{alices_session}").get_json() == before


def deep(depth: int) -> str:
    return '{"":' * depth + "1" + "}" * depth


UNREADABLE_JSON = {
    "nested 20,000 deep": "[" * 20_000 + "]" * 20_000,
    "objects nested 12,000 deep": deep(12_000),  # within the 64 KiB a body may have
    "a 5,000-digit number": '{"email": ' + "7" * 5000 + ', "password": "x"}',
    "a 5,000-digit number deep inside": '{"before": {"pain": -' + "1" * 5000 + "}}",
}


@pytest.mark.parametrize("body", UNREADABLE_JSON.values(), ids=UNREADABLE_JSON.keys())
def test_unreadable_json_before_login_is_a_400_in_the_error_shape(anon, app, body):
    response = anon.client.post(
        "/api/v1/auth/login",
        data=body,
        content_type="application/json",
        headers={"X-CSRFToken": anon.csrf_token()},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize("body", UNREADABLE_JSON.values(), ids=UNREADABLE_JSON.keys())
@pytest.mark.parametrize(("method", "path"), [("POST", "/sessions"), ("PATCH", "/me")])
def test_unreadable_json_is_a_400_and_changes_nothing(app, alice, as_alice, body, method, path):
    before = stored(app, alice)
    response = as_alice.client.open(
        f"/api/v1{path}",
        method=method,
        data=body,
        content_type="application/json",
        headers={"X-CSRFToken": as_alice.csrf_token()},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
    assert stored(app, alice) == before


# Names zoneinfo finds on disk but which are no place a person lives in, or which the app
# cannot name in the person's language: once stored, /settings and the PDF failed for good.
NOT_PLACES = ["Factory", "localtime", "posixrules", "EST5EDT", "Etc/GMT+5", "SystemV/EST5"]


@pytest.mark.parametrize("name", NOT_PLACES)
def test_a_time_zone_that_is_not_a_place_is_refused_on_sign_up(anon, app, name):
    response = anon.post(
        "/auth/register",
        {
            "email": "dora@example.com",
            "password": PASSWORD,
            "display_name": "Dora",
            "role": "patient",
            "timezone": name,
        },
    )
    assert response.status_code == 422
    assert "timezone" in response.get_json()["error"]["fields"]
    with app.app_context():
        assert User.by_email("dora@example.com") is None


@pytest.mark.parametrize("name", NOT_PLACES)
def test_a_time_zone_that_is_not_a_place_is_refused_and_settings_still_work(
    app, alice, as_alice, name
):
    assert as_alice.patch("/me", {"timezone": name}).status_code == 422
    assert form_post(as_alice, "/settings", [("timezone", name)]).status_code == 422
    assert as_alice.get("/me").get_json()["timezone"] == "America/Toronto"
    assert as_alice.client.get("/settings").status_code == 200
    assert as_alice.get("/export/report.pdf").status_code == 200


@pytest.mark.parametrize("name", ["America/Toronto", "US/Eastern", "Asia/Calcutta", "UTC"])
def test_real_time_zones_old_names_too_are_accepted(as_alice, name):
    response = as_alice.patch("/me", {"timezone": name})
    assert response.status_code == 200
    assert response.get_json()["timezone"] == name
    assert as_alice.client.get("/settings").status_code == 200


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_a_blank_name_is_refused_in_settings_and_through_the_api(app, alice, as_alice, name):
    response = as_alice.patch("/me", {"display_name": name})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["display_name"] == ["Please enter a name."]
    page = form_post(as_alice, "/settings", [("display_name", name)])
    assert page.status_code == 422
    assert "Please enter a name." in page.get_data(as_text=True)
    assert as_alice.get("/me").get_json()["display_name"] == "Alice"


def test_a_blank_name_is_refused_on_sign_up(anon):
    response = anon.post(
        "/auth/register",
        {
            "email": "dora@example.com",
            "password": PASSWORD,
            "display_name": "",
            "role": "patient",
            "timezone": "UTC",
        },
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["display_name"] == ["Please enter a name."]


# Races: another transaction deletes a row (and holds the delete open) while a request is
# about to write to it or to something that refers to it.


def wait_until_blocked(app) -> None:
    """Until a request waits on a lock the test holds (PostgreSQL shows it; SQLite's writers
    queue on busy_timeout where nothing shows, so a pause stands in)."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            time.sleep(0.5)
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with db.engine.connect() as conn:
                waiting = conn.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                )
            if waiting:
                return
            time.sleep(0.02)
        raise AssertionError("the request never waited on the lock")


def racing(app, delete, request):
    """Run `request` in a thread while `delete` is flushed, not committed; then commit it."""
    answers = []
    with app.app_context():
        other = DbSession(db.engine)
        delete(other)
        other.flush()

        def run():
            try:
                answers.append(request())
            except BaseException as exc:  # a crash in the app reaches the test client
                answers.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        try:
            wait_until_blocked(app)
        finally:
            other.commit()
            other.close()
        thread.join(20)
    assert answers, "the request did not finish"
    if isinstance(answers[0], BaseException):
        raise answers[0]
    return answers[0]


@pytest.fixture
def alices_session(app, as_alice) -> int:
    return as_alice.post("/sessions", session_body()).get_json()["id"]


def test_a_change_racing_the_sessions_deletion_is_a_404(app, as_alice, alices_session):
    token = as_alice.csrf_token()
    response = racing(
        app,
        lambda other: other.delete(other.get(MassageSession, alices_session)),
        lambda: as_alice.client.patch(
            f"/api/v1/sessions/{alices_session}",
            json={"after": {"pain": 2, "stress": 1}},
            headers={"X-CSRFToken": token},
        ),
    )
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_an_edit_page_racing_the_sessions_deletion_is_a_404_page(app, as_alice, alices_session):
    token = as_alice.csrf_token()
    response = racing(
        app,
        lambda other: other.delete(other.get(MassageSession, alices_session)),
        lambda: as_alice.client.post(
            f"/sessions/{alices_session}",
            data={"csrf_token": token, "after.pain": "2", "after.stress": "1"},
        ),
    )
    assert response.status_code == 404
    assert "Not found." in response.get_data(as_text=True)


def test_a_new_session_racing_the_accounts_deletion_is_refused(app, alice, as_alice):
    token = as_alice.csrf_token()
    response = racing(
        app,
        lambda other: other.delete(other.get(User, alice.id)),
        lambda: as_alice.client.post(
            "/api/v1/sessions", json=session_body(), headers={"X-CSRFToken": token}
        ),
    )
    # SQLite queues the request before it reads anything, so it finds no account (401);
    # PostgreSQL lets it reach the insert, which the deleted account's row refuses.
    assert response.status_code in (401, 404, 409)
    assert response.get_json()["error"]["code"] in ("unauthorized", "not_found", "conflict")
    with app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM massage_sessions")) == 0
        assert db.session.get(User, alice.id) is None
