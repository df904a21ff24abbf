"""Browser fixtures: Debian's Chromium driven by Playwright, held like a phone.

`playwright install` is not used: Chromium comes from Debian (`make chromium`).
A failing test leaves a screenshot of its page in test-artifacts/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HERE = Path(__file__).parent
# A page's scripts start after its first paint (templates/_loader.js), often after the
# "load" event Playwright waits for; the loader marks <html> when the last one has run.
SCRIPTS_READY = """() => !document.querySelector('meta[name="pnapp-scripts"]')
    || document.documentElement.dataset.scripts === 'ready'"""


def wait_for_scripts(page: Page) -> None:
    """Wait until the page's scripts have run (after a tap that went to another page)."""
    page.wait_for_function(SCRIPTS_READY, polling=50)


def _then_scripts(navigate):
    """`navigate`, then wait for the page's scripts, as a person's first tap finds them run."""

    def navigate_and_wait(page: Page, *args, **kwargs):
        result = navigate(page, *args, **kwargs)
        wait_for_scripts(page)
        return result

    return navigate_and_wait


for _name in ("goto", "reload", "go_back", "go_forward", "wait_for_url", "wait_for_load_state"):
    setattr(Page, _name, _then_scripts(getattr(Page, _name)))


def pytest_collection_modifyitems(config, items):
    """Every test in this folder is a browser test (`pytest -m "not browser"` skips them)."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.call_failed = report.failed
    return report


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def phone(browser, live_server, request):
    """A fresh page the size of a common phone (390 x 844 CSS px), touch screen, Toronto,
    with the service worker running as on a real phone."""
    context = browser.new_context(
        base_url=live_server,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        timezone_id="America/Toronto",
        locale="en-CA",
    )
    page = context.new_page()
    try:
        yield page
        if getattr(request.node, "call_failed", False):
            artifacts = request.config.rootpath / "test-artifacts"
            artifacts.mkdir(exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
            page.screenshot(path=artifacts / f"{name}.png", full_page=True)
    finally:
        context.close()
