"""Saving the rating form with a question left out, on a phone with JavaScript: the page says
which rating is missing beside it and in an alert above the form, moves the focus to it, and
the alert looks nothing like a success."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_record_session import log_in, tap_rating

LOOK_JS = """
(selector) => {
  const el = document.querySelector(selector);
  const cs = getComputedStyle(el);
  const title = el.querySelector('p');
  return {background: cs.backgroundColor, border: cs.borderTopColor,
          icon: title ? getComputedStyle(title, '::before').content : 'none'};
}
"""


@pytest.mark.parametrize(
    "tapped, missing", [((), ["pain", "stress"]), (("pain",), ["stress"])], ids=["none", "one"]
)
def test_saving_with_a_rating_left_out_says_which_marks_it_and_moves_the_focus_there(
    phone: Page, alice, tapped, missing
):
    page = phone
    log_in(page, alice.email)
    page.goto("/sessions/new")
    for measure in tapped:
        tap_rating(page, "before", measure, 4)
    page.get_by_role("button", name="Save").tap()

    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert.get_by_role("link")).to_have_text([f"Choose a number for {m}" for m in missing])
    for measure in ("pain", "stress"):
        group = page.locator(f"#before-{measure}")
        if measure in missing:
            expect(group).to_have_attribute("aria-invalid", "true")
            expect(group.locator(".error")).to_have_text(f"Choose a number for {measure}")
        else:
            expect(group).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#before-{missing[0]}-0")).to_be_focused()
    assert "/sessions/new" in page.url  # nothing was saved

    # Nothing like a success: a warning sign, a red frame and a pale red ground.
    look = page.evaluate(LOOK_JS, ".error-summary")
    assert "⚠" in look["icon"], look
    assert look["border"] == "rgb(163, 41, 44)", look
    assert look["background"] == "rgb(253, 240, 240)", look

    # Choosing the missing numbers and saving again clears it all.
    for measure in missing:
        tap_rating(page, "before", measure, 5)
    page.get_by_role("button", name="Save").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("After your massage")
    expect(page.get_by_role("alert")).to_have_count(0)
