"""Pages cost a bounded number of queries, however many sessions a patient has."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pnapp.demo import add_sessions, session_rows
from pnapp.extensions import db
from pnapp.models import Therapist, User
from tests.conftest import counting_queries
from tests.test_pages import Browser


@pytest.fixture
def busy_alice(app, alice):
    """Alice with about 1,000 sessions over twenty years, with therapists."""
    with app.app_context():
        user = db.session.get(User, alice.id)
        ids = tuple(Therapist.create(user, {"name": n}).id for n in ("Marie", "Sam"))
        rows = session_rows(user, weeks=1150, seed=3, therapist_ids=ids)
        add_sessions(user, rows)
        assert len(rows) >= 1000
        # And one that still waits for its after rating.
        rows[-1]["client_id"] = "unfinished"
        rows[-1]["after_pain"] = rows[-1]["after_stress"] = None
        rows[-1]["started_at"] = rows[-1]["started_at"] + timedelta(hours=1)
        add_sessions(user, [rows[-1]])
    return alice


@pytest.mark.parametrize("path", ["/", "/history", "/settings", "/sessions/new"])
def test_pages_use_a_bounded_number_of_queries(app, busy_alice, path):
    browser = Browser(app.test_client())
    browser.submit("/login", {"email": busy_alice.email, "password": "correct horse battery"})
    with counting_queries(app) as statements:
        response = browser.get(path)
    assert response.status_code == 200
    # Home is the busiest: the login, this week's count, a session awaiting its after
    # ratings, whether the PGIC question is due (two), the week's kind words and who sent
    # them. A count that grew with the 300 sessions would be an N+1 query.
    assert len(statements) <= 7, statements


def test_the_sessions_api_uses_a_bounded_number_of_queries(app, busy_alice, as_alice):
    with counting_queries(app) as statements:
        page = as_alice.get("/sessions", query_string={"limit": 200}).get_json()
    assert len(page["items"]) == 200
    assert len(statements) <= 3, statements
    with counting_queries(app) as statements:
        therapists = as_alice.get("/therapists").get_json()["items"]
    assert sum(t["sessions_count"] for t in therapists) >= 1000
    assert len(statements) <= 3, statements
