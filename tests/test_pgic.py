"""The patient's global impression of change (CLINICAL.md, PGIC): offered now and then on the
home page, answered in one tap or set aside, at most once a day, stored with its time, and
shown on the progress page, to a caregiver with `progress`, and in the exports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pnapp.errors import Conflict
from pnapp.extensions import db
from pnapp.models import PgicAnswer, User
from pnapp.progress import pgic_due
from tests.conftest import share_with
from tests.helpers import iso, session_body
from tests.test_pages import Browser, text, token

QUESTION = "Since you started regular massage, how would you describe your condition overall?"
T0 = datetime(2026, 3, 2, 15, tzinfo=UTC)


def weekly(n: int, start: datetime = T0) -> list[datetime]:
    return [start + timedelta(weeks=i) for i in range(n)]


# When it is asked (pure, with `now` passed in)


def test_it_is_first_asked_once_four_sessions_follow_the_first_one():
    latest = T0 + timedelta(weeks=4)
    now = latest + timedelta(hours=2)
    assert not pgic_due(now, 3, latest)  # four sessions: three since the first
    assert pgic_due(now, 4, latest)
    assert not pgic_due(now, 0, None)  # no session at all


def test_after_an_answer_it_waits_28_days_and_four_more_sessions():
    answered = T0
    latest = T0 + timedelta(days=22)  # the fourth session since, a week apart
    day_27 = T0 + timedelta(days=27, hours=23)
    assert not pgic_due(day_27, 4, latest, last_answer_at=answered)
    day_28 = T0 + timedelta(days=28)
    assert pgic_due(day_28, 4, latest, last_answer_at=answered)
    assert not pgic_due(day_28 + timedelta(days=30), 3, latest, last_answer_at=answered)


def test_not_now_sets_it_aside_for_28_days_and_until_the_next_session():
    latest = T0 + timedelta(weeks=5)
    skipped = latest + timedelta(hours=3)
    assert not pgic_due(skipped + timedelta(days=10), 5, latest, last_asked_at=skipped)
    # 28 days on, but no session since "Not now": not on a visit without a session.
    assert not pgic_due(skipped + timedelta(days=40), 5, latest, last_asked_at=skipped)
    later = skipped + timedelta(days=35)
    assert pgic_due(later + timedelta(hours=2), 6, later, last_asked_at=skipped)


def test_28_days_are_elapsed_time_across_a_daylight_saving_change():
    # 8 March 2026 Toronto moves its clocks; 28 days are 28 x 24 hours all the same.
    answered = datetime(2026, 2, 20, 14, tzinfo=UTC)
    latest = answered + timedelta(days=22)
    before = answered + timedelta(days=28, seconds=-1)
    assert not pgic_due(before, 4, latest, last_answer_at=answered)
    assert pgic_due(answered + timedelta(days=28), 4, latest, last_answer_at=answered)


def test_the_model_counts_sessions_since_the_first_or_the_last_answer_up_to_now(
    app, alice, as_alice
):
    starts = weekly(5, datetime.now(UTC) - timedelta(weeks=6))
    for when in starts[:4]:
        assert as_alice.post("/sessions", session_body(started_at=iso(when))).status_code == 201
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert not PgicAnswer.due(user)  # three since the first
        assert as_alice.post("/sessions", session_body(started_at=iso(starts[4]))).status_code
        assert PgicAnswer.due(user)
        assert not PgicAnswer.due(user, now=starts[3] + timedelta(hours=1))  # the 5th not yet
        PgicAnswer.record(user, 4, now=starts[4] + timedelta(hours=1))
        assert not PgicAnswer.due(user, now=starts[4] + timedelta(days=40))  # none since


# Stored at most once a day, in the patient's zone


@pytest.fixture
def patient(app, alice):
    with app.app_context():
        yield db.session.get(User, alice.id)


def test_one_answer_a_local_day_in_the_patients_zone(patient):
    # 23:30 and 00:30 in Toronto are two days, though the same UTC day.
    late = datetime(2026, 11, 20, 4, 30, tzinfo=UTC)  # Thu 19 Nov, 23:30 EST
    PgicAnswer.record(patient, 3, now=late)
    next_day = late + timedelta(hours=1)  # Fri 20 Nov, 00:30 EST
    PgicAnswer.record(patient, 2, now=next_day)
    with pytest.raises(Conflict):
        PgicAnswer.record(patient, 1, now=next_day + timedelta(hours=20))  # 20:30 the same day
    assert [a.value for a in PgicAnswer.since(patient)] == [3, 2]
    assert [str(a.label) for a in PgicAnswer.since(patient)] == [
        "Minimally improved",
        "Much improved",
    ]


def test_the_api_records_an_answer_then_refuses_a_second_the_same_day(as_alice):
    response = as_alice.post("/pgic", {"value": 2})
    assert response.status_code == 201
    body = response.get_json()
    assert body["value"] == 2 and body["label"] == "Much improved"
    assert body["answered_at"].endswith("Z")
    again = as_alice.post("/pgic", {"value": 1})
    assert again.status_code == 409
    error = again.get_json()["error"]
    assert error["code"] == "conflict" and error["status"] == 409 and error["message"]
    progress = as_alice.get("/progress").get_json()
    assert [(a["value"], a["label"]) for a in progress["pgic"]] == [(2, "Much improved")]


@pytest.mark.parametrize(
    "body", [{"value": 0}, {"value": 8}, {"value": "3"}, {"value": True}, {}, {"value": 3, "x": 1}]
)
def test_the_api_refuses_anything_but_one_to_seven(as_alice, body):
    response = as_alice.post("/pgic", body)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_error"
    assert response.get_json()["error"]["fields"]


def test_only_the_patient_answers(anon, as_bob):
    assert anon.post("/pgic", {"value": 3}).status_code == 401
    assert as_bob.post("/pgic", {"value": 3}).status_code == 403


# Offered on the home page


def tap(browser: Browser, data: dict, follow: bool = True):
    """Post the home page's PGIC form, as a tap on one of its buttons does."""
    home = browser.get("/").get_data(as_text=True)
    return browser.client.post(
        "/pgic", data={"csrf_token": token(home), **data}, follow_redirects=follow
    )


