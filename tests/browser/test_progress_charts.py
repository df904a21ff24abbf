"""The progress charts and the history in Chromium, for a patient with a year of sessions: at
320 px and at 200% text nothing scrolls sideways, the charts' axis labels are at least 16
CSS px and never overlap, each chart has as many table rows as points, and the history is
one line a session."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from pnapp.demo import DEMO_PASSWORD, make_demo_patient
from tests.browser.test_a11y import DOUBLE_TEXT, NARROW, PHONE, layout, text_size

LABELS_JS = """
() => {
  const shown = [...document.querySelectorAll('svg.chart text, svg.chart-y text')]
    .filter((t) => t.checkVisibility());
  const boxes = shown.map((t) => t.getBoundingClientRect());
  const overlaps = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (Math.min(a.right, b.right) - Math.max(a.left, b.left) > 0.5 &&
          Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 0.5) {
        overlaps.push(`${shown[i].textContent} / ${shown[j].textContent}`);
      }
    }
  }
  const charts = [...document.querySelectorAll('svg.chart')].map((svg) => {
    const section = svg.closest('section');
    return {id: svg.id, points: svg.querySelectorAll('circle.before').length,
            rows: section.querySelectorAll('table tbody tr').length,
            months: [...svg.querySelectorAll('text.month')].filter((t) => t.checkVisibility())
              .map((t) => t.textContent)};
  });
  return {sizes: shown.map((t) => parseFloat(getComputedStyle(t).fontSize)),
          heights: boxes.map((b) => b.height), overlaps, charts,
          scroll: document.documentElement.scrollWidth,
          width: document.documentElement.clientWidth};
}
"""


@pytest.fixture
def year(app, browser: Browser, live_server):
    """A logged-in page for a patient with a year of demo sessions."""
    with app.app_context():
        make_demo_patient(email="year@example.com", weeks=52, seed=7)
    context = browser.new_context(
        base_url=live_server,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        timezone_id="America/Toronto",
        locale="en-CA",
        service_workers="block",
    )
    token = context.request.get("/api/v1/auth/csrf").json()["csrf_token"]
    answer = context.request.post(
        "/api/v1/auth/login",
        data={"email": "year@example.com", "password": DEMO_PASSWORD},
        headers={"X-CSRFToken": token},
    )
    assert answer.ok, answer.text()
    page = context.new_page()
    yield page
    context.close()


def check(page: Page) -> dict:
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    found = page.evaluate(LABELS_JS)
    assert found["scroll"] <= found["width"], found
    assert not layout(page), layout(page)
    assert found["sizes"] and min(found["sizes"]) >= 16, found["sizes"]
    assert min(found["heights"]) >= 16, found["heights"]
    assert not found["overlaps"], found["overlaps"]
    return found


@pytest.mark.parametrize("weeks", [12, 26, 52])
@pytest.mark.parametrize("size", ["320 px", "200% text"])
def test_the_progress_charts_read_at_320_px_and_200_percent_text(year: Page, weeks, size):
    if size == "320 px":
        year.set_viewport_size(NARROW)
    year.goto(f"/progress?weeks={weeks}")
    if size == "200% text":
        text_size(year, DOUBLE_TEXT)
    found = check(year)
    charts = {c["id"]: c for c in found["charts"]}
    assert set(charts) == {"chart-trend", "chart-pain", "chart-stress"}
    for chart in charts.values():
        assert chart["points"] == chart["rows"] > 0, chart
        assert chart["months"], chart  # at least one month is named
    if size == "320 px" and weeks == 52:
        assert len(charts["chart-trend"]["months"]) >= 3


def test_the_history_is_one_line_a_session_by_month(year: Page):
    year.goto("/history")
    rows = year.locator(".sessions.compact > li > a")
    count = rows.count()
    assert count >= 40  # a year of weekly sessions, on one page
    heights = [rows.nth(i).bounding_box()["height"] for i in range(count)]
    assert max(heights) < 50, heights  # one line: 48 px, the smallest target
    first, last = rows.nth(0).bounding_box(), rows.nth(count - 1).bounding_box()
    per_session = (last["y"] - first["y"]) / (count - 1)
    # 48 px and the 8 px between targets, plus a month's heading now and then.
    assert per_session < 72, per_session
    for size in (NARROW, PHONE):
        year.set_viewport_size(size)
        assert not layout(year), (size, layout(year))
    text_size(year, DOUBLE_TEXT)
    assert not layout(year), layout(year)
