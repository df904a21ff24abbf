"""Regenerates the two screenshots the web app manifest declares for Chrome's richer install
dialog, from the real app with the demo patient (see bench/page_weight.py: a fresh SQLite
instance with `flask --app pnapp demo-data`, served by gunicorn on a free 127.0.0.1 port):

  - static/screenshots/narrow.png: a phone (390 x 844 CSS px at device scale factor 2, so
    780 x 1688 pixels) on /sessions/new with pain 6 tapped;
  - static/screenshots/wide.png: a desktop window (1280 x 800 at scale 1) on /history.

The sizes must match "sizes" in static/manifest.webmanifest (tests/browser/test_pwa.py
checks them).

    .venv/bin/python bench/screenshots.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))

from page_weight import demo_server, launch, log_in  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "static" / "screenshots"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with demo_server() as base, sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            phone = browser.new_context(
                base_url=base,
                viewport={"width": 390, "height": 844},
                device_scale_factor=2,
                is_mobile=True,
                has_touch=True,
                timezone_id="America/Toronto",
                locale="en-CA",
                color_scheme="light",
            )
            log_in(phone)
            page = phone.new_page()
            page.goto("/sessions/new")
            page.locator('label[for="before-pain-6"]').tap()
            expect(page.locator("#before-pain").get_by_text("You chose 6")).to_be_visible()
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=OUT / "narrow.png")
            phone.close()

            desktop = browser.new_context(
                base_url=base,
                viewport={"width": 1280, "height": 800},
                device_scale_factor=1,
                timezone_id="America/Toronto",
                locale="en-CA",
                color_scheme="light",
            )
            log_in(desktop)
            page = desktop.new_page()
            page.goto("/history")
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            page.screenshot(path=OUT / "wide.png")
            desktop.close()
        finally:
            browser.close()
    for name in ("narrow.png", "wide.png"):
        print(OUT / name)


if __name__ == "__main__":
    main()