def five_sessions(api, start: datetime) -> None:
    for when in weekly(5, start):
        body = session_body(started_at=iso(when), after={"pain": 3, "stress": 2})
        assert api.post("/sessions", body).status_code == 201


def test_the_home_page_offers_it_after_enough_sessions_and_one_tap_answers(app, alice, as_alice):
    browser = Browser(as_alice.client)
    assert QUESTION not in text(browser.get("/"))
    five_sessions(as_alice, datetime.now(UTC) - timedelta(weeks=5))
    home = browser.get("/").get_data(as_text=True)
    assert QUESTION in home
    # Seven answers, each its own submit button: one tap.
    for value, words in ((1, "Very much improved"), (4, "No change"), (7, "Very much worse")):
        assert f'name="value" value="{value}">{words}</button>' in home
    done = tap(browser, {"value": "2"})
    assert done.status_code == 200 and done.request.path == "/"
    assert "Thank you." in text(done) and QUESTION not in text(done)
    with app.app_context():
        [answer] = PgicAnswer.since(db.session.get(User, alice.id))
        assert answer.value == 2
    progress = text(browser.get("/progress"))
    assert "Much improved" in progress and "Overall since starting massage" in progress


def test_not_now_sets_the_question_aside(app, alice, as_alice):
    five_sessions(as_alice, datetime.now(UTC) - timedelta(weeks=5))
    browser = Browser(as_alice.client)
    done = tap(browser, {"skip": "1"})
    assert done.status_code == 200 and QUESTION not in text(done)
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert PgicAnswer.since(user) == [] and user.pgic_asked_at is not None


def test_a_bad_answer_on_the_page_is_shown_with_the_form(as_alice):
    five_sessions(as_alice, datetime.now(UTC) - timedelta(weeks=5))
    response = tap(Browser(as_alice.client), {"value": "9"}, follow=False)
    assert response.status_code == 422
    assert "Your answer" in text(response) and QUESTION in text(response)


# Shown to a caregiver with `progress`, as aggregates


def test_a_caregiver_with_progress_sees_the_trend_and_answers_but_no_session(
    app, alice, as_alice, as_bob
):
    now = datetime.now(UTC).replace(hour=15, minute=0, second=0, microsecond=0)
    days = [d for d in (now - timedelta(days=n) for n in range(2, 60, 4)) if d.weekday() != 0]
    for day in days:
        body = session_body(
            started_at=iso(day), after={"pain": 3, "stress": 2}, notes="private jotting"
        )
        assert as_alice.post("/sessions", body).status_code == 201
    assert as_alice.post("/pgic", {"value": 1}).status_code == 201
    share_with(as_alice, as_bob, ["progress"])

    progress = as_bob.get(f"/patients/{alice.id}/progress").get_json()
    assert sum(w["sessions"] for w in progress["trend"]) == len(days)
    assert [a["label"] for a in progress["pgic"]] == ["Very much improved"]
    assert "started_at" not in str(progress)

    page = as_bob.client.get(f"/care/{alice.id}").get_data(as_text=True)
    assert "Before massage, week by week" in page and "Week by week as a table" in page
    assert "Very much improved" in page
    # No chart, no single session.
    assert '<svg class="chart"' not in page and "private jotting" not in page
    # The table's rows are weeks (named by their Monday), never a session's day.
    assert "6.0" in page and "1 session" in page
