"""The therapist notebook, its checklist, the visit summary and the guide."""

from __future__ import annotations

import pytest

from tests.helpers import session_body
from tests.test_pages import Browser, text


@pytest.fixture
def alice_browser(app, alice):
    browser = Browser(app.test_client())
    browser.submit("/login", {"email": alice.email, "password": "correct horse battery"})
    return browser


def test_adding_a_therapist_with_the_screening_checklist(alice_browser, as_alice):
    page = text(alice_browser.get("/therapists"))
    assert "Did they know what peripheral neuropathy is?" in page
    assert "Did they ask where your symptoms are?" in page
    response = alice_browser.submit(
        "/therapists",
        {
            "name": "Marie Tremblay",
            "phone": "+1 416 555 0142",
            "certified": "yes",
            "credential": "RMT",
            "screening.knows_pn": "yes",
            "screening.asked_symptom_areas": "yes",
            "screening.approach": "Gentle work on the feet, checking pressure often.",
        },
    )
    assert "Marie Tremblay was added." in text(response)
    [t] = as_alice.get("/therapists").get_json()["items"]
    assert t["certified"] is True and t["credential"] == "RMT"
    assert t["screening"] == {
        "knows_pn": "yes",
        "asked_symptom_areas": True,
        "approach": "Gentle work on the feet, checking pressure often.",
    }
    assert 'href="tel:+14165550142"' in alice_browser.get("/therapists").get_data(as_text=True)


def test_the_notebook_shows_sessions_and_average_pain_change(alice_browser, as_alice):
    t = as_alice.post("/therapists", {"name": "Sam"}).get_json()
    for pre, post in ((6, 3), (5, 4)):
        as_alice.post(
            "/sessions",
            session_body(
                therapist_id=t["id"],
                before={"pain": pre, "stress": 3},
                after={"pain": post, "stress": 2},
            ),
        )
    page = text(alice_browser.get("/therapists"))
    assert "2 sessions; pain fell by 2.0 points on average" in page
    assert as_alice.get(f"/therapists/{t['id']}").get_json()["mean_pain_change"] == 2.0


def test_editing_and_removing_a_therapist_keeps_the_sessions(alice_browser, as_alice):
    t = as_alice.post("/therapists", {"name": "Sam"}).get_json()
    s = as_alice.post("/sessions", session_body(therapist_id=t["id"])).get_json()
    alice_browser.submit(f"/therapists/{t['id']}", {"name": "Sam Ortiz", "certified": "no"})
    assert as_alice.get(f"/therapists/{t['id']}").get_json()["certified"] is False
    alice_browser.submit(f"/therapists/{t['id']}", {"action": "delete", "name": "x"})
    assert as_alice.get(f"/therapists/{t['id']}").status_code == 404
    assert as_alice.get(f"/sessions/{s['id']}").get_json()["therapist_id"] is None


def test_a_therapist_without_a_name_is_refused(alice_browser, as_alice):
    response = alice_browser.submit("/therapists", {"name": "  "})
    assert response.status_code == 422
    assert as_alice.get("/therapists").get_json()["items"] == []


def test_another_patients_therapist_is_not_found(as_alice, as_charlie, charlie, app):
    t = as_alice.post("/therapists", {"name": "Marie"}).get_json()
    for method in ("GET", "PATCH", "DELETE"):
        body = {"name": "x"} if method == "PATCH" else None
        assert as_charlie.request(method, f"/therapists/{t['id']}", body).status_code == 404
    browser = Browser(app.test_client())
    browser.submit("/login", {"email": charlie.email, "password": "correct horse battery"})
    assert browser.get(f"/therapists/{t['id']}").status_code == 404
    assert browser.get(f"/therapists/{t['id']}/summary").status_code == 404
    assert as_alice.get(f"/therapists/{t['id']}").get_json()["name"] == "Marie"


def test_the_visit_summary_shows_areas_and_recent_ratings_and_notes_only_when_chosen(
    alice_browser, as_alice
):
    t = as_alice.post("/therapists", {"name": "Marie"}).get_json()
    as_alice.post(
        "/sessions",
        session_body(
            areas=["feet_lower_legs"],
            notes="left foot worse",
            before={"pain": 7, "stress": 5},
            after={"pain": 4, "stress": 2},
        ),
    )
    page = text(alice_browser.get(f"/therapists/{t['id']}/summary"))
    assert "For Marie" in page and "Feet and lower legs" in page and "7 → 4" in page
    assert "left foot worse" not in page
    with_notes = text(alice_browser.get(f"/therapists/{t['id']}/summary?notes=1"))
    assert "left foot worse" in with_notes


def test_the_guide_explains_regularity_screening_heat_and_doctors(client):
    page = text(client.get("/guide"))
    for words in (
        "at least once a week",
        "Do you know what peripheral neuropathy is?",
        "test the temperature",
        "talk to your doctor",
    ):
        assert words.lower() in page.lower()


def test_the_new_session_page_offers_to_add_a_therapist(alice_browser):
    html = alice_browser.get("/sessions/new").get_data(as_text=True)
    assert "/therapists?back=new-session#add" in html
    assert 'id="heat-note"' in html and "Got it" in html
