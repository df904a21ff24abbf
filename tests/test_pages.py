"""The pages work as plain HTML forms, without JavaScript."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from pnapp.extensions import db
from pnapp.models import MassageSession
from pnapp.pages.sessions import HISTORY_PAGE
from tests.conftest import PASSWORD
from tests.helpers import session_body


def token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


class Browser:
    """A test client that fills in forms like a browser without JavaScript."""

    def __init__(self, client):
        self.client = client

    def get(self, path, **kwargs):
        return self.client.get(path, **kwargs)

    def submit(self, path, data, follow=True):
        """GET the page, then POST its hidden fields (CSRF token, client_id) with `data`."""
        page = self.client.get(path).get_data(as_text=True)
        hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
        return self.client.post(path, data={**hidden, **data}, follow_redirects=follow)


@pytest.fixture
def browser(app):
    return Browser(app.test_client())


@pytest.fixture
def alice_browser(browser, alice):
    browser.submit("/login", {"email": alice.email, "password": PASSWORD})
    return browser


def html(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def text(response) -> str:
    """What a person reads: the page without its tags."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_a_visitor_sees_the_welcome_page_with_sign_up_and_log_in(browser):
    page = text(browser.get("/"))
    assert "Create an account" in page and "Log in" in page


def test_signing_up_with_a_form_offers_reminders_then_leads_home(browser, app):
    response = browser.submit(
        "/register",
        {
            "display_name": "Dana",
            "email": "dana@example.com",
            "password": "long enough pw",
            "role": "patient",
            "timezone": "America/Vancouver",
        },
    )
    page = text(response)
    assert "Step 1 of 2" in page and "When do you usually have your massage?" in page
    assert "Skip for now" in page
    page = text(browser.get("/"))
    assert "Hello, Dana" in page and "0 of 1 session" in page


def test_a_sign_up_mistake_is_shown_beside_the_field_and_keeps_what_was_typed(browser, app):
    response = browser.submit(
        "/register",
        {
            "display_name": "Dana",
            "email": "dana@example.com",
            "password": "short",
            "role": "patient",
            "timezone": "America/Vancouver",
        },
    )
    assert response.status_code == 422
    page = html(response)
    assert 'id="password-error"' in page and "at least 10 characters" in page
    assert 'value="dana@example.com"' in page and 'value="Dana"' in page


def test_a_wrong_password_on_the_login_page_says_so(browser, alice):
    response = browser.submit("/login", {"email": alice.email, "password": "wrong password"})
    assert response.status_code == 422
    assert "do not match an account" in text(response)


def test_pages_ask_for_login_and_come_back_after(browser, alice):
    response = browser.get("/history")
    assert response.status_code == 302 and "/login?next=/history" in response.location
    page = browser.client.get(response.location).get_data(as_text=True)
    after = browser.client.post(
        response.location,
        data={"csrf_token": token(page), "email": alice.email, "password": PASSWORD},
    )
    assert after.location == "/history"


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"],
)
def test_login_never_redirects_to_another_site(browser, alice, target):
    page = browser.get("/login").get_data(as_text=True)
    response = browser.client.post(
        f"/login?next={target}",
        data={"csrf_token": token(page), "email": alice.email, "password": PASSWORD},
    )
    assert response.location == "/"


