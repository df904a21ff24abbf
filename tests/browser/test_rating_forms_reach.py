"""The rating forms on a phone: Save within reach without covering the field being filled
in (also at 200% text), ratings kept across the "Add a therapist" detour, and a massage
logged afterwards counted in its own week."""

from __future__ import annotations

from datetime import datetime, timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from pnapp.extensions import db
from pnapp.models import MassageSession
from pnapp.timeutil import iso_week_label, local_date, utcnow
from tests.browser.test_push import log_in
from tests.browser.test_record_session import PAIN_QUESTION, tap_rating

# Text at 200%, as test_a11y.py sets it (a browser's text size doubles the root size).
DOUBLE_TEXT = "document.documentElement.style.setProperty('font-size', '225%', 'important')"


def box(page: Page, selector: str) -> dict:
    return page.locator(selector).bounding_box()


def save_button_in_view(page: Page, form: str) -> dict:
    save = page.locator(f"{form} > button[type=submit]")
    found = save.bounding_box()
    viewport = page.viewport_size
    assert found["y"] >= 0 and found["y"] + found["height"] <= viewport["height"] + 1, found
    return found


def test_save_stays_on_screen_and_clear_of_the_focused_field(phone, alice):
    page = phone
    log_in(page, alice.email)
    for large in (False, True):
        page.goto("/sessions/new")
        if large:
            page.evaluate(DOUBLE_TEXT)
        expect(page.get_by_role("heading", level=1)).to_have_text("Before your massage")
        # From the first question on, Save is on screen at the bottom.
        tap_rating(page, "before", "pain", 5)
        save = save_button_in_view(page, "form[data-offline=create]")
        assert save["y"] > page.viewport_size["height"] / 2
        pain = page.get_by_role("group", name=PAIN_QUESTION).bounding_box()
        assert pain["y"] < save["y"]
        # The notes field, focused near the bottom, is not covered by it.
        page.get_by_text("More about this session").tap()
        notes = page.get_by_label("Notes")
        notes.focus()
        notes.scroll_into_view_if_needed()
        page.keyboard.type("x")
        save = save_button_in_view(page, "form[data-offline=create]")
        field = notes.bounding_box()
        assert field["y"] + field["height"] <= save["y"] + 1, (field, save)
        page.screenshot(path=f"test-artifacts/before-form-{'200' if large else '100'}.png")


def test_ratings_survive_the_therapist_detour(phone, app, alice):
    page = phone
    log_in(page, alice.email)
    page.goto("/sessions/new")
    tap_rating(page, "before", "pain", 7)
    tap_rating(page, "before", "stress", 4)
    page.get_by_text("More about this session").tap()
    page.get_by_label("Notes").fill("Left foot first")
    page.get_by_role("link", name="Add a therapist").tap()

    expect(page.get_by_role("heading", name="Add a therapist")).to_be_visible()
    page.get_by_label("Name").fill("Rosa")
    page.get_by_role("button", name="Add this therapist").tap()

    expect(page.get_by_role("heading", level=1)).to_have_text("Before your massage")
    expect(page.get_by_role("status")).to_contain_text("Rosa was added.")
    pain = page.get_by_role("group", name=PAIN_QUESTION)
    expect(pain.locator("input:checked")).to_have_value("7")
    expect(page.locator('input[name="before.stress"]:checked')).to_have_value("4")
    expect(page.get_by_label("Notes")).to_have_value("Left foot first")
    expect(page.locator("#therapist_id option:checked")).to_have_text("Rosa")
    page.get_by_role("button", name="Save").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("After your massage")
    with app.app_context():
        [saved] = db.session.scalars(
            select(MassageSession).where(MassageSession.patient_id == alice.id)
        ).all()
        assert (saved.before_pain, saved.before_stress, saved.notes) == (7, 4, "Left foot first")
        assert saved.therapist.name == "Rosa"
        db.session.remove()


def test_a_massage_logged_for_yesterday_appears_in_yesterdays_week(phone, app, alice):
    page = phone
    log_in(page, alice.email)
    page.goto("/sessions/new")
    expect(page.get_by_role("heading", name="After that massage")).to_be_hidden()
    page.locator("details.when > summary").tap()  # "When? Now (change)"
    page.get_by_text("Yesterday", exact=True).tap()
    expect(page.get_by_role("heading", name="After that massage")).to_be_visible()
    page.get_by_label("At what time did it start?").fill("00:30")
    tap_rating(page, "before", "pain", 8)
    tap_rating(page, "before", "stress", 6)
    tap_rating(page, "past_after", "pain", 3)
    tap_rating(page, "past_after", "stress", 2)
    page.screenshot(path="test-artifacts/logged-afterwards.png", full_page=True)
    page.get_by_role("button", name="Save").tap()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your session")
    expect(page.get_by_role("status")).to_have_text("Saved. Thank you.")
    yesterday = local_date(utcnow(), "America/Toronto") - timedelta(days=1)
    with app.app_context():
        [saved] = db.session.scalars(
            select(MassageSession).where(MassageSession.patient_id == alice.id)
        ).all()
        assert local_date(saved.started_at, "America/Toronto") == yesterday
        assert (saved.after_pain, saved.after_stress) == (3, 2)
        db.session.remove()
    week = iso_week_label(yesterday)
    progress = page.request.get("/api/v1/progress?weeks=2").json()
    assert {w["week"]: w["sessions"] for w in progress["weeks"]}[week] == 1
    # History lists it under yesterday's date.
    page.goto("/history")
    expect(page.locator("main")).to_contain_text(
        datetime.combine(yesterday, datetime.min.time()).strftime("%b %-d")
    )
