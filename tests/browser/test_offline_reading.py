"""What the phone showed stays readable without a connection: the after form offline shows
the before ratings and the notes, and Home, the last 12 weeks of History, Progress and a
session waiting for its after ratings are kept per person, marked "as of" when they were
kept, emptied at log-out and never shown to another account."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.test_offline import (
    SAVED_OFFLINE,
    first_visit,
    log_out,
    outbox,
    tap_rating,
    wait_until,
)
from tests.browser.test_record_session import log_in
from tests.conftest import make_user
from tests.helpers import session_body

KEPT = re.compile(r"^You are offline\. This page is as it was on .+\.$")


def kept_caches(page: Page) -> list[str]:
    return page.evaluate("caches.keys()")


def wait_kept(page: Page, user_id: int, path: str) -> None:
    """Until the page at `path` is kept for this person (keep.js stores it after loading)."""
    wait_until(
        page,
        lambda: page.evaluate(
            "([name, path]) => caches.open(name).then((c) => c.match(path)).then((r) => !!r)",
            [f"pnapp-user-{user_id}", path],
        ),
        10,
        f"{path} kept",
    )


def test_the_after_form_offline_shows_the_before_ratings_and_the_notes(phone: Page, alice):
    page = phone
    first_visit(page, alice.email)
    page.context.set_offline(True)
    page.goto("/sessions/new")
    tap_rating(page, "before", "pain", 7)
    tap_rating(page, "before", "stress", 6)
    page.get_by_text("More about this session").tap()
    page.get_by_label("Sauna").check()
    page.get_by_role("button", name="Save").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("After your massage")
    expect(page.get_by_role("status")).to_have_text(SAVED_OFFLINE)
    main = page.locator("main")
    expect(main.locator(".before-ratings")).to_have_text("Before: pain 7, stress 6.")
    expect(main.get_by_text("Rate again when your massage is over.", exact=False)).to_be_visible()
    expect(page.get_by_role("note")).to_have_text(
        "You used heat today: check your feet for redness or cuts."
    )


def test_history_progress_and_an_open_session_read_offline_as_of_when_they_were_kept(
    phone: Page, app, alice, as_alice
):
    page = phone
    old = as_alice.post(
        "/sessions",
        session_body(
            before={"pain": 8, "stress": 7},
            after={"pain": 4, "stress": 3},
            started_at="2025-01-06T15:00:00+00:00",
        ),
    )
    assert old.status_code == 201, old.get_json()
    first_visit(page, alice.email)
    page.get_by_role("link", name="Start a session").tap()
    tap_rating(page, "before", "pain", 6)
    tap_rating(page, "before", "stress", 5)
    page.get_by_text("More about this session").tap()
    page.get_by_label("Heat towels").check()
    page.get_by_role("button", name="Got it").tap()
    page.get_by_role("button", name="Save").tap()
    expect(page).to_have_url(re.compile(r"/sessions/\d+$"))
    session_url = page.url
    wait_kept(page, alice.id, session_url)
    page.goto("/history")
    expect(page.locator(".sessions.compact > li")).to_have_count(2)
    wait_kept(page, alice.id, "/history")
    page.goto("/progress")
    summary = page.locator("#summary").inner_text()
    wait_kept(page, alice.id, "/progress")

    page.context.set_offline(True)
    page.goto("/history")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your sessions")
    expect(page.locator(".kept-note")).to_have_text(KEPT)
    # The last 12 weeks only: this week's session, not last year's.
    rows = page.locator(".sessions.compact > li")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("6 → –")
    page.goto("/progress")
    expect(page.locator(".kept-note")).to_have_text(KEPT)
    expect(page.locator("#summary")).to_have_text(summary)
    page.goto(session_url)
    expect(page.locator(".kept-note")).to_have_text(KEPT)
    expect(page.locator("main")).to_contain_text("Before, you rated pain 6 and stress 5.")
    expect(
        page.get_by_text("You used heat today: check your feet for redness or cuts.")
    ).to_be_visible()
    tap_rating(page, "after", "pain", 2)
    tap_rating(page, "after", "stress", 2)
    page.get_by_role("button", name="Save").tap()
    expect(page.locator("#saved-offline")).to_be_visible()
    assert [e["patch"]["after"]["pain"] for e in outbox(page)] == [2]


def alices_history_kept(page: Page, app, alice) -> int:
    """Alice's History kept on the phone, and Carl, who shares the phone, made; his id."""
    carl = make_user(app, "carl@example.com", "patient", name="Carl")
    first_visit(page, alice.email)
    page.goto("/history")
    wait_kept(page, alice.id, "/history")
    return carl.id


def test_log_out_empties_the_kept_pages_and_another_account_sees_none_of_them(
    phone: Page, app, alice
):
    page = phone
    carl = alices_history_kept(page, app, alice)
    log_out(page)
    wait_until(
        page,
        lambda: not [c for c in kept_caches(page) if c.startswith(("pnapp-user-", "pnapp-who"))],
        10,
        "alice's pages forgotten",
    )
    page.context.set_offline(True)
    page.goto("/history")
    expect(page.get_by_role("heading", level=1)).to_have_text("You are offline")

    page.context.set_offline(False)
    log_in(page, "carl@example.com")
    wait_kept(page, carl, "/")
    page.context.set_offline(True)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Carl")
    page.goto("/history")  # Alice's copy went at her log-out; Carl kept none
    expect(page.get_by_role("heading", level=1)).to_have_text("You are offline")


def test_a_second_account_logging_in_without_log_out_removes_the_first_ones_pages(
    phone: Page, app, alice
):
    page = phone
    carl = alices_history_kept(page, app, alice)
    # Another account on the same phone, the first one's login cookie gone without a log-out.
    page.context.clear_cookies()
    log_in(page, "carl@example.com")
    wait_until(page, lambda: f"pnapp-user-{alice.id}" not in kept_caches(page), 10, "forgotten")
    wait_kept(page, carl, "/")
    page.context.set_offline(True)
    page.goto("/history")  # Alice's copy, not shown to Carl
    expect(page.get_by_role("heading", level=1)).to_have_text("You are offline")
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Carl")