def test_a_form_post_without_the_csrf_token_is_refused(browser, alice, app):
    response = browser.client.post("/login", data={"email": alice.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "reload and try again" in text(response)


def test_recording_before_and_after_with_forms(alice_browser, app):
    page = text(alice_browser.get("/"))
    assert "0 of 1 session" in page and "Start a session" in page
    response = alice_browser.submit(
        "/sessions/new",
        {
            "before.pain": "7",
            "before.stress": "6",
            "before.numbness": "",
            "areas": "feet_lower_legs",
            "adjuncts": "sauna",
            "duration_min": "60",
            "notes": "",
        },
    )
    page = text(response)
    assert "After your massage" in page and "Saved. Enjoy your massage." in page
    assert "check your feet" in page  # heat safety note: a sauna was used
    with app.app_context():
        session = db.session.query(MassageSession).one()
        assert (session.before_pain, session.before_stress) == (7, 6)
        assert session.areas == ["feet_lower_legs"] and session.adjuncts == ["sauna"]
    home = text(alice_browser.get("/"))
    assert "How do you feel now?" in home and "1 of 1 session" in home
    response = alice_browser.submit(
        f"/sessions/{session.id}", {"after.pain": "3", "after.stress": "2"}
    )
    session_page = text(response)
    assert "Your session" in session_page
    assert "Pain 7 → 3 (4 points lower)" in session_page
    assert "Stress 6 → 2 (4 points lower)" in session_page
    # The history is one line a session: the numbers, read out as before and after.
    history = text(alice_browser.get("/history"))
    assert "Pain 7 → 3 7 before, 3 after Stress 6 → 2 6 before, 2 after" in history
    assert "Start a session" in text(alice_browser.get("/"))


def test_the_new_session_form_is_safe_to_submit_twice(alice_browser, app):
    page = alice_browser.get("/sessions/new").get_data(as_text=True)
    form = {
        "csrf_token": token(page),
        "client_id": re.search(r'name="client_id" value="([^"]+)"', page).group(1),
        "before.pain": "5",
        "before.stress": "5",
    }
    first = alice_browser.client.post("/sessions/new", data=form)
    second = alice_browser.client.post("/sessions/new", data=form)
    assert first.location == second.location
    with app.app_context():
        assert db.session.query(MassageSession).count() == 1


def test_a_missing_rating_is_shown_and_what_was_tapped_is_kept(alice_browser, app):
    response = alice_browser.submit("/sessions/new", {"before.pain": "4"})
    assert response.status_code == 422
    page = html(response)
    assert 'id="before-stress-error"' in page
    assert 'id="before-pain-4" name="before.pain" value="4" checked' in page
    with app.app_context():
        assert db.session.query(MassageSession).count() == 0


def test_editing_a_session_changes_it(alice_browser, as_alice):
    s = as_alice.post("/sessions", session_body(after={"pain": 4, "stress": 4})).get_json()
    response = alice_browser.submit(
        f"/sessions/{s['id']}/edit",
        {
            "started_at": "2026-11-02T10:30",
            "before.pain": "8",
            "before.stress": "5",
            "after.pain": "2",
            "after.stress": "3",
            "notes": "Much better",
        },
    )
    assert response.status_code == 200
    stored = as_alice.get(f"/sessions/{s['id']}").get_json()
    assert stored["before"]["pain"] == 8 and stored["after"]["pain"] == 2
    assert stored["notes"] == "Much better"
    assert stored["started_at"] == "2026-11-02T15:30:00Z"  # 10:30 in Toronto


def test_deleting_asks_first_and_then_deletes(alice_browser, as_alice):
    s = as_alice.post("/sessions", session_body()).get_json()
    ask = text(alice_browser.get(f"/sessions/{s['id']}/delete"))
    assert "Delete this session?" in ask and "No, keep it" in ask
    assert as_alice.get(f"/sessions/{s['id']}").status_code == 200
    alice_browser.submit(f"/sessions/{s['id']}/delete", {})
    assert as_alice.get(f"/sessions/{s['id']}").status_code == 404


def test_another_patients_session_pages_are_not_found(as_alice, charlie, browser):
    s = as_alice.post("/sessions", session_body(notes="private note")).get_json()
    browser.submit("/login", {"email": charlie.email, "password": PASSWORD})
    for path in (
        f"/sessions/{s['id']}",
        f"/sessions/{s['id']}/edit",
        f"/sessions/{s['id']}/delete",
    ):
        response = browser.get(path)
        assert response.status_code == 404
        assert "private note" not in text(response)


def test_text_typed_by_a_patient_is_shown_escaped(alice_browser, as_alice):
    s = as_alice.post(
        "/sessions",
        session_body(notes='<script>alert("x")</script>', after={"pain": 1, "stress": 1}),
    ).get_json()
    page = alice_browser.get(f"/sessions/{s['id']}").get_data(as_text=True)
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;" in page


def test_history_pages_through_older_sessions(alice_browser, as_alice):
    start = datetime.now(UTC) - timedelta(days=HISTORY_PAGE + 10)
    for i in range(HISTORY_PAGE + 5):
        as_alice.post("/sessions", session_body(started_at=(start + timedelta(days=i)).isoformat()))
    first = html(alice_browser.get("/history"))
    assert first.count("<li data-started=") == HISTORY_PAGE
    assert "Show older sessions" in first
    cursor = re.search(r'href="/history\?cursor=([^"]+)"', first).group(1)
    second = html(alice_browser.get(f"/history?cursor={cursor}"))
    assert second.count("<li data-started=") == 5 and "Show older sessions" not in second


def test_history_groups_sessions_by_month_newest_first(alice_browser, as_alice):
    for day, pain in (("2026-01-30", 6), ("2026-02-02", 5), ("2026-02-20", 4)):
        body = session_body(
            started_at=f"{day}T15:00:00Z",
            before={"pain": pain, "stress": 5},
            after={"pain": pain - 2, "stress": 3},
        )
        assert as_alice.post("/sessions", body).status_code == 201
    as_alice.post("/sessions", session_body(started_at="2026-02-25T15:00:00Z"))
    page = text(alice_browser.get("/history"))
    february, january = page.index("February 2026 3 sessions"), page.index("January 2026 1 session")
    assert february < page.index("Fri, Feb 20") < page.index("Mon, Feb 2") < january
    assert page.index("Fri, Jan 30") > january
    assert "Pain 4 → 2 4 before, 2 after" in page
    assert "Pain 6 → – 6 before, not yet rated after" in page  # the 25th, no after yet


def test_settings_change_the_goal_and_time_zone(alice_browser, as_alice):
    response = alice_browser.submit(
        "/settings",
        {
            "display_name": "Alice",
            "timezone": "Europe/Berlin",
            "weekly_goal": "2",
            "reminder.enabled": "on",
            "reminder.weekday": "4",
            "reminder.time": "17:45",
        },
    )
    assert "Settings saved." in text(response)
    me = as_alice.get("/me").get_json()
    assert me["timezone"] == "Europe/Berlin" and me["weekly_goal"] == 2
    # channels: API.md "Reminders on every channel"
    assert me["reminder"] == {"enabled": True, "weekday": 4, "time": "17:45", "channels": ["push"]}
    assert "0 of 2 sessions" in text(alice_browser.get("/"))


def test_logging_out_from_settings(alice_browser):
    page = alice_browser.get("/settings").get_data(as_text=True)
    response = alice_browser.client.post(
        "/logout", data={"csrf_token": token(page)}, follow_redirects=True
    )
    assert "You are logged out." in text(response)
    assert alice_browser.get("/history").status_code == 302


def test_a_caregiver_is_sent_to_their_patients_page(browser, bob):
    browser.submit("/login", {"email": bob.email, "password": PASSWORD})
    assert browser.get("/").location == "/care"
    assert browser.get("/sessions/new").location == "/care"


def test_unknown_pages_get_a_friendly_404(browser):
    response = browser.get("/no-such-page")
    assert response.status_code == 404
    assert "We could not find that page" in text(response)


def test_health_check_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_the_api_page_lists_every_operation(client):
    page = html(client.get("/api/docs"))
    assert "/api/v1/sessions/{session_id}" in page and "PATCH" in page


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "MDAwMS0wMS0wMVQwMDowMDowMCswMTowMHwx",
        "MjAyNi0wMS0wMVQwMDowMDowMCswMDowMHw5OTk5OTk5OTk5OTk5",
    ],
)
def test_a_forged_history_cursor_starts_from_the_newest(alice_browser, cursor):
    response = alice_browser.get(f"/history?cursor={cursor}")
    assert response.status_code == 302 and response.location == "/history"
