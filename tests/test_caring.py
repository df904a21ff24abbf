"""Caregivers who help: the access log, the heads-up before a week is lost, the weekly
digest, encouragements, and recording on the patient's behalf."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pnapp.extensions import db
from pnapp.models import AccessEntry, CareShare, Delivery, User, record_access
from pnapp.models.access import prune
from pnapp.reminders import send_due_reminders
from tests.conftest import confirm_address, make_user, share_with
from tests.helpers import iso, session_body
from tests.test_pages import text

# Alice (Toronto) keeps her reminder on Monday: her heads-up is Wednesday 18:00 local.
WEDNESDAY_6PM = datetime(2026, 11, 18, 23, tzinfo=UTC)
MONDAY_10AM = datetime(2026, 11, 16, 15, tzinfo=UTC)


def backdate_shares(app) -> None:
    """The shares existed before the weeks the tests look at."""
    with app.app_context():
        db.session.query(CareShare).update({"created_at": datetime(2026, 10, 1, tzinfo=UTC)})
        db.session.commit()


# The access log


def test_the_patient_sees_who_looked_newest_first(app, as_alice, as_bob, alice, bob):
    as_alice.post("/sessions", session_body())
    share_with(as_alice, as_bob, ["progress", "sessions"])
    assert as_bob.get(f"/patients/{alice.id}/progress").status_code == 200
    assert as_bob.get(f"/patients/{alice.id}/sessions").status_code == 200
    assert as_bob.get(f"/export/sessions.csv?patient_id={alice.id}").status_code == 200
    assert as_bob.client.get(f"/care/{alice.id}").status_code == 200
    with app.app_context():
        record_access(alice.id, "link", label="Dr. Lee")
    items = as_alice.get("/access-log").get_json()["items"]
    assert [i["what"] for i in items] == ["link", "sessions", "export", "sessions", "progress"]
    assert items[0]["who"] == {"id": None, "display_name": "Dr. Lee"}
    assert items[1]["who"] == {"id": bob.id, "display_name": "Bob"}
    assert all(i["at"].endswith("Z") for i in items)
    assert len(as_alice.get("/export/all.json").get_json()["access_log"]) == 5
    # Only the patient reads it; the caregiver's own reads are not theirs to see.
    assert as_bob.get("/access-log").status_code == 403
    page = text(as_alice.client.get("/share"))
    assert "Last looked:" in page and "Bob looked at your sessions" in page
    assert "Dr. Lee: last opened" in page


def test_the_access_log_shows_the_last_hundred_and_forgets_after_a_year(app, as_alice, alice):
    bob = make_user(app, "bob@example.com", "caregiver", name="Bob")
    now = datetime.now(UTC)
    with app.app_context():
        viewer = db.session.get(User, bob.id)
        for n in range(105):
            record_access(alice.id, "progress", viewer=viewer, now=now - timedelta(days=n * 4))
    items = as_alice.get("/access-log").get_json()["items"]
    assert len(items) == 100 and items[0]["at"] > items[-1]["at"]
    with app.app_context():
        assert prune(now) == 105 - 92  # 92 * 4 days is within the year, 93 * 4 is not
        assert db.session.query(AccessEntry).count() == 92


def test_record_access_needs_a_viewer_or_a_label(app, alice):
    with app.app_context(), pytest.raises(ValueError):
        record_access(alice.id, "link")


# Ending a share


def test_ending_a_share_asks_first_and_says_what_happens(app, as_alice, as_bob, alice):
    share = share_with(as_alice, as_bob, ["progress"])
    ask = as_alice.client.get(f"/share/{share['id']}/end")
    assert ask.status_code == 200
    said = text(ask)
    assert "Stop sharing with Bob?" in said and "Invitation links you made" in said
    assert as_bob.get("/shares").get_json()["items"]  # asking changed nothing
    assert "Stop following Alice?" in text(as_bob.client.get(f"/share/{share['id']}/end"))


def test_a_page_for_a_patient_never_shared_stays_a_bare_404(app, as_bob, alice):
    page = as_bob.client.get(f"/care/{alice.id}")
    assert page.status_code == 404 and "Alice" not in text(page)


# The heads-up


@pytest.fixture
def bob_phone(as_bob, push_service):
    sub = push_service.subscriber("bob-phone")
    assert as_bob.post("/push/subscriptions", sub.subscription()).status_code == 201
    return sub


def test_the_heads_up_comes_once_on_wednesday_evening_of_a_week_with_no_session(
    app, as_alice, as_bob, alice, bob_phone, push_service
):
    share_with(as_alice, as_bob, ["heads_up"])
    backdate_shares(app)
    with app.app_context():
        send_due_reminders(WEDNESDAY_6PM - timedelta(minutes=5))
        assert push_service.messages == []
        for minutes in (1, 5, 120):
            send_due_reminders(WEDNESDAY_6PM + timedelta(minutes=minutes))
    [message] = push_service.messages
    note = message.payload["notification"]
    assert note["body"] == "Alice has no massage recorded yet this week. Could you help?"
    assert note["navigate"].endswith(f"/care/{alice.id}")
    with app.app_context():
        [d] = db.session.query(Delivery).all()
        assert (d.kind, d.period, d.state) == ("caregiver_heads_up", f"{alice.id}:2026-W47", "sent")


def test_no_heads_up_once_the_week_has_a_session_or_without_the_scope(
    app, as_alice, as_bob, alice, bob_phone, push_service
):
    share = share_with(as_alice, as_bob, ["progress", "alerts"])
    backdate_shares(app)
    with app.app_context():
        send_due_reminders(WEDNESDAY_6PM + timedelta(minutes=1))
    assert push_service.messages == []
    as_alice.patch(f"/shares/{share['id']}", {"scopes": ["heads_up"]})
    as_alice.post("/sessions", session_body(started_at=iso(datetime(2026, 11, 17, 15, tzinfo=UTC))))
    with app.app_context():
        send_due_reminders(WEDNESDAY_6PM + timedelta(minutes=2))
    assert push_service.messages == []


def test_a_late_reminder_day_moves_the_heads_up_to_sunday_noon(app):
    from pnapp.reminders.caring import heads_up_at

    monday = datetime(2026, 11, 16).date()
    assert heads_up_at(monday, 0, "America/Toronto") == WEDNESDAY_6PM
    assert heads_up_at(monday, 3, "America/Toronto") == datetime(2026, 11, 21, 23, tzinfo=UTC)
    sunday_noon = datetime(2026, 11, 22, 17, tzinfo=UTC)
    assert heads_up_at(monday, 4, "America/Toronto") == sunday_noon
    assert heads_up_at(monday, 6, "America/Toronto") == sunday_noon


def test_a_caregiver_without_a_phone_gets_the_heads_up_by_mail(
    app, as_alice, as_bob, alice, bob, mailbox
):
    confirm_address(app, bob.id)
    share_with(as_alice, as_bob, ["heads_up"])
    backdate_shares(app)
    with app.app_context():
        send_due_reminders(WEDNESDAY_6PM + timedelta(minutes=1))
        send_due_reminders(WEDNESDAY_6PM + timedelta(minutes=2))
    [mail] = mailbox.messages
    assert mail["Subject"] == "Alice has no massage recorded yet this week"
    body = mail.get_body(("plain",)).get_content()
    assert "help Alice book a massage or offer a ride" in body and f"/care/{alice.id}" in body


# The weekly digest


def test_the_digest_is_one_short_mail_a_week_with_counts_and_no_notes(
    app, as_alice, as_bob, alice, bob, mailbox
):
    confirm_address(app, bob.id)
    for day in (3, 10, 17):  # three of the four weeks before 16 November
        started = MONDAY_10AM - timedelta(days=day)
        as_alice.post(
            "/sessions",
            session_body(
                started_at=iso(started), notes="SECRET-NOTE", after={"pain": 1, "stress": 1}
            ),
        )
    share_with(as_alice, as_bob, ["progress", "digest"])
    backdate_shares(app)
    with app.app_context():
        send_due_reminders(MONDAY_10AM - timedelta(minutes=5))
        assert mailbox.messages == []
        for minutes in (1, 30, 200):
            send_due_reminders(MONDAY_10AM + timedelta(minutes=minutes))
    [mail] = mailbox.messages
    assert mail["To"] == "bob@example.com" and mail["Subject"] == "This week with Alice"
    assert (
        mail["List-Unsubscribe"] and mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    )
    body = mail.get_body(("plain",)).get_content()
    assert "Weeks with the massage goal met: 3 of 4." in body
    assert "Last week's goal was met." in body
    assert "Pain was clearly lower afterwards for 3 of 3 massages." in body
    assert "SECRET-NOTE" not in body and "Last massage recorded" not in body


def test_the_digest_names_the_last_session_only_with_the_sessions_scope(
    app, as_alice, as_bob, alice, bob, mailbox
):
    confirm_address(app, bob.id)
    as_alice.post("/sessions", session_body(started_at=iso(MONDAY_10AM - timedelta(days=3))))
    share_with(as_alice, as_bob, ["sessions", "digest"])
    backdate_shares(app)
    with app.app_context():
        send_due_reminders(MONDAY_10AM + timedelta(minutes=1))
    [mail] = mailbox.messages
    body = mail.get_body(("plain",)).get_content()
    assert "Last massage recorded: November 13, 2026." in body
    assert "Pain was" not in body  # relief needs `progress`


def test_no_digest_without_the_scope_or_a_confirmed_address(
    app, as_alice, as_bob, alice, bob, mailbox
):
    share = share_with(as_alice, as_bob, ["digest"])
    backdate_shares(app)
    with app.app_context():
        send_due_reminders(MONDAY_10AM + timedelta(minutes=1))
    assert mailbox.messages == []
    confirm_address(app, bob.id)
    as_alice.patch(f"/shares/{share['id']}", {"scopes": ["progress"]})
    with app.app_context():
        send_due_reminders(MONDAY_10AM + timedelta(minutes=2))
    assert mailbox.messages == []


def test_the_digest_is_in_the_caregivers_language_and_one_click_stops_it(
    app, as_alice, as_bob, alice, bob, mailbox
):
    from urllib.parse import urlsplit

    confirm_address(app, bob.id)
    assert as_bob.patch("/me", {"language": "fr-CA"}).status_code == 200
    share_with(as_alice, as_bob, ["digest"])
    backdate_shares(app)
    with app.app_context():
        send_due_reminders(MONDAY_10AM + timedelta(minutes=1))
    [mail] = mailbox.messages
    assert mail["Content-Language"] == "fr-CA"
    body = mail.get_body(("plain",)).get_content()
    assert "Bonjour Bob," in body and "Ouvrir la page de Alice" in body
    # The mail provider's one click: no cookie, no CSRF token; no digest the next week.
    path = urlsplit(mail["List-Unsubscribe"].strip().strip("<>")).path
    provider = app.test_client()
    assert provider.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    mailbox.clear()
    with app.app_context():
        send_due_reminders(MONDAY_10AM + timedelta(days=7, minutes=1))
    assert mailbox.messages == []


# Encouragements


def test_an_encouragement_reaches_a_patient_without_a_phone_by_mail_in_her_language(
    app, as_alice, as_bob, alice, mailbox
):
    from pnapp.reminders.instant import wait_idle

    confirm_address(app, alice.id)
    share_with(as_alice, as_bob, ["progress"])
    sent = as_bob.post(f"/patients/{alice.id}/encouragements", {"message": "drive"})
    assert sent.status_code == 201
    wait_idle(app)
    [mail] = mailbox.messages
    assert mail["To"] == "alice@example.com" and mail["Subject"] == "Bob sent you a kind word"
    body = mail.get_body(("plain",)).get_content()
    assert "Bob says:" in body and "I can drive you to your next massage. Just ask." in body
    assert mail["List-Unsubscribe"]


def test_a_caregiver_sends_one_encouragement_a_day_and_the_patient_sees_it(
    app, as_alice, as_bob, alice, push_service
):
    sub = push_service.subscriber("alice-phone")
    as_alice.post("/push/subscriptions", sub.subscription())
    presets = as_bob.get("/encouragements").get_json()["items"]
    assert {
        "key": "thinking_of_you",
        "text": "Thinking of you. Enjoy your massage this week.",
    } in presets
    share_with(as_alice, as_bob, ["progress"])
    sent = as_bob.post(f"/patients/{alice.id}/encouragements", {"message": "thinking_of_you"})
    assert sent.status_code == 201
    again = as_bob.post(f"/patients/{alice.id}/encouragements", {"message": "proud"})
    assert again.status_code == 429 and again.get_json()["error"]["code"] == "rate_limited"
    assert 0 < int(again.headers["Retry-After"]) <= 24 * 3600
    from pnapp.reminders.instant import wait_idle

    wait_idle(app)
    [message] = push_service.messages
    assert message.payload["notification"]["body"] == "Bob sent you a kind word. Tap to read it."
    home = text(as_alice.client.get("/"))
    assert "Thinking of you. Enjoy your massage this week." in home and "From Bob" in home


def test_encouragements_can_be_turned_off_and_need_a_share(app, as_alice, as_bob, alice, charlie):
    assert (
        as_bob.post(f"/patients/{alice.id}/encouragements", {"message": "proud"}).status_code == 404
    )
    share_with(as_alice, as_bob, ["alerts"])
    assert (
        as_bob.post(f"/patients/{alice.id}/encouragements", {"message": "nope"}).status_code == 422
    )
    from tests.test_pages import html, token

    page = as_alice.client.get("/share")
    # The page's own form, with its box unticked.
    as_alice.client.post("/share/encouragements", data={"csrf_token": token(html(page))})
    with app.app_context():
        assert db.session.get(User, alice.id).encouragements is False
    assert (
        as_bob.post(f"/patients/{alice.id}/encouragements", {"message": "proud"}).status_code == 201
    )
    assert "From Bob" not in text(as_alice.client.get("/"))
    with app.app_context():
        assert db.session.query(Delivery).filter_by(kind="encouragement").count() == 0


# Recording on the patient's behalf


def test_a_caregiver_with_record_enters_a_session_and_can_never_delete_it(
    app, as_alice, as_bob, alice, bob
):
    share_with(as_alice, as_bob, ["record"])
    made = as_bob.post(f"/patients/{alice.id}/sessions", session_body())
    assert made.status_code == 201
    session = made.get_json()
    assert session["entered_by"] == bob.id and session["notes"] is None
    after = as_bob.patch(
        f"/patients/{alice.id}/sessions/{session['id']}", {"after": {"pain": 1, "stress": 1}}
    )
    assert after.status_code == 200 and after.get_json()["change"]["pain"] is not None
    mine = as_alice.get(f"/sessions/{session['id']}").get_json()
    assert mine["entered_by"] == bob.id
    # Never delete, never read, never write notes blind.
    assert as_bob.delete(f"/sessions/{session['id']}").status_code == 403
    assert as_bob.get(f"/patients/{alice.id}/sessions").status_code == 404
    blind = as_bob.patch(f"/patients/{alice.id}/sessions/{session['id']}", {"notes": "x"})
    assert blind.status_code == 422
    assert as_alice.get(f"/sessions/{session['id']}").get_json()["notes"] == mine["notes"]
    # Alice's own sessions stay out of reach without `sessions`: not even a PATCH shows one.
    hers = as_alice.post("/sessions", session_body()).get_json()
    peek = as_bob.patch(f"/patients/{alice.id}/sessions/{hers['id']}", {})
    assert peek.status_code == 404 and "before" not in peek.get_data(as_text=True)


def test_what_a_caregiver_entered_says_so_in_the_csv_and_the_fhir_bundle(
    app, as_alice, as_bob, alice, bob
):
    import csv
    import io

    from tests.test_exports import validate

    share_with(as_alice, as_bob, ["record"])
    as_alice.post("/sessions", session_body(started_at=iso(datetime(2026, 11, 2, 15, tzinfo=UTC))))
    as_bob.post(
        f"/patients/{alice.id}/sessions",
        session_body(started_at=iso(datetime(2026, 11, 9, 15, tzinfo=UTC))),
    )
    rows = list(
        csv.DictReader(
            io.StringIO(as_alice.client.get("/api/v1/export/sessions.csv").get_data(as_text=True))
        )
    )
    assert [r["entered_by"] for r in rows] == ["", "Bob"]
    bundle = as_alice.get("/export/fhir").get_json()
    validate(bundle)
    resources = [e["resource"] for e in bundle["entry"]]
    [helper] = [r for r in resources if r["resourceType"] == "RelatedPerson"]
    assert helper["name"] == [{"text": "Bob"}]
    helper_ref = next(
        e["fullUrl"] for e in bundle["entry"] if e["resource"] is helper or e["resource"] == helper
    )
    [provenance] = [r for r in resources if r["resourceType"] == "Provenance"]
    assert provenance["agent"][0]["who"] == {"reference": helper_ref}
    assert provenance["agent"][0]["type"]["coding"][0]["code"] == "enterer"
    by_bob = [
        r
        for r in resources
        if r["resourceType"] == "Observation" and r["performer"] == [{"reference": helper_ref}]
    ]
    assert len(by_bob) == 2 and len(provenance["target"]) == 3  # the procedure and its ratings
    from tests.test_exports import pdf_text

    report, _ = pdf_text(as_alice.client.get("/api/v1/export/report.pdf").get_data())
    assert "1 session was entered for Alice by Bob." in report


def test_the_record_page_saves_what_the_patient_says_and_her_history_names_who_entered_it(
    app, as_alice, as_bob, alice
):
    from tests.test_pages import Browser

    share_with(as_alice, as_bob, ["progress", "record"])
    bob = Browser(as_bob.client)
    assert "Record a session for Alice" in text(as_bob.client.get(f"/care/{alice.id}"))
    refused = bob.submit(f"/care/{alice.id}/record", {"before.pain": "3"})
    assert refused.status_code == 422 and as_alice.get("/sessions").get_json()["items"] == []
    saved = bob.submit(
        f"/care/{alice.id}/record",
        {"before.pain": "6", "before.stress": "5", "after.pain": "3", "after.stress": "2"},
    )
    assert "Saved for Alice." in text(saved)
    [session] = as_alice.get("/sessions").get_json()["items"]
    assert (session["before"]["pain"], session["after"]["pain"]) == (6, 3)
    assert "entered by Bob" in text(as_alice.client.get("/history"))
    assert "entered by Bob" in text(as_alice.client.get(f"/sessions/{session['id']}"))
