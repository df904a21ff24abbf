"""Recording sessions without network, on a phone with pnapp's service worker running:
every entry waits on the phone, is shown as waiting, and reaches the server exactly once,
as the person who entered it, whatever the network, the server or other tabs do."""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select

from pnapp.extensions import db
from pnapp.models import MassageSession
from tests.browser.test_pwa import wait_for_service_worker
from tests.browser.test_record_session import log_in
from tests.conftest import PASSWORD, make_user
from tests.helpers import session_body

CLIENT_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
SAVED_OFFLINE = "Saved on this phone. It will be sent when you are back online."


# Fixtures and helpers


def log_out(page: Page) -> None:
    page.goto("/settings")
    page.get_by_role("button", name="Log out", exact=True).tap()
    expect(page.get_by_text("You are logged out.")).to_be_visible()


def first_visit(page: Page, email: str) -> None:
    """Logged in, with the service worker in control: from here on the app works offline."""
    log_in(page, email)
    wait_for_service_worker(page)


def tap_rating(page: Page, form: str, measure: str, value: int) -> None:
    """Tap the tile drawn by the label: the radio input itself is visually hidden."""
    page.locator(f'label[for="{form}-{measure}-{value}"]').tap()


def record_offline(page: Page, pain: int, stress: int) -> str:
    """Before ratings on /sessions/new without network; returns the entry's client_id."""
    page.goto("/sessions/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Before your massage")
    tap_rating(page, "before", "pain", pain)
    tap_rating(page, "before", "stress", stress)
    page.get_by_role("button", name="Save").tap()
    expect(page).to_have_url(re.compile(rf"/sessions/new\?after=({CLIENT_ID})$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("After your massage")
    expect(page.get_by_role("status")).to_have_text(SAVED_OFFLINE)
    return page.url.rsplit("=", 1)[1]


def rate_after(page: Page, pain: int, stress: int) -> None:
    tap_rating(page, "after", "pain", pain)
    tap_rating(page, "after", "stress", stress)
    page.get_by_role("button", name="Save").tap()


def rows(app, user_id: int) -> list[tuple]:
    """(client_id, before pain, before stress, after pain, after stress) of each of the
    patient's sessions in the database, oldest first."""
    with app.app_context():
        sessions = db.session.scalars(
            select(MassageSession)
            .where(MassageSession.patient_id == user_id)
            .order_by(MassageSession.id)
        ).all()
        found = [
            (s.client_id, s.before_pain, s.before_stress, s.after_pain, s.after_stress)
            for s in sessions
        ]
        db.session.remove()
    return found


def all_rows(app) -> int:
    with app.app_context():
        count = len(db.session.scalars(select(MassageSession.id)).all())
        db.session.remove()
    return count


def wait_until(page: Page, condition, timeout: float = 60, what: str = "") -> None:
    """Polls `condition()` (with the browser's event loop running) for at most `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        page.wait_for_timeout(100)


def outbox(page: Page) -> list[dict]:
    """What waits on the phone (the IndexedDB outbox), as the page reads it. The page may be
    navigating (a save moves on to the next page): then it is read on the new page."""
    for _ in range(5):
        try:
            # A new page has its heading before its deferred scripts have run.
            page.wait_for_function("() => self.pnOutbox !== undefined")
            return page.evaluate("pnOutbox.all()")
        except PlaywrightError as err:
            if not any(m in str(err) for m in ("context was destroyed", "is not defined")):
                raise
            page.wait_for_load_state("load")
    return page.evaluate("pnOutbox.all()")


def waiting_text(n: int) -> str:
    if n == 1:
        return "1 session is saved on this phone, waiting to sync."
    return f"{n} sessions are saved on this phone, waiting to sync."


class SessionPosts:
    """Sees every POST /api/v1/sessions, from the pages and from the service worker (the
    context's routes cover both), and answers the first `fail_first` of them with 500.
    With `stored=True` the failed ones reach the server first: the answer is lost on its
    way back, as when a proxy times out after the database committed."""

    def __init__(self, context: BrowserContext, fail_first: int = 0, stored: bool = False):
        self.fail_first, self.stored = fail_first, stored
        self.seen: list[tuple[str, str, int]] = []  # (client_id, page or worker, status)
        context.route("**/api/v1/sessions", self._handle)

    def _handle(self, route: Route) -> None:
        request = route.request
        if request.method != "POST":
            route.continue_()
            return
        client_id = request.post_data_json["client_id"]
        sender = "worker" if request.service_worker else "page"
        if len([s for s in self.seen if s[2] == 500]) < self.fail_first:
            if self.stored:
                route.fetch()
            self.seen.append((client_id, sender, 500))
            route.fulfill(
                status=500,
                json={"error": {"status": 500, "code": "internal", "message": "Try again."}},
            )
            return
        response = route.fetch()
        self.seen.append((client_id, sender, response.status))
        route.fulfill(response=response)

    def per_client(self) -> Counter:
        return Counter(client_id for client_id, _, _ in self.seen)


# 6. Ten sessions offline


def test_ten_sessions_recorded_offline_wait_on_the_phone_and_arrive_exactly_once(
    phone: Page, app, alice
):
    page, context = phone, phone.context
    first_visit(page, alice.email)
    context.set_offline(True)
    ratings = [(n, 10 - n) for n in range(10)]
    ids = [record_offline(page, pain, stress) for pain, stress in ratings]
    assert len(set(ids)) == 10

    page.goto("/offline")
    expect(page.get_by_role("heading", level=1)).to_have_text("You are offline")
    box = page.locator("#outbox")
    expect(box).to_contain_text(waiting_text(10))
    expect(box.get_by_text("(waiting to sync)")).to_have_count(10)
    expect(box.get_by_role("button", name="Sync now")).to_be_visible()
    page.goto("/sessions/new")
    expect(box).to_contain_text(waiting_text(10))
    assert rows(app, alice.id) == []

    context.set_offline(False)  # the page sends on "online"; the worker on Background Sync
    wait_until(page, lambda: len(rows(app, alice.id)) >= 10, what="10 sessions on the server")
    expect(box).to_be_hidden(timeout=30_000)
    wait_until(page, lambda: outbox(page) == [], what="an empty outbox")
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Before your massage")
    expect(box).to_be_hidden()
    assert sorted(rows(app, alice.id)) == sorted(
        (client_id, pain, stress, None, None)
        for client_id, (pain, stress) in zip(ids, ratings, strict=True)
    )
    page.goto("/history")
    expect(page.locator(".sessions > li")).to_have_count(10)


# 7. Server errors and flushes running at once


@pytest.mark.parametrize("stored", [False, True], ids=["server-failed", "answer-lost-after-commit"])
def test_a_server_error_and_concurrent_flushes_still_store_each_session_once(
    phone: Page, app, alice, stored
):
    page, context = phone, phone.context
    first_visit(page, alice.email)
    context.set_offline(True)
    ids = [record_offline(page, n, (n + 4) % 11) for n in range(10)]
    posts = SessionPosts(context, fail_first=1, stored=stored)

    # A second tab on the same phone, with its own outbox view and its own flushes.
    other = context.new_page()
    other.goto("/sessions/new")
    expect(other.locator("#outbox")).to_contain_text(waiting_text(10))
    page.goto("/sessions/new")
    expect(page.locator("#outbox")).to_contain_text(waiting_text(10))

    context.set_offline(False)  # both tabs flush on "online", the worker on Background Sync
    summaries = page.evaluate(
        "Promise.all([pnOutbox.flush({force: true}), pnOutbox.flush({force: true})])"
    )
    other.evaluate("pnOutbox.flush({force: true})")
    # The failed one is sent again by the page's retry 15 s after its sync left it waiting
    # (or by Background Sync): room for that on a busy machine.
    wait_until(page, lambda: outbox(page) == [], timeout=45, what="an empty outbox")
    for tab in (page, other):
        tab.reload()
        expect(tab.locator("#outbox")).to_be_hidden()

    found = rows(app, alice.id)
    assert sorted(r[0] for r in found) == sorted(ids), "each session exactly once"
    assert all_rows(app) == 10
    assert [s[2] for s in posts.seen].count(500) == 1
    failed = next(client_id for client_id, _, status in posts.seen if status == 500)
    # The one that failed was sent again (200 if it had been stored, else 201); the others
    # once each: the flushes take turns (navigator.locks) instead of sending twice.
    assert posts.per_client() == Counter({**dict.fromkeys(ids, 1), failed: 2}), posts.seen
    retry = [status for client_id, _, status in posts.seen if client_id == failed][-1]
    assert retry == (200 if stored else 201)
    assert sum(len(s["sent"]) for s in summaries) <= 10


# 8. A 401 keeps the entries


def test_when_the_login_has_expired_the_entries_stay_until_the_patient_logs_in_again(
    phone: Page, app, alice
):
    page, context = phone, phone.context
    first_visit(page, alice.email)
    context.set_offline(True)
    ids = [record_offline(page, 7, 6), record_offline(page, 5, 5)]
    page.goto("/sessions/new")

    context.clear_cookies()  # the login session is gone (expired, or iOS dropped it)
    context.set_offline(False)
    box = page.locator("#outbox")
    expect(box).to_contain_text(waiting_text(2))
    again = box.get_by_role("link", name="Log in again to send them.")
    expect(again).to_be_visible(timeout=30_000)
    page.evaluate("pnOutbox.flush({force: true})")  # another try changes nothing
    assert sorted(e["client_id"] for e in outbox(page)) == sorted(ids)
    assert rows(app, alice.id) == []

    again.tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    page.get_by_label("E-mail").fill(alice.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alice")
    wait_until(page, lambda: len(rows(app, alice.id)) >= 2, what="2 sessions on the server")
    wait_until(page, lambda: outbox(page) == [], what="an empty outbox")
    expect(page.locator("#outbox")).to_be_hidden()
    assert sorted(r[0] for r in rows(app, alice.id)) == sorted(ids)
    assert all_rows(app) == 2


# 9. Never sent as somebody else


def test_entries_made_by_one_patient_are_never_sent_as_another(phone: Page, app, alice):
    dora = make_user(app, "dora@example.com", "patient", "America/Toronto")
    page, context = phone, phone.context
    first_visit(page, alice.email)
    context.set_offline(True)
    ids = [record_offline(page, 8, 7), record_offline(page, 6, 6)]

    context.clear_cookies()
    context.set_offline(False)
    # Back online, the page finds nobody logged in. (A navigation right after set_offline may
    # still meet the worker offline, and get the offline page.)
    again = page.locator("#outbox").get_by_role("link", name="Log in again to send them.")
    expect(again).to_be_visible(timeout=30_000)
    log_in(page, dora.email)  # Dora borrows the phone
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Dora")
    expect(page.locator("#outbox")).to_be_hidden()  # Alice's entries are not shown to her
    page.wait_for_function("() => self.pnOutbox !== undefined")
    summary = page.evaluate("pnOutbox.flush({force: true})")
    assert summary["sent"] == []
    page.goto("/sessions/new")
    page.evaluate("pnOutbox.flush({force: true})")
    expect(page.locator("#outbox")).to_be_hidden()
    assert rows(app, dora.id) == []
    assert all_rows(app) == 0
    assert sorted(e["client_id"] for e in outbox(page)) == sorted(ids)
    assert {e["user"] for e in outbox(page)} == {str(alice.id)}

    log_out(page)
    log_in(page, alice.email)
    wait_until(page, lambda: len(rows(app, alice.id)) >= 2, what="Alice's 2 sessions")
    wait_until(page, lambda: outbox(page) == [], what="an empty outbox")
    assert sorted(r[0] for r in rows(app, alice.id)) == sorted(ids)
    assert rows(app, dora.id) == []


# 10. After ratings offline


def test_after_ratings_given_offline_travel_with_the_offline_session(phone: Page, app, alice):
    page, context = phone, phone.context
    first_visit(page, alice.email)
    posts = SessionPosts(context)
    context.set_offline(True)
    client_id = record_offline(page, 7, 6)
    rate_after(page, 3, 2)
    expect(page.get_by_text("Saved on this phone.", exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(SAVED_OFFLINE)
    entry = outbox(page)[0]
    assert entry["create"]["after"]["pain"] == 3 and entry["patch"] is None

    context.set_offline(False)
    wait_until(page, lambda: rows(app, alice.id) != [], what="the session on the server")
    wait_until(page, lambda: outbox(page) == [], what="an empty outbox")
    assert rows(app, alice.id) == [(client_id, 7, 6, 3, 2)]
    assert [(c, s) for c, _, s in posts.seen] == [(client_id, 201)], "one request: no PATCH"


@pytest.mark.parametrize("cold", [False, True], ids=["page-open", "opened-offline"])
def test_after_ratings_given_offline_for_a_session_started_online_arrive_as_a_patch(
    phone: Page, app, alice, as_alice, cold
):
    page, context = phone, phone.context
    first_visit(page, alice.email)
    created = as_alice.post("/sessions", session_body(before={"pain": 8, "stress": 7}))
    assert created.status_code == 201
    session_id = created.get_json()["id"]
    patches: list[tuple[str, dict]] = []

    def watch(route: Route) -> None:
        if route.request.method == "PATCH":
            patches.append((route.request.url, route.request.post_data_json))
        route.continue_()

    context.route(f"**/api/v1/sessions/{session_id}", watch)
    page.goto(f"/sessions/{session_id}")
    expect(page.get_by_text("Before, you rated pain 8 and stress 7.")).to_be_visible()
    context.set_offline(True)
    if cold:  # the page is opened again without network: the worker's shell stands in
        page.reload()
        expect(page.get_by_role("heading", level=1)).to_have_text("After your massage")
    rate_after(page, 4, 3)
    expect(page.get_by_text("Saved on this phone.", exact=True)).to_be_visible()
    assert rows(app, alice.id)[0][3:] == (None, None)

    context.set_offline(False)
    wait_until(page, lambda: rows(app, alice.id)[0][3:] == (4, 3), what="after ratings stored")
    wait_until(page, lambda: outbox(page) == [], what="an empty outbox")
    assert len(patches) == 1, patches
    url, body = patches[0]
    assert url.endswith(f"/api/v1/sessions/{session_id}")
    assert body["after"]["pain"] == 4 and body["after"]["stress"] == 3
    assert all_rows(app) == 1


# When another flush sent the entry first (the worker's Background Sync, another tab).


def test_after_ratings_arrive_when_the_before_ratings_were_sent_while_the_form_was_open(
    phone: Page, app, alice
):
    """The usual day: before ratings saved without signal at the therapist's, the phone
    finds the network during the massage and sends them, then the patient rates after."""
    page, context = phone, phone.context
    first_visit(page, alice.email)
    context.set_offline(True)
    client_id = record_offline(page, 7, 6)
    context.set_offline(False)  # the page sends the before ratings on "online"
    wait_until(page, lambda: rows(app, alice.id) != [], what="the session on the server")
    wait_until(page, lambda: outbox(page) == [], what="an empty outbox")
    expect(page.get_by_role("heading", level=1)).to_have_text("After your massage")

    rate_after(page, 3, 2)
    wait_until(
        page,
        lambda: rows(app, alice.id) == [(client_id, 7, 6, 3, 2)],
        what="the after ratings on the server",
    )
    wait_until(page, lambda: outbox(page) == [], what="an empty outbox")
    expect(page).to_have_url(re.compile(r"/sessions/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your session")
    expect(page.get_by_role("status")).to_have_text("Saved. Thank you.")


def test_saving_online_opens_the_session_even_when_another_flush_sent_it_first(
    phone: Page, app, alice
):
    """A race seen about 1 save in 6 online with the worker running, made repeatable: the
    worker's Background Sync flush takes the outbox lock first and sends the new entry, and
    the page's own flush then finds nothing to send. Here a second tab plays the worker's
    part: it holds the lock, sends the entry with the real outbox code, then lets go."""
    page, context = phone, phone.context
    first_visit(page, alice.email)
    other = context.new_page()
    other.goto("/sessions/new")
    other.evaluate(
        """new Promise((acquired) => navigator.locks.request("pnapp-outbox", () => {
            acquired();
            return new Promise((release) => { window.release = release; });
        })).then(() => {
            // This tab holds the lock: its own flush runs inside it.
            navigator.locks.request = (name, callback) => callback();
        })"""
    )
    page.goto("/sessions/new")
    tap_rating(page, "before", "pain", 6)
    tap_rating(page, "before", "stress", 5)
    page.get_by_role("button", name="Save").tap()
    wait_until(other, lambda: len(outbox(other)) == 1, what="the entry in the outbox")
    sent = other.evaluate("pnOutbox.flush({force: true})")["sent"]
    assert len(sent) == 1
    other.evaluate("window.release()")

    expect(page).to_have_url(re.compile(rf"/sessions/{sent[0]['session_id']}$"))
    expect(page.get_by_role("status")).to_have_text("Saved. Enjoy your massage.")
    assert len(rows(app, alice.id)) == 1


def test_a_session_saved_while_nobody_was_logged_in_is_asked_about_not_lost(
    phone: Page, app, alice
):
    """After a log-out the phone still records offline; the entry belongs to nobody until
    the person who logs in says it is theirs, and is never sent as anyone else before."""
    dora = make_user(app, "dora@example.com", "patient", "America/Toronto")
    page, context = phone, phone.context
    first_visit(page, alice.email)
    log_out(page)
    context.set_offline(True)
    [client_id] = [record_offline(page, 7, 5)]
    assert [e["user"] for e in outbox(page)] == [None]
    context.set_offline(False)

    question = "A session was saved on this phone while no one was logged in. Is it yours?"
    log_in(page, dora.email)  # someone else logs in first: asked, and says no
    expect(page.locator("#outbox")).to_contain_text(question, timeout=30_000)
    expect(page.locator("#outbox")).to_contain_text("Before: pain 7, stress 5.")
    page.get_by_role("button", name="No, it is not mine").tap()
    expect(page.locator("#outbox")).to_be_hidden()
    page.evaluate("pnOutbox.flush({force: true})")
    assert all_rows(app) == 0
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Dora")
    page.wait_for_function("() => self.pnOutbox !== undefined")
    expect(page.locator("#outbox")).to_be_hidden()  # not asked again

    log_out(page)
    log_in(page, alice.email)
    expect(page.locator("#outbox")).to_contain_text(question, timeout=30_000)
    page.get_by_role("button", name="Yes, it is mine").tap()
    wait_until(page, lambda: len(rows(app, alice.id)) == 1, what="Alice's session")
    assert rows(app, alice.id) == [(client_id, 7, 5, None, None)]
    assert rows(app, dora.id) == []
    wait_until(page, lambda: outbox(page) == [], what="an empty outbox")
