"""The SMART Health Links viewer in a fresh browser with no account, held like a phone: it
opens the address the QR code holds, asks for the passcode, decrypts the files in the page
and shows the ratings; the PDF downloads; and no request it makes carries the key, which
the server's own record of every request it received shows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from pnapp.links import protocol
from pnapp.qr import qr_svg
from tests.browser.test_a11y import (
    DEFAULT_TEXT,
    DOUBLE_TEXT,
    WCAG_RUN,
    axe,
    layout,
    targets,
    text_size,
)
from tests.conftest import Api, make_user
from tests.helpers import iso, session_body

PASSCODE = "482913"


class RequestLog:
    """WSGI middleware: everything the server was sent (method, path, query, headers, body)."""

    def __init__(self, app):
        self.app = app
        self.seen: list[str] = []

    def __call__(self, environ, start_response):
        body = b""
        if environ.get("CONTENT_LENGTH"):
            body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
            import io

            environ["wsgi.input"] = io.BytesIO(body)
        headers = {k: v for k, v in environ.items() if k.startswith("HTTP_")}
        self.seen.append(
            " ".join(
                (
                    environ["REQUEST_METHOD"],
                    environ.get("PATH_INFO", ""),
                    environ.get("QUERY_STRING", ""),
                    json.dumps(headers),
                    body.decode("utf-8", "replace"),
                )
            )
        )
        return self.app(environ, start_response)


@pytest.fixture
def request_log(app):
    log = RequestLog(app.wsgi_app)
    app.wsgi_app = log
    yield log
    app.wsgi_app = log.app


@pytest.fixture
def link(app, live_server):
    """Alice's link for her therapist, with a passcode, made on the live server's address."""
    alice = make_user(app, "alice@example.com", "patient", name="Alice")
    api = Api(app.test_client()).login(alice.email)
    therapist = api.post("/therapists", {"name": "Dana Lee"}).get_json()
    for weeks, (before, after) in enumerate([(7, 3), (9, 5)], start=1):
        body = session_body(
            started_at=iso(datetime.now(UTC) - timedelta(weeks=weeks)),
            before={"pain": before, "stress": 6},
            after={"pain": after, "stress": 2},
            areas=["feet_lower_legs"],
            adjuncts=["heat_towels"],
            therapist_id=therapist["id"],
        )
        assert api.post("/sessions", body).status_code == 201
    public = app.config["PUBLIC_URL"]
    app.config["PUBLIC_URL"] = live_server
    try:
        made = api.post(
            "/links",
            {"label": "Dana Lee, RMT", "contents": ["summary", "report"], "passcode": PASSCODE},
        ).get_json()
    finally:
        app.config["PUBLIC_URL"] = public
    return made


def ratings(card, measure: str) -> list[str]:
    """One measure's words on a session's card, as read: the measure, before, after."""
    group = card.locator(".shl-ratings > div").filter(
        has=card.page.locator(f"dt:text-is('{measure}')")
    )
    return group.inner_text().split()


def test_a_therapist_opens_the_qr_code_with_the_spoken_passcode(
    app, browser, live_server, link, request_log, tmp_path
):
    # What the QR code holds is exactly this address.
    assert link["qr_svg"] == str(qr_svg(link["url"], "QR code of the link"))
    key = protocol.parse(link["url"])["key"]
    encoded = link["shlink"].removeprefix("shlink:/")

    # A phone that has never seen pnapp: a fresh context, no cookie, no account.
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        locale="en-CA",
        timezone_id="America/Toronto",
        accept_downloads=True,
    )
    sent: list[str] = []
    page = context.new_page()
    page.on("request", lambda r: sent.append(f"{r.method} {r.url} {r.headers} {r.post_data or ''}"))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))  # a script that failed
    try:
        page.goto(link["url"])
        page.get_by_text("Dana Lee, RMT").wait_for()
        passcode = page.get_by_label("Passcode")
        passcode.fill("000000")
        page.get_by_role("button", name="Open the summary").click()
        page.get_by_text("That passcode is not right. 9 tries are left.").wait_for()
        passcode.fill(PASSCODE)
        page.get_by_role("button", name="Open the summary").click()

        page.get_by_role("heading", name="Alice", level=1).wait_for()
        cards = page.locator(".shl-session")
        assert cards.count() == 2
        newest = cards.nth(0)
        assert ratings(newest, "Pain") == ["Pain", "Before:", "7", "After:", "3"]
        assert ratings(newest, "Stress") == ["Stress", "Before:", "6", "After:", "2"]
        assert ratings(cards.nth(1), "Pain") == ["Pain", "Before:", "9", "After:", "5"]
        assert "With Dana Lee" in newest.inner_text()
        assert "Heat towels" in newest.inner_text()
        assert "Feet and lower legs" in page.locator("#shl-content").inner_text()
        # Readable on the phone, as every page of the app: WCAG 2.2 AA by axe, 48 px targets,
        # nothing wider than the screen; and still at 320 px with 200% text.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert axe(page, WCAG_RUN) == []
        assert targets(page) == []
        assert layout(page) == []
        page.set_viewport_size({"width": 320, "height": 844})
        text_size(page, DOUBLE_TEXT)
        assert layout(page) == []
        text_size(page, DEFAULT_TEXT)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=tmp_path / "viewer.png", full_page=True)
        print("viewer screenshot:", tmp_path / "viewer.png")

        with page.expect_download() as download:
            page.get_by_role("link", name="Download the report (PDF)").click()
        assert download.value.path().read_bytes().startswith(b"%PDF")
    finally:
        context.close()
    assert not errors

    # The key never left the phone: not in what the browser sent, nor in what the server got.
    assert any("/api/v1/shl/" in s for s in sent)
    for record in (sent, request_log.seen):
        assert record
        for line in record:
            assert key not in line and encoded not in line and "shlink" not in line
    assert any(line.startswith("POST /api/v1/shl/") for line in request_log.seen)


def test_an_ended_link_says_so(app, browser, live_server, link):
    api_client = app.test_client()
    api = Api(api_client).login("alice@example.com")
    assert api.delete(f"/links/{link['id']}").status_code == 204
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-CA")
    page = context.new_page()
    try:
        page.goto(link["url"])
        page.get_by_label("Passcode").fill(PASSCODE)
        page.get_by_role("button", name="Open the summary").click()
        page.get_by_text("This link has ended or was revoked. Ask for a new one.").wait_for()
        assert page.locator("#shl-content").is_hidden()
    finally:
        context.close()
