"""Caregivers: invited once, see only what they were given, and lose it at once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from pnapp.extensions import db
from pnapp.models import CareShare, Delivery, Invite, User, hash_token
from pnapp.reminders import send_due_reminders
from tests.conftest import Api, invite, make_user, share_with
from tests.helpers import iso, session_body
from tests.test_pages import text


def test_an_invitation_is_a_one_time_link_stored_only_as_a_hash(app, as_alice, alice):
    response = as_alice.post("/shares/invites", {})
    assert response.status_code == 201
    body = response.get_json()
    assert "/invite/" in body["invite_url"] and body["expires_at"].endswith("Z")
    token = body["invite_url"].rsplit("/", 1)[-1]
    assert len(token) >= 40
    with app.app_context():
        stored = db.session.query(Invite).one()
        assert stored.token_hash == hash_token(token) and token not in str(stored.__dict__)
        assert stored.scopes == ["progress", "alerts"]  # the default
        expires = stored.expires_at - stored.created_at
        assert timedelta(days=7) - timedelta(seconds=5) < expires <= timedelta(days=7)


def test_a_caregiver_accepts_once_and_sees_the_share_from_both_sides(as_alice, as_bob, alice, bob):
    token = invite(as_alice, scopes=["progress", "sessions"], expires_in_days=2)
    share = as_bob.post("/shares/accept", {"token": token}).get_json()
    assert share["patient"] == {"id": alice.id, "display_name": "Alice"}
    assert share["caregiver"] == {"id": bob.id, "display_name": "Bob"}
    assert share["scopes"] == ["progress", "sessions"]
    again = as_bob.post("/shares/accept", {"token": token})
    assert again.status_code == 410 and again.get_json()["error"]["code"] == "gone"
    assert as_alice.get("/shares").get_json()["items"] == [share]
    assert as_bob.get("/shares").get_json()["items"] == [share]


def test_an_expired_unknown_or_patients_own_acceptance_changes_nothing(
    app, as_alice, as_bob, alice
):
    token = invite(as_alice)
    assert as_alice.post("/shares/accept", {"token": token}).status_code == 403
    assert as_bob.post("/shares/accept", {"token": "no-such-token"}).status_code == 404
    with app.app_context():
        db.session.query(Invite).update({"expires_at": datetime.now(UTC) - timedelta(minutes=1)})
        db.session.commit()
    assert as_bob.post("/shares/accept", {"token": token}).status_code == 410
    with app.app_context():
        assert db.session.query(CareShare).count() == 0
        assert db.session.query(Invite).one().used_at is None


@pytest.mark.parametrize(
    "body",
    [
        {"scopes": ["everything"]},
        {"scopes": ["notes", "notes"]},
        {"expires_in_days": 0},
        {"expires_in_days": 31},
        {"scopes": "progress"},
        {"note": "x"},
    ],
)
def test_invalid_invitations_are_refused(as_alice, body):
    assert as_alice.post("/shares/invites", body).status_code == 422


def test_only_patients_invite(as_bob):
    assert as_bob.post("/shares/invites", {}).status_code == 403


def test_scopes_decide_what_a_caregiver_sees(as_alice, as_bob, alice):
    as_alice.post("/sessions", session_body(notes="private words", after={"pain": 2, "stress": 2}))
    share = share_with(as_alice, as_bob, ["progress"])
    assert as_bob.get(f"/patients/{alice.id}/progress").status_code == 200
    assert as_bob.get(f"/patients/{alice.id}/sessions").status_code == 404
    as_alice.patch(f"/shares/{share['id']}", {"scopes": ["sessions"]})
    assert as_bob.get(f"/patients/{alice.id}/progress").status_code == 404
    sessions = as_bob.get(f"/patients/{alice.id}/sessions").get_json()["items"]
    assert sessions[0]["before"]["pain"] == 6 and sessions[0]["notes"] is None
    as_alice.patch(f"/shares/{share['id']}", {"scopes": ["sessions", "notes"]})
    assert as_bob.get(f"/patients/{alice.id}/sessions").get_json()["items"][0]["notes"] == (
        "private words"
    )


def test_a_caregiver_cannot_change_scopes_or_anything_of_the_patients(as_alice, as_bob, alice):
    s = as_alice.post("/sessions", session_body()).get_json()
    share = share_with(as_alice, as_bob, ["progress", "sessions", "notes", "alerts"])
    assert as_bob.patch(f"/shares/{share['id']}", {"scopes": ["notes"]}).status_code == 403
    assert as_bob.patch(f"/sessions/{s['id']}", {"notes": "x"}).status_code == 403
    assert as_bob.delete(f"/sessions/{s['id']}").status_code == 403
    assert as_bob.post("/sessions", session_body()).status_code == 403
    assert as_alice.get(f"/sessions/{s['id']}").get_json() == s


@pytest.mark.parametrize("who_ends", ["patient", "caregiver"])
def test_ending_a_share_ends_access_at_once(as_alice, as_bob, alice, who_ends, app):
    share = share_with(as_alice, as_bob, ["progress", "sessions"])
    ender = as_alice if who_ends == "patient" else as_bob
    assert ender.delete(f"/shares/{share['id']}").status_code == 204
    assert as_bob.get(f"/patients/{alice.id}/progress").status_code == 404
    assert as_bob.get(f"/patients/{alice.id}/sessions").status_code == 404
    assert as_bob.get("/shares").get_json()["items"] == []
    # Bob is told who ended it and when, instead of a bare "not found", and sees no data.
    page = as_bob.client.get(f"/care/{alice.id}")
    said = text(page)
    assert page.status_code == 404 and "Weeks kept" not in said
    ended = "Alice stopped sharing on" if who_ends == "patient" else "You stopped following Alice"
    assert ended in said
    assert ended in text(as_bob.client.get("/care"))


def test_a_stranger_cannot_touch_a_share(as_alice, as_bob, app):
    share = share_with(as_alice, as_bob, ["progress"])
    carol = make_user(app, "carol@example.com", "caregiver")
    as_carol = Api(app.test_client()).login(carol.email)
    assert as_carol.delete(f"/shares/{share['id']}").status_code == 404
    assert as_carol.patch(f"/shares/{share['id']}", {"scopes": []}).status_code == 404


def test_the_caregiver_pages_show_this_week_and_only_what_is_shared(as_alice, as_bob, alice):
    as_alice.post("/sessions", session_body(notes="private words", after={"pain": 2, "stress": 2}))
    share = share_with(as_alice, as_bob, ["progress"])
    listing = as_bob.client.get("/care").get_data(as_text=True)
    assert "Alice" in listing and "1 of 1 this week" in listing
    page = as_bob.client.get(f"/care/{alice.id}").get_data(as_text=True)
    assert "Weeks kept" in page and "Recent sessions" not in page
    assert "private words" not in page
    as_alice.patch(f"/shares/{share['id']}", {"scopes": ["sessions"]})
    page = as_bob.client.get(f"/care/{alice.id}").get_data(as_text=True)
    assert "Recent sessions" in page and "Weeks kept" not in page
    assert "private words" not in page


def test_the_invitation_page_leads_a_new_caregiver_through_sign_up(app, as_alice):
    from tests.test_pages import Browser, text

    token = invite(as_alice)
    browser = Browser(app.test_client())
    landing = text(browser.get(f"/invite/{token}"))
    # Spoken to the caregiver, about Alice: not in Alice's own words ("My notes").
    assert "Alice invites you" in landing
    assert "Alice would like you to see: how many weeks they kept" in landing
    assert "an alert when they miss a week" in landing and "I miss" not in landing
    signed_up = browser.submit(
        f"/register?next=/invite/{token}&role=caregiver",
        {
            "display_name": "Bea",
            "email": "bea@example.com",
            "password": "long enough pw",
            "role": "caregiver",
            "timezone": "America/Toronto",
        },
        follow=False,
    )
    assert signed_up.location == f"/invite/{token}"
    accepted = browser.submit(f"/invite/{token}", {})
    assert "You can now follow Alice" in text(accepted)
    assert browser.get(f"/invite/{token}").status_code == 410
    assert browser.get("/invite/unknown-token").status_code == 404


def test_the_share_page_makes_a_link_with_a_qr_code_and_manages_caregivers(app, as_alice, as_bob):
    from tests.test_pages import Browser, html, text, token

    browser = Browser(app.test_client())
    browser.submit("/login", {"email": "alice@example.com", "password": "correct horse battery"})
    made = browser.submit("/share", {"scopes": ["progress", "notes"], "days": "1"})
    assert made.status_code == 201
    assert 'class="segno"' in html(made) and "/invite/" in html(made)  # the QR code
    with app.app_context():
        assert db.session.query(Invite).one().scopes == ["progress", "notes"]
    share_with(as_alice, as_bob, ["progress"])
    page = text(browser.get("/share"))
    assert "Bob" in page
    share_id = as_alice.get("/shares").get_json()["items"][0]["id"]
    ended = browser.client.post(
        f"/share/{share_id}",
        data={"csrf_token": token(html(made)), "action": "end"},
        follow_redirects=True,
    )
    assert "Sharing with Bob has ended." in text(ended)
    assert as_bob.get("/shares").get_json()["items"] == []


def test_a_caregiver_with_alerts_hears_once_when_a_week_is_missed(
    app, as_alice, as_bob, alice, push_service
):
    share = share_with(as_alice, as_bob, ["alerts"])
    sub = push_service.subscriber("bob-phone")
    assert as_bob.post("/push/subscriptions", sub.subscription()).status_code == 201
    with app.app_context():
        db.session.query(CareShare).update({"created_at": datetime(2026, 11, 1, tzinfo=UTC)})
        db.session.commit()
    # Alice (Toronto) had no session in the week of 9-15 November 2026.
    monday_9am = datetime(2026, 11, 16, 14, tzinfo=UTC)
    with app.app_context():
        send_due_reminders(monday_9am - timedelta(minutes=5))
        assert push_service.messages == []
        for minutes in (1, 5, 90):
            send_due_reminders(monday_9am + timedelta(minutes=minutes))
    [message] = push_service.messages
    note = message.payload["notification"]
    assert note["body"] == "Alice has no session recorded for last week."
    assert note["navigate"].endswith(f"/care/{alice.id}")
    with app.app_context():
        [d] = db.session.query(Delivery).all()
        assert (d.kind, d.period, d.state) == (
            "caregiver_missed_week",
            f"{alice.id}:2026-W46",
            "sent",
        )
    assert share["scopes"] == ["alerts"]


def test_no_alert_for_a_kept_week_or_without_the_alerts_scope(
    app, as_alice, as_bob, alice, push_service
):
    share = share_with(as_alice, as_bob, ["progress"])
    sub = push_service.subscriber("bob-phone")
    as_bob.post("/push/subscriptions", sub.subscription())
    with app.app_context():
        db.session.query(CareShare).update({"created_at": datetime(2026, 11, 1, tzinfo=UTC)})
        db.session.commit()
    monday_9am = datetime(2026, 11, 16, 14, tzinfo=UTC)
    with app.app_context():
        send_due_reminders(monday_9am + timedelta(minutes=1))
    assert push_service.messages == []
    as_alice.patch(f"/shares/{share['id']}", {"scopes": ["alerts"]})
    as_alice.post("/sessions", session_body(started_at=iso(datetime(2026, 11, 12, 15, tzinfo=UTC))))
    with app.app_context():
        send_due_reminders(monday_9am + timedelta(minutes=2))
        assert db.session.get(User, alice.id).weekly_goal == 1
    assert push_service.messages == []


def ten_sessions_with_a_therapist(as_alice) -> list[datetime]:
    """Ten rated sessions in the last five weeks, five of them with Dana (enough for the
    "what seems to help" comparison, which needs five a side), never on a Monday (the
    calendar and the weekly trend name Mondays)."""
    dana = as_alice.post("/therapists", {"name": "Dana Kowalski"}).get_json()
    now = datetime.now(UTC).replace(hour=15, minute=0, second=0, microsecond=0)
    days = [d for d in (now - timedelta(days=n) for n in range(1, 36)) if d.weekday() != 0][::3]
    for i, day in enumerate(days[:10]):
        extra = {"therapist_id": dana["id"]} if i % 2 else {}
        body = session_body(started_at=iso(day), after={"pain": 1 + i % 2, "stress": 2}, **extra)
        assert as_alice.post("/sessions", body).status_code == 201
    return days[:10]


def session_days(app, days: list[datetime]) -> list[str]:
    from pnapp.labels import date_words
    from pnapp.timeutil import zone

    with app.test_request_context():
        return [date_words(d.astimezone(zone("America/Toronto")), "MMMd") for d in days]


def test_a_caregiver_with_the_default_scopes_sees_aggregates_but_no_single_session(
    app, as_alice, as_bob, alice
):
    days = session_days(app, ten_sessions_with_a_therapist(as_alice))
    share = share_with(as_alice, as_bob, ["progress", "alerts"])
    page = as_bob.client.get(f"/care/{alice.id}").get_data(as_text=True)
    assert "Weeks kept" in page and "Relief after a session" in page
    assert "6.0 before, 1.5 after on average (10 sessions)" in page
    assert "Dana Kowalski" not in page
    assert '<svg class="chart"' not in page and "Pain as a table" not in page
    # As whole words: "Nov 1" must not be found inside a Monday's "Nov 16, 2026".
    assert not [day for day in days if re.search(rf"\b{re.escape(day)}\b", page)]
    progress = as_bob.get(f"/patients/{alice.id}/progress").get_json()
    assert progress["relief"]["pain"]["n_paired"] == 10
    assert "Dana" not in str(progress) and "started_at" not in str(progress)
    assert as_bob.get(f"/patients/{alice.id}/sessions").status_code == 404
    assert as_bob.get(f"/export/sessions.csv?patient_id={alice.id}").status_code == 404
    assert as_bob.get(f"/export/report.pdf?patient_id={alice.id}").status_code == 404

    as_alice.patch(f"/shares/{share['id']}", {"scopes": ["progress", "sessions"]})
    page = as_bob.client.get(f"/care/{alice.id}").get_data(as_text=True)
    assert "Dana Kowalski" in page and '<svg class="chart"' in page and "Pain as a table" in page
    assert all(day in page for day in days)
    sessions = as_bob.get(f"/patients/{alice.id}/sessions").get_json()["items"]
    assert len(sessions) == 10 and sessions[0]["after"]["pain"] in (1, 2)


def test_a_patient_lists_and_cancels_the_invitations_not_yet_used(
    app, as_alice, as_bob, as_charlie
):
    used = invite(as_alice)
    as_bob.post("/shares/accept", {"token": used})
    expired = invite(as_alice)
    with app.app_context():
        db.session.query(Invite).filter(Invite.token_hash == hash_token(expired)).update(
            {"expires_at": datetime.now(UTC) - timedelta(minutes=1)}
        )
        db.session.commit()
    pending = invite(as_alice, scopes=["progress", "notes"], expires_in_days=3)
    [item] = as_alice.get("/shares/invites").get_json()["items"]
    assert set(item) == {"id", "scopes", "created_at", "expires_at"}
    assert item["scopes"] == ["progress", "notes"] and item["expires_at"].endswith("Z")
    assert as_charlie.get("/shares/invites").get_json() == {"items": []}
    refused = as_charlie.delete(f"/shares/invites/{item['id']}")
    assert refused.status_code == 404 and refused.get_json()["error"]["code"] == "not_found"
    assert as_bob.delete(f"/shares/invites/{item['id']}").status_code == 403
    assert as_bob.get("/shares/invites").status_code == 403

    assert as_alice.delete(f"/shares/invites/{item['id']}").status_code == 204
    assert as_alice.get("/shares/invites").get_json() == {"items": []}
    assert as_alice.delete(f"/shares/invites/{item['id']}").status_code == 404
    carol = make_user(app, "carol@example.com", "caregiver")
    as_carol = Api(app.test_client()).login(carol.email)
    assert as_carol.post("/shares/accept", {"token": pending}).status_code == 410
    assert as_carol.get("/shares").get_json() == {"items": []}


@pytest.mark.parametrize("change", ["narrow", "patient_ends", "caregiver_ends"])
def test_narrowing_or_ending_a_share_voids_the_unused_invitations(app, as_alice, as_bob, change):
    share = share_with(as_alice, as_bob, ["progress", "sessions"])
    waiting = invite(as_alice, scopes=["progress", "sessions", "notes"])
    if change == "narrow":
        assert as_alice.patch(f"/shares/{share['id']}", {"scopes": ["progress"]}).status_code == 200
    else:
        ender = as_alice if change == "patient_ends" else as_bob
        assert ender.delete(f"/shares/{share['id']}").status_code == 204
    assert as_alice.get("/shares/invites").get_json() == {"items": []}
    answer = as_bob.post("/shares/accept", {"token": waiting})
    assert answer.status_code == 410 and answer.get_json()["error"]["code"] == "gone"
    expected = [["progress"]] if change == "narrow" else []
    assert [s["scopes"] for s in as_bob.get("/shares").get_json()["items"]] == expected


def test_widening_a_share_keeps_the_invitations_waiting(as_alice, as_bob):
    share = share_with(as_alice, as_bob, ["progress"])
    invite(as_alice)
    as_alice.patch(f"/shares/{share['id']}", {"scopes": ["progress", "alerts"]})
    assert len(as_alice.get("/shares/invites").get_json()["items"]) == 1


def test_an_invitation_never_widens_a_share_the_caregiver_already_has(app, as_alice, as_bob):
    from tests.test_pages import text

    share_with(as_alice, as_bob, ["progress"])
    wider = invite(as_alice, scopes=["progress", "sessions", "notes"])
    answer = as_bob.post("/shares/accept", {"token": wider})
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "conflict"
    page = as_bob.client.post(f"/invite/{wider}", data={"csrf_token": as_bob.csrf_token()})
    assert page.status_code == 409
    assert "You already follow this person" in text(page)
    [share] = as_bob.get("/shares").get_json()["items"]
    assert share["scopes"] == ["progress"]


def test_a_deleted_account_leaves_no_invitation_that_works(app, as_alice, as_bob):
    waiting = invite(as_alice)
    assert as_alice.delete("/me", {"password": "correct horse battery"}).status_code == 204
    assert as_bob.post("/shares/accept", {"token": waiting}).status_code == 404
    with app.app_context():
        assert db.session.query(Invite).count() == 0


def test_two_invitations_accepted_at_once_make_one_share_and_a_conflict(app, alice, bob):
    """Both requests find no share and insert one; the UNIQUE(patient, caregiver) constraint
    stops the second. On PostgreSQL a transaction of the test's own holds that row until
    both requests wait on it, so the race happens every run."""
    import threading
    import time

    from sqlalchemy import text as sql

    as_alice = Api(app.test_client()).login(alice.email)
    tokens = [invite(as_alice, scopes=["progress"]), invite(as_alice, scopes=["sessions"])]
    clients = [Api(app.test_client()).login(bob.email) for _ in tokens]
    csrf = [c.csrf_token() for c in clients]
    answers = []

    def accept(client, csrf_token, token):
        answers.append(
            client.post("/shares/accept", {"token": token}, headers={"X-CSRFToken": csrf_token})
        )

    threads = [
        threading.Thread(target=accept, args=args)
        for args in zip(clients, csrf, tokens, strict=True)
    ]
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite takes its one write lock at BEGIN IMMEDIATE, so the two acceptances queue
        # whole, one after the other; holding the lock here would only test the busy timeout.
        for t in threads:
            t.start()
    else:
        with app.app_context():
            with db.engine.connect() as conn:
                blocker = conn.begin()
                conn.execute(
                    sql(
                        "INSERT INTO care_shares (patient_id, caregiver_id, scopes, created_at) "
                        "VALUES (:p, :c, '[]', :now)"
                    ),
                    {"p": alice.id, "c": bob.id, "now": datetime.now(UTC)},
                )
                for t in threads:
                    t.start()
                time.sleep(1.0)  # both requests now wait on this transaction
                blocker.rollback()
    for t in threads:
        t.join(60)
    assert sorted(a.status_code for a in answers) == [201, 409], [a.get_json() for a in answers]
    conflict = next(a for a in answers if a.status_code == 409).get_json()
    assert conflict["error"]["code"] == "conflict"
    [share] = as_alice.get("/shares").get_json()["items"]
    won = next(a for a in answers if a.status_code == 201).get_json()
    assert share == won and len(as_alice.get("/shares/invites").get_json()["items"]) == 1


def test_the_share_page_lists_waiting_invitations_and_cancels_one(app, as_alice, as_bob):
    from tests.test_pages import Browser, html, text, token

    browser = Browser(app.test_client())
    browser.submit("/login", {"email": "alice@example.com", "password": "correct horse battery"})
    browser.submit("/share", {"scopes": ["progress"], "days": "1"})
    link = invite(as_alice)
    page = browser.get("/share")
    assert "Invitations not yet used" in text(page)
    assert text(page).count("Cancel") == 2
    [first_id, second_id] = [i["id"] for i in as_alice.get("/shares/invites").get_json()["items"]]
    cancelled = browser.client.post(
        f"/share/invites/{second_id}/cancel",
        data={"csrf_token": token(html(page))},
        follow_redirects=True,
    )
    assert "The invitation was cancelled" in text(cancelled)
    assert [i["id"] for i in as_alice.get("/shares/invites").get_json()["items"]] == [first_id]
    assert as_bob.post("/shares/accept", {"token": link}).status_code == 410
    refused = browser.client.post(f"/share/invites/{second_id}/cancel", data={})
    assert refused.status_code == 400


def test_invitation_links_use_the_public_address_not_the_host_asked_for(app, alice):
    from flask.testing import FlaskClient

    class ForgedHost(FlaskClient):
        def open(self, *args, **kwargs):
            kwargs.setdefault("base_url", "http://evil.example")
            return super().open(*args, **kwargs)

    forged = ForgedHost(app, app.response_class, use_cookies=True)
    as_alice = Api(forged).login(alice.email)
    body = as_alice.post("/shares/invites", {}).get_json()
    assert body["invite_url"].startswith(app.config["PUBLIC_URL"].rstrip("/") + "/invite/")
    from tests.test_pages import Browser, html

    browser = Browser(forged)
    made = html(browser.submit("/share", {"scopes": ["progress"], "days": "1"}))
    assert app.config["PUBLIC_URL"].rstrip("/") + "/invite/" in made
    assert "evil" not in body["invite_url"] and "evil.example/invite" not in made
