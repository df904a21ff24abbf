"""Recording massage sessions through the API: retries, validation, privacy, paging."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from pnapp.extensions import db
from pnapp.models import MassageSession
from tests.helpers import iso, session_body


def count_sessions(app) -> int:
    with app.app_context():
        return db.session.query(MassageSession).count()


def test_a_patient_records_before_ratings_and_gets_the_session_back(as_alice, alice):
    body = session_body(
        areas=["feet_lower_legs"], adjuncts=["heat_towels"], duration_min=60, notes="Felt tight."
    )
    response = as_alice.post("/sessions", body)
    assert response.status_code == 201
    s = response.get_json()
    assert s["client_id"] == body["client_id"]
    assert s["before"]["pain"] == 6 and s["before"]["stress"] == 5
    assert s["before"]["numbness"] is None
    assert s["before"]["recorded_at"].endswith("Z")
    assert s["after"] is None and s["change"] is None
    assert s["areas"] == ["feet_lower_legs"] and s["adjuncts"] == ["heat_towels"]
    assert s["entered_by"] == alice.id
    assert s["started_at"] == body["started_at"]
    assert as_alice.get(f"/sessions/{s['id']}").get_json() == s


def test_adding_after_ratings_gives_the_change_per_measure(as_alice):
    s = as_alice.post(
        "/sessions", session_body(before={"pain": 7, "stress": 6, "numbness": 5})
    ).get_json()
    response = as_alice.patch(
        f"/sessions/{s['id']}", {"after": {"pain": 3, "stress": 6, "numbness": 5}}
    )
    assert response.status_code == 200
    assert response.get_json()["change"] == {
        "pain": 4,
        "stress": 0,
        "numbness": 0,
        "tingling": None,
        "weakness": None,
    }


def test_a_retry_with_the_same_body_returns_the_stored_session(as_alice, app):
    body = session_body()
    first = as_alice.post("/sessions", body)
    again = as_alice.post("/sessions", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert count_sessions(app) == 1


def test_a_retry_spelling_the_same_time_differently_is_still_the_same_request(as_alice, app):
    started = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    body = session_body(started_at="2026-11-20T15:00:00Z")
    assert as_alice.post("/sessions", body).status_code == 201
    body["started_at"] = started.astimezone().isoformat()  # same instant, another offset
    body = dict(reversed(list(body.items())))  # and another key order
    assert as_alice.post("/sessions", body).status_code == 200
    assert count_sessions(app) == 1


def test_a_retry_after_the_after_ratings_were_added_is_still_safe(as_alice):
    body = session_body()
    s = as_alice.post("/sessions", body).get_json()
    as_alice.patch(f"/sessions/{s['id']}", {"after": {"pain": 2, "stress": 2}})
    replay = as_alice.post("/sessions", body)
    assert replay.status_code == 200
    assert replay.get_json()["after"]["pain"] == 2


def test_the_same_client_id_with_another_body_is_a_conflict(as_alice, app):
    body = session_body()
    as_alice.post("/sessions", body)
    response = as_alice.post("/sessions", {**body, "before": {"pain": 1, "stress": 1}})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"
    assert as_alice.get("/sessions").get_json()["items"][0]["before"]["pain"] == 6
    assert count_sessions(app) == 1


def test_two_patients_may_use_the_same_client_id(as_alice, as_charlie, app):
    body = session_body()
    assert as_alice.post("/sessions", body).status_code == 201
    assert as_charlie.post("/sessions", body).status_code == 201
    assert count_sessions(app) == 2


def test_concurrent_retries_store_one_session(live_server, alice, app):
    """Two phones (or a phone and its service worker) racing with the same request."""
    import concurrent.futures

    import requests

    def logged_in():
        http = requests.Session()
        token = http.get(f"{live_server}/api/v1/auth/csrf").json()["csrf_token"]
        http.post(
            f"{live_server}/api/v1/auth/login",
            headers={"X-CSRFToken": token},
            json={"email": alice.email, "password": "correct horse battery"},
        )
        http.headers["X-CSRFToken"] = http.get(f"{live_server}/api/v1/auth/csrf").json()[
            "csrf_token"
        ]
        return http

    clients = [logged_in() for _ in range(8)]
    body = session_body()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = sorted(
            pool.map(
                lambda http: http.post(f"{live_server}/api/v1/sessions", json=body).status_code,
                clients,
            )
        )
    assert codes == [200] * 7 + [201]
    assert count_sessions(app) == 1


INVALID = [
    ({"before": {"pain": 11, "stress": 5}}, "before.pain"),
    ({"before": {"pain": -1, "stress": 5}}, "before.pain"),
    ({"before": {"pain": 5.5, "stress": 5}}, "before.pain"),
    ({"before": {"pain": "5", "stress": 5}}, "before.pain"),
    ({"before": {"pain": True, "stress": 5}}, "before.pain"),
    ({"before": {"pain": 5}}, "before.stress"),
    ({"before": {"pain": 5, "stress": 5, "numbness": 12}}, "before.numbness"),
    ({"before": {"pain": 5, "stress": 5, "itch": 3}}, "before.itch"),
    ({"before": None}, "before"),
    ({"after": {"pain": 3}}, "after.stress"),
    ({"client_id": "not-a-uuid"}, "client_id"),
    ({"started_at": "2026-11-20T10:00:00"}, "started_at"),
    ({"started_at": "yesterday"}, "started_at"),
    ({"started_at": "2999-01-01T00:00:00Z"}, "started_at"),
    ({"started_at": "1999-12-31T23:00:00Z"}, "started_at"),
    ({"duration_min": 4}, "duration_min"),
    ({"duration_min": 241}, "duration_min"),
    ({"areas": ["knees"]}, "areas.0"),
    ({"areas": ["whole_body", "whole_body"]}, "areas"),
    ({"adjuncts": ["sauna", "steam_room"]}, "adjuncts.1"),
    ({"notes": "x" * 2001}, "notes"),
    ({"therapist_id": 999999}, "therapist_id"),
    ({"mood": "fine"}, "mood"),
]


@pytest.mark.parametrize(("change", "field"), INVALID, ids=[f for _, f in INVALID])
def test_invalid_sessions_are_refused_with_the_field_named_and_nothing_stored(
    as_alice, app, change, field
):
    response = as_alice.post("/sessions", session_body(**change))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error" and error["status"] == 422
    assert field in error["fields"], error["fields"]
    assert count_sessions(app) == 0


def test_client_id_is_required(as_alice):
    body = session_body()
    del body["client_id"]
    response = as_alice.post("/sessions", body)
    assert response.status_code == 422
    assert "client_id" in response.get_json()["error"]["fields"]


def test_a_failed_change_leaves_the_session_as_it_was(as_alice):
    s = as_alice.post("/sessions", session_body()).get_json()
    response = as_alice.patch(
        f"/sessions/{s['id']}", {"notes": "new", "after": {"pain": 99, "stress": 1}}
    )
    assert response.status_code == 422
    assert as_alice.get(f"/sessions/{s['id']}").get_json() == s


def test_client_id_cannot_be_changed(as_alice):
    s = as_alice.post("/sessions", session_body()).get_json()
    response = as_alice.patch(f"/sessions/{s['id']}", {"client_id": str(uuid.uuid4())})
    assert response.status_code == 422


def test_malformed_json_is_a_bad_request(as_alice):
    response = as_alice.post("/sessions", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_a_form_post_to_the_api_is_a_bad_request(as_alice, app):
    response = as_alice.post(
        "/sessions",
        data="before.pain=5",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
    assert count_sessions(app) == 0


def test_a_body_that_is_too_large_is_refused(as_alice):
    response = as_alice.post(
        "/sessions", data='{"notes": "' + "x" * 70_000 + '"}', content_type="application/json"
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"


def test_a_json_array_instead_of_an_object_is_a_validation_error(as_alice):
    response = as_alice.post("/sessions", data="[1, 2]", content_type="application/json")
    assert response.status_code == 422


def test_writes_without_the_csrf_token_are_refused(as_alice, app):
    response = as_alice.post("/sessions", session_body(), csrf=False)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"
    response = as_alice.post("/sessions", session_body(), headers={"X-CSRFToken": "forged"})
    assert response.get_json()["error"]["code"] == "csrf_failed"
    assert count_sessions(app) == 0


def test_an_unknown_method_on_an_api_path_answers_in_the_error_shape(as_alice):
    response = as_alice.request("PUT", "/sessions", {})
    assert response.status_code == 405
    assert response.get_json()["error"]["status"] == 405


def test_another_patients_session_is_not_found_for_every_method(as_alice, as_charlie, app):
    s = as_alice.post("/sessions", session_body(notes="private")).get_json()
    for method, body in (("GET", None), ("PATCH", {"notes": "mine now"}), ("DELETE", None)):
        response = as_charlie.request(method, f"/sessions/{s['id']}", body)
        assert response.status_code == 404
        assert "private" not in response.get_data(as_text=True)
    assert as_charlie.get("/sessions").get_json()["items"] == []
    assert as_alice.get(f"/sessions/{s['id']}").get_json() == s


def test_a_caregiver_cannot_record_sessions_of_their_own(as_bob, app):
    response = as_bob.post("/sessions", session_body())
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert count_sessions(app) == 0


def test_anonymous_requests_are_unauthorized(anon):
    for method in ("GET", "POST"):
        response = anon.request(method, "/sessions", session_body() if method == "POST" else None)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthorized"


def test_a_deleted_session_is_gone(as_alice):
    s = as_alice.post("/sessions", session_body()).get_json()
    assert as_alice.delete(f"/sessions/{s['id']}").status_code == 204
    assert as_alice.get(f"/sessions/{s['id']}").status_code == 404
    assert as_alice.delete(f"/sessions/{s['id']}").status_code == 404


def test_clearing_the_after_ratings(as_alice):
    s = as_alice.post("/sessions", session_body(after={"pain": 1, "stress": 1})).get_json()
    cleared = as_alice.patch(f"/sessions/{s['id']}", {"after": None}).get_json()
    assert cleared["after"] is None and cleared["change"] is None


def test_a_session_can_name_one_of_the_patients_own_therapists(as_alice, as_charlie):
    mine = as_alice.post("/therapists", {"name": "Marie"}).get_json()
    theirs = as_charlie.post("/therapists", {"name": "Sam"}).get_json()
    ok = as_alice.post("/sessions", session_body(therapist_id=mine["id"]))
    assert ok.status_code == 201 and ok.get_json()["therapist_id"] == mine["id"]
    refused = as_alice.post("/sessions", session_body(therapist_id=theirs["id"]))
    assert refused.status_code == 422
    assert "therapist_id" in refused.get_json()["error"]["fields"]


def make_sessions(api, count: int, start: datetime) -> list[dict]:
    return [
        api.post("/sessions", session_body(started_at=iso(start + timedelta(hours=i)))).get_json()
        for i in range(count)
    ]


def test_pages_of_sessions_come_newest_first_and_cover_every_session_once(as_alice):
    made = make_sessions(as_alice, 7, datetime.now(UTC) - timedelta(days=3))
    seen, cursor = [], None
    while True:
        page = as_alice.get(
            "/sessions", query_string={"limit": 3, **({"cursor": cursor} if cursor else {})}
        ).get_json()
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [s["id"] for s in reversed(made)]


def test_paging_never_skips_or_repeats_when_sessions_are_added_meanwhile(as_alice):
    now = datetime.now(UTC)
    older = make_sessions(as_alice, 6, now - timedelta(days=10))
    same_time = iso(now - timedelta(days=5))
    twins = [
        as_alice.post("/sessions", session_body(started_at=same_time)).get_json() for _ in range(3)
    ]
    first = as_alice.get("/sessions", query_string={"limit": 4}).get_json()
    # Meanwhile: a newer session, one at the very same instant, and an older one.
    as_alice.post("/sessions", session_body(started_at=iso(now - timedelta(minutes=5))))
    as_alice.post("/sessions", session_body(started_at=same_time))
    late_old = as_alice.post(
        "/sessions", session_body(started_at=iso(now - timedelta(days=30)))
    ).get_json()
    ids = [s["id"] for s in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = as_alice.get("/sessions", query_string={"limit": 4, "cursor": cursor}).get_json()
        ids += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
    assert len(ids) == len(set(ids)), "a session was repeated"
    expected = {s["id"] for s in older + twins} | {late_old["id"]}
    assert expected <= set(ids), "a session was skipped"


def test_a_cursor_that_was_not_given_out_is_a_validation_error(as_alice):
    response = as_alice.get("/sessions", query_string={"cursor": "garbage!"})
    assert response.status_code == 422
    assert "cursor" in response.get_json()["error"]["fields"]


@pytest.mark.parametrize(
    "query",
    [
        {"limit": 0},
        {"limit": 201},
        {"limit": "many"},
        {"from": "2026-13-01"},
        {"from": "2026-11-10", "to": "2026-11-01"},
    ],
)
def test_bad_list_parameters_are_validation_errors(as_alice, query):
    assert as_alice.get("/sessions", query_string=query).status_code == 422


def test_from_and_to_are_dates_in_the_patients_own_zone(as_alice):
    # Alice lives in Toronto (UTC-5 in November): 02:00 UTC on the 21st is the 20th for her.
    late_on_20th = as_alice.post(
        "/sessions", session_body(started_at="2026-11-21T02:00:00Z")
    ).get_json()
    as_alice.post("/sessions", session_body(started_at="2026-11-21T06:00:00Z"))
    page = as_alice.get("/sessions", query_string={"from": "2026-11-20", "to": "2026-11-20"})
    assert [s["id"] for s in page.get_json()["items"]] == [late_on_20th["id"]]
