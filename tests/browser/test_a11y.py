"""Accessibility, measured in Chromium on every page of the app (CLINICAL.md, "Screens for
numb fingers and older eyes"): axe-core's WCAG 2.2 AA rules in light and dark, 48 px targets
8 px apart, no sideways scrolling or overlapping text at 320 px, at 200% text and at both
together, the whole
record-a-session flow by keyboard with a visible focus, no motion when it is turned off,
named rating groups and charts with a table, and status changes in the live region.

The pages come from the app's URL map (PAGES below; a page missing from it fails
test_every_page_of_the_app_is_checked). Each is opened as each kind of person who can see it:
nobody logged in, a new patient and a new caregiver (empty), and a patient with a year of
demo sessions and the caregiver who follows her (filled). The people are made once for the
module, and one pass (`survey`) opens every page once, in one browser context per person,
and runs every per-page check on it; each test then reports all of its failures together.
`A11Y_TIMING=1 pytest -s` prints the time each page takes; `A11Y_SCREENSHOTS=1` saves every
page at 390 px, 320 px, 200% text and 200% text at 320 px in test-artifacts/a11y-<database>/.
"""

from __future__ import annotations

import base64
import os
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import axe_playwright_python
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select, text

from pnapp.demo import DEMO_PASSWORD, make_demo_patient
from pnapp.extensions import db
from pnapp.models import MassageSession, Therapist, User, recovery
from tests.browser.test_offline import SAVED_OFFLINE, first_visit, rate_after, record_offline
from tests.conftest import DB, PASSWORD, Api, make_user
from tests.helpers import add_passkey, session_body

AXE_JS = Path(axe_playwright_python.__file__).with_name("axe.min.js").read_text()
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Only violations are wanted; preloading the style sheets buys nothing here.
WCAG_RUN = {
    "runOnly": {"type": "tag", "values": WCAG_TAGS},
    "resultTypes": ["violations"],
    "preload": False,
}
CONTRAST_RUN = {
    "runOnly": {"type": "rule", "values": ["color-contrast"]},
    "resultTypes": ["violations"],
    "preload": False,
}
PHONE = {"width": 390, "height": 844}
NARROW = {"width": 320, "height": 800}
# A browser's text size setting of 200% doubles the default font size (16 px to 32 px), so
# pnapp's 112.5% root becomes 36 px (less on a phone narrower than 400 px, where app.css
# stops it at 9% of the width). Set as the browser's own setting, over the DevTools protocol.
DOUBLE_TEXT = {"standard": 32, "fixed": 26}
DEFAULT_TEXT = {"standard": 16, "fixed": 13}


def text_size(page: Page, sizes: dict) -> float:
    """Sets the browser's text size (DOUBLE_TEXT or DEFAULT_TEXT) for this page and the pages
    it opens next; returns the root font size it gives, in px."""
    # One DevTools session per page, kept open: the setting ends with the session.
    cdp = getattr(page, "_text_size_session", None)
    if cdp is None:
        cdp = page.context.new_cdp_session(page)
        page._text_size_session = cdp
    cdp.send("Page.setFontSizes", {"fontSizes": sizes})
    page._text_sizes = sizes
    return page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")


TIMING = os.environ.get("A11Y_TIMING")

ANON = ("anon",)
PATIENT_EMPTY, PATIENT_FILLED = ("patient-empty",), ("patient-filled",)
CAREGIVER_EMPTY, CAREGIVER_FILLED = ("caregiver-empty",), ("caregiver-filled",)
PATIENTS = PATIENT_EMPTY + PATIENT_FILLED
CAREGIVERS = CAREGIVER_EMPTY + CAREGIVER_FILLED
SIGNED_IN = PATIENTS + CAREGIVERS
EVERYONE = ANON + SIGNED_IN


# The people and their data, once for the module


class World:
    """Pat (a new patient), Dana (a year of demo sessions, two therapists, one session
    waiting for its after ratings), Cara (a new caregiver) and Gus (follows Dana with every
    scope but alerts), plus an invitation of Dana's that nobody has used."""

    def __init__(self, app):
        make_user(app, "pat@example.com", "patient", name="Pat")
        make_user(app, "cara@example.com", "caregiver", name="Cara")
        make_user(app, "gus@example.com", "caregiver", name="Gus")
        with app.app_context():
            dana, _ = make_demo_patient(email="dana@example.com", weeks=52, seed=7)
            self.patient = dana.id
            self.therapist = db.session.scalars(
                select(Therapist.id).where(Therapist.patient_id == dana.id).order_by(Therapist.id)
            ).first()
            db.session.remove()
        dana = Api(app.test_client()).login("dana@example.com", DEMO_PASSWORD)
        every = {"pain": 6, "stress": 5, "numbness": 7, "tingling": 4, "weakness": 3}
        done = dana.post(
            "/sessions",
            session_body(
                before=every,
                after={"pain": 3, "stress": 2, "numbness": 5, "tingling": 4, "weakness": 4},
                areas=["feet_lower_legs", "hands_lower_arms"],
                adjuncts=["cold_towels"],
                therapist_id=self.therapist,
                duration_min=60,
                notes="Softer pressure on the left foot next time.",
            ),
        )
        assert done.status_code == 201, done.get_json()
        self.done_session = done.get_json()["id"]
        waiting = dana.post(
            "/sessions", session_body(before=every, adjuncts=["heat_towels"], duration_min=45)
        )
        assert waiting.status_code == 201, waiting.get_json()
        self.open_session = waiting.get_json()["id"]
        screened = dana.patch(
            f"/therapists/{self.therapist}",
            {
                "screening": {
                    "knows_pn": "yes",
                    "asked_symptom_areas": True,
                    "approach": "Gentle strokes on the feet, checking in about pressure.",
                },
                "notes": "Parking behind the building.",
            },
        )
        assert screened.status_code == 200, screened.get_json()
        invite = dana.post(
            "/shares/invites", {"scopes": ["progress", "sessions", "notes", "record"]}
        )
        gus = Api(app.test_client()).login("gus@example.com")
        token = invite.get_json()["invite_url"].rsplit("/", 1)[-1]
        accepted = gus.post("/shares/accept", {"token": token})
        assert accepted.status_code == 201
        self.share = accepted.get_json()["id"]
        invite = dana.post("/shares/invites", {})
        self.invite = invite.get_json()["invite_url"].rsplit("/", 1)[-1]
        # Pat's links as mail brings them: to confirm the address, to set a new password
        # (asked for first), to stop reminder mail.
        with app.app_context():
            recovery.request_password_reset("pat@example.com")
            pat = User.by_email("pat@example.com")
            self.verify_token = recovery.link_token("verify-email", pat)
            self.reset_token = recovery.link_token("password-reset", pat)
            self.unsubscribe_token = recovery.link_token("unsubscribe", pat)
            db.session.remove()
        # Dana's passkey, a sign-in link she asked for and a link to remove that passkey.
        self.passkey = add_passkey(app, self.patient, "Pixel 8")
        with app.app_context():
            recovery.request_sign_in_link("dana@example.com")
            dana = User.by_email("dana@example.com")
            self.sign_in_token = recovery.link_token("sign-in", dana)
            self.remove_passkey_token = recovery.link_token("remove-passkey", dana)
            db.session.remove()


LOGINS = {
    "patient-empty": ("pat@example.com", PASSWORD),
    "patient-filled": ("dana@example.com", DEMO_PASSWORD),
    "caregiver-empty": ("cara@example.com", PASSWORD),
    "caregiver-filled": ("gus@example.com", PASSWORD),
}


@pytest.fixture(autouse=True)
def _clean_tables():
    """Replaces conftest's cleaning after every test: the tests here share `world`, which
    empties the tables itself when the module is done."""
    yield


@pytest.fixture(scope="module")
def world(app):
    made = World(app)
    yield made
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(text(f"DELETE FROM {table.name}"))


@pytest.fixture(scope="module")
def logins(browser: Browser, live_server, world) -> dict[str, dict | None]:
    """Each person's logged-in browser state (cookies), to open contexts of any kind with."""
    states: dict[str, dict | None] = {"anon": None}
    for who, (email, password) in LOGINS.items():
        context = browser.new_context(base_url=live_server)
        try:
            token = context.request.get("/api/v1/auth/csrf").json()["csrf_token"]
            answer = context.request.post(
                "/api/v1/auth/login",
                data={"email": email, "password": password},
                headers={"X-CSRFToken": token},
            )
            assert answer.ok, (who, answer.status, answer.text())
            states[who] = context.storage_state()
        finally:
            context.close()
    return states


@pytest.fixture(scope="module")
def artifacts(request) -> Path:
    """Screenshots of every page at 320 px and at 200% text, to look at."""
    # One folder per database, so that the two runs of `make test` keep their own.
    folder = request.config.rootpath / "test-artifacts" / f"a11y-{DB}"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder


# Every page, from the URL map


@dataclass(frozen=True)
class Visit:
    who: str
    url: str
    state: str = ""  # what was done on the page after it opened, if anything
    status: int = 200
    pattern: str = ""  # the address with World's names in braces, for file names

    @property
    def name(self) -> str:
        return f"{self.url} ({self.who}{', ' + self.state if self.state else ''})"

    @property
    def slug(self) -> str:
        where = (self.pattern or self.url).replace("{", "").replace("}", "")
        return re.sub(r"[^\w]+", "_", f"{self.who}{where}-{self.state}").strip("_")


# Each GET page -> (who sees it, address). Addresses name World attributes in braces.
PAGES: dict[str, list[tuple[tuple[str, ...], str]]] = {
    "/": [(ANON + PATIENTS, "/")],
    "/login": [(ANON, "/login")],
    "/register": [(ANON, "/register")],
    "/guide": [(ANON + PATIENT_FILLED, "/guide")],
    "/offline": [(ANON + PATIENT_FILLED, "/offline")],
    "/shell/session": [(ANON, "/shell/session")],
    "/api/docs": [(ANON, "/api/docs")],
    # The invitation depends on who opens it, not on their data.
    "/invite/<token>": [(ANON + PATIENT_EMPTY + CAREGIVER_EMPTY, "/invite/{invite}")],
    "/sessions/new": [(PATIENTS, "/sessions/new")],
    "/sessions/<int:session_id>": [
        (PATIENT_FILLED, "/sessions/{open_session}"),
        (PATIENT_FILLED, "/sessions/{done_session}"),
    ],
    "/sessions/<int:session_id>/edit": [(PATIENT_FILLED, "/sessions/{done_session}/edit")],
    "/sessions/<int:session_id>/delete": [(PATIENT_FILLED, "/sessions/{done_session}/delete")],
    "/history": [(PATIENTS, "/history")],
    "/progress": [(PATIENTS, "/progress")],
    "/settings": [(SIGNED_IN, "/settings")],
    "/settings/password": [(PATIENT_FILLED + CAREGIVER_FILLED, "/settings/password")],
    "/settings/delete": [(PATIENT_FILLED + CAREGIVER_FILLED, "/settings/delete")],
    "/share": [(PATIENTS, "/share")],
    "/links": [(PATIENTS, "/links")],
    # The viewer without a link in its address: it says so.
    "/s": [(ANON, "/s")],
    "/therapists": [(PATIENTS, "/therapists")],
    "/therapists/<int:therapist_id>": [(PATIENT_FILLED, "/therapists/{therapist}")],
    "/therapists/<int:therapist_id>/summary": [
        (PATIENT_FILLED, "/therapists/{therapist}/summary?notes=1")
    ],
    "/care": [(CAREGIVERS, "/care")],
    "/care/<int:patient_id>": [(CAREGIVER_FILLED, "/care/{patient}")],
    "/care/<int:patient_id>/record": [(CAREGIVER_FILLED, "/care/{patient}/record")],
    "/share/<int:share_id>/end": [(PATIENT_FILLED, "/share/{share}/end")],
    "/password-reset": [(ANON, "/password-reset")],
    "/password-reset/<token>": [(ANON, "/password-reset/{reset_token}")],
    "/verify-email/<token>": [(ANON + PATIENT_EMPTY, "/verify-email/{verify_token}")],
    "/unsubscribe/<token>": [(ANON, "/unsubscribe/{unsubscribe_token}")],
    "/sign-in-link": [(ANON, "/sign-in-link")],
    "/sign-in/<token>": [(ANON, "/sign-in/{sign_in_token}")],
    "/passkeys/new": [(PATIENT_EMPTY, "/passkeys/new")],
    "/settings/passkeys/<int:passkey_id>": [(PATIENT_FILLED, "/settings/passkeys/{passkey}")],
    "/passkeys/remove/<token>": [(ANON, "/passkeys/remove/{remove_passkey_token}")],
    "/reminders/setup": [(PATIENTS, "/reminders/setup")],
    "/reminders/setup/how": [(PATIENTS, "/reminders/setup/how")],
    "/reminders/snooze": [(PATIENTS, "/reminders/snooze")],
}
# GET routes that answer with something other than an HTML page.
NOT_PAGES = {
    "/api/openapi.json",
    "/calendar/<token>.ics",
    "/healthz",
    "/manifest.webmanifest",
    "/metrics",
    "/settings/calendar.ics",
    "/sessions/after",  # a redirect to the form that applies
    "/static/<path:filename>",
    "/sw.js",
}


def not_a_page(rule: str) -> bool:
    return rule in NOT_PAGES or rule.startswith("/api/v1/")  # JSON, CSV, PDF


def _log_in_wrong(page: Page) -> None:
    page.locator("#email").fill("pat@example.com")
    page.locator("#password").fill("not the password")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()


def _save_nothing(page: Page) -> None:
    page.locator("form[data-offline=create] button[type=submit]").click()
    page.locator("#before-pain .error").wait_for()


def _make_invitation(page: Page) -> None:
    # With an invitation pending, the form waits behind "Make another invitation link".
    another = page.locator("main a[href*='another=1']")
    if another.count():
        with page.expect_navigation():
            another.click()
    with page.expect_navigation():
        page.locator("#new-invite button[type=submit]").click()
    page.locator(".qr svg").wait_for()


def _make_link(page: Page) -> None:
    page.locator("#label").fill("Dana Lee, RMT")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    page.locator(".qr svg").wait_for()


# Pages in a state reached by doing something on them.
STATES: dict[str, Callable[[Page], None]] = {
    "wrong password": _log_in_wrong,
    "saved with nothing chosen": _save_nothing,
    "invitation made": _make_invitation,
    "link made": _make_link,
}
EXTRA_VISITS = [
    Visit("anon", "/no-such-page", status=404),
    Visit("anon", "/invite/not-a-real-invitation", status=404),
    Visit("anon", "/login", "wrong password"),
    Visit("patient-empty", "/sessions/new", "saved with nothing chosen"),
    Visit("patient-filled", "/share", "invitation made"),
    Visit("patient-filled", "/links", "link made"),
    Visit("patient-filled", "/progress?weeks=52"),
]


def visits(world: World, who: str) -> list[Visit]:
    found = [
        Visit(who, url.format(**vars(world)), pattern=url)
        for places in PAGES.values()
        for whos, url in places
        if who in whos
    ]
    found += [
        Visit(v.who, v.url.format(**vars(world)), v.state, v.status, v.url)
        for v in EXTRA_VISITS
        if v.who == who
    ]
    return found


def open_page(browser: Browser, live_server: str, state: dict | None, **options) -> Page:
    settings = {
        "viewport": PHONE,
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 1,
        "color_scheme": "light",
        "reduced_motion": "no-preference",
        "timezone_id": "America/Toronto",
        "locale": "en-CA",
        # No service worker: pages come straight from the server, as on a first visit.
        "service_workers": "block",
    }
    settings.update(options)
    context = browser.new_context(base_url=live_server, storage_state=state, **settings)
    return context.new_page()


def go(page: Page, visit: Visit) -> str | None:
    """Opens the page in its state; a problem reaching it is returned as the failure."""
    response = page.goto(visit.url)
    if response is None or response.status != visit.status:
        return f"answered {response and response.status}, not {visit.status}"
    if page.url.split("?")[0] != response.url.split("?")[0] or response.request.redirected_from:
        return f"redirected to {page.url}"
    if visit.state:
        STATES[visit.state](page)
    # What is folded away (optional ratings, session details, chart tables) is checked too.
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    return None


def report(problems: list[str], what: str) -> str:
    return f"{len(problems)} {what}:\n" + "\n".join(problems)


def test_every_page_of_the_app_is_checked(app, world):
    rules = {r.rule for r in app.url_map.iter_rules() if "GET" in r.methods}
    pages = {rule for rule in rules if not not_a_page(rule)}
    missing = pages - set(PAGES)
    assert not missing, f"add these pages to PAGES in {Path(__file__).name}: {sorted(missing)}"
    assert not set(PAGES) - pages, "PAGES names pages that no longer exist"
    for rule, places in PAGES.items():
        assert {who for whos, _ in places for who in whos}, rule
    for who in EVERYONE:
        assert visits(world, who), who


# The checks made on each page


def axe(page: Page, options: dict) -> list[str]:
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_JS)  # evaluated over the DevTools protocol: the CSP does not apply
    violations = page.evaluate("(options) => axe.run(document, options)", options)["violations"]
    lines = []
    for v in violations:
        lines.append(f"{v['id']} [{v['impact']}] {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:6]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"      {' > '.join(map(str, node['target']))}: {summary[:300]}")
        if len(v["nodes"]) > 6:
            lines.append(f"      ... and {len(v['nodes']) - 6} more")
    return lines


TARGETS_JS = """
() => {
  const MIN = 48, GAP = 8;
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    else if (el.classList.length) s += '.' + [...el.classList].join('.');
    if (el.htmlFor) s += `[for=${el.htmlFor}]`;
    const words = (el.innerText || el.value || el.getAttribute('aria-label') || '')
      .trim().replace(/\\s+/g, ' ').slice(0, 40);
    return words ? `${s} "${words}"` : s;
  };
  // Rendered (not display: none, not folded away in a closed <details>, not invisible),
  // and not parked off-screen until focused (the skip link).
  const shown = (el) => el.checkVisibility({visibilityProperty: true}) &&
    el.getBoundingClientRect().right > 0;
  // The block a link sits in, and whether that block has words of its own around the link.
  const block = (el) => {
    let b = el.parentElement;
    while (b && getComputedStyle(b).display.startsWith('inline')) b = b.parentElement;
    return b;
  };
  const inSentence = (a) => {
    const b = block(a);
    const walker = document.createTreeWalker(b, NodeFilter.SHOW_TEXT);
    for (let t = walker.nextNode(); t; t = walker.nextNode()) {
      if (t.parentElement.closest('a, button, summary, label, select, textarea')) continue;
      if (/[\\p{L}\\p{N}]/u.test(t.data)) return true;
    }
    return false;
  };
  const targets = new Set();
  const selector = 'a[href], button, input, select, textarea, summary, [role=button], ' +
    '[tabindex]:not([tabindex="-1"])';
  for (const el of document.querySelectorAll(selector)) {
    if (el.type === 'hidden') continue;
    // A radio or checkbox is operated through its label (the tile, or the row it sits in).
    const target = (el.type === 'radio' || el.type === 'checkbox') && el.labels.length
      ? el.labels[0] : el;
    if (shown(target)) targets.add(target);
  }
  // A link that wraps over two lines is two boxes, each as tall as one line.
  const list = [...targets].map((el) => ({
    el, boxes: [...el.getClientRects()].filter((r) => r.width > 0 && r.height > 0),
    inline: el.matches('a') && inSentence(el),
  }));
  const small = [], close = [];
  for (const t of list) {
    if (t.inline) continue;
    const width = Math.max(...t.boxes.map((r) => r.width));
    const height = Math.min(...t.boxes.map((r) => r.height));
    if (width < MIN - 0.01 || height < MIN - 0.01) {
      const lines = t.boxes.length > 1 ? ` (${t.boxes.length} lines)` : '';
      small.push(`${describe(t.el)} is ${width.toFixed(1)} x ${height.toFixed(1)} px${lines}`);
    }
  }
  const apart = (a, b) => Math.max(
    Math.max(b.left - a.right, a.left - b.right), Math.max(b.top - a.bottom, a.top - b.bottom));
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      const a = list[i], b = list[j];
      if (a.inline && b.inline) continue;
      const gap = Math.min(...a.boxes.flatMap((ra) => b.boxes.map((rb) => apart(ra, rb))));
      if (gap < GAP - 0.01) {
        close.push(`${describe(a.el)} and ${describe(b.el)} are ${gap.toFixed(1)} px apart`);
      }
    }
  }
  return {count: list.length, small, close};
}
"""


# The rating forms' Save is sticky: it rides over the content scrolling under it on purpose,
# so the checks below measure it in its place in the flow (test_rating_forms_reach.py checks
# that it never covers the field being filled in).
UNSTICK_JS = """() => document.querySelectorAll('.session-form > button[type=submit]')
  .forEach((b) => b.style.setProperty('position', 'static', 'important'))"""


def targets(page: Page) -> list[str]:
    page.evaluate(UNSTICK_JS)
    found = page.evaluate(TARGETS_JS)
    return [f"too small: {s}" for s in found["small"]] + [f"too close: {c}" for c in found["close"]]


LAYOUT_JS = """
() => {
  const de = document.documentElement;
  const width = de.clientWidth;
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    else if (el.classList && el.classList.length) s += '.' + [...el.classList].join('.');
    const words = (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 30);
    return words ? `${s} "${words}"` : s;
  };
  // Hidden in any way (not rendered, invisible, or visually hidden for screen readers).
  const hiddenCache = new Map();
  const hidden = (el) => {
    if (!el || el === document.body) return false;
    if (hiddenCache.has(el)) return hiddenCache.get(el);
    const cs = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    const result = !el.checkVisibility({visibilityProperty: true, opacityProperty: true}) ||
      cs.opacity === '0' || (cs.clipPath !== 'none' && (r.width <= 1 || r.height <= 1)) ||
      (cs.overflow === 'hidden' && (r.width <= 1 || r.height <= 1)) ||
      ['TITLE', 'OPTION', 'OPTGROUP', 'SCRIPT', 'STYLE'].includes(el.tagName) ||
      hidden(el.parentElement);
    hiddenCache.set(el, result);
    return result;
  };
  // An ancestor that clips or scrolls its overflow and itself fits.
  const contained = (el, self = false) => {
    for (let p = self ? el : el.parentElement; p && p !== document.body; p = p.parentElement) {
      const cs = getComputedStyle(p);
      if (cs.overflowX !== 'visible') return p.getBoundingClientRect().right <= width + 0.5;
    }
    return false;
  };
  const past = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (hidden(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.right <= width + 0.5 || contained(el)) continue;
    if (past.some((p) => p.contains(el))) continue;  // its container is reported already
    past.push(el);
  }
  const boxes = (el) => getComputedStyle(el).display.startsWith('inline') && el.tagName !== 'svg'
    ? [...el.getClientRects()] : [el.getBoundingClientRect()];
  const meet = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 &&
    Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
  const overlaps = [];
  // Sibling elements that carry text.
  for (const parent of document.body.querySelectorAll('*')) {
    if (hidden(parent)) continue;
    const kids = [...parent.children].filter((k) => !hidden(k) && k.textContent.trim());
    for (let i = 0; i < kids.length; i++) {
      for (let j = i + 1; j < kids.length; j++) {
        const a = boxes(kids[i]), b = boxes(kids[j]);
        if (a.some((ra) => b.some((rb) => meet(ra, rb)))) {
          overlaps.push(`${describe(kids[i])} overlaps ${describe(kids[j])}`);
        }
      }
    }
  }
  // Text running out of its own box over other text (e.g. a number too wide for its tile).
  const runs = [], pastText = [], spills = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    if (!t.data.trim() || hidden(t.parentElement)) continue;
    const range = document.createRange();
    range.selectNodeContents(t);
    for (const r of range.getClientRects()) if (r.width > 0.5) runs.push({t, r});
  }
  // The box a piece of text is laid out in: its nearest ancestor that is not inline.
  const home = (t) => {
    let el = t.parentElement;
    while (el.parentElement && ['inline', 'contents'].includes(getComputedStyle(el).display)) {
      el = el.parentElement;
    }
    return el;
  };
  for (const {t, r} of runs) {
    if (r.right > width + 0.5 && !contained(t.parentElement, true) &&
        !past.some((p) => p.contains(t.parentElement))) {
      pastText.push(`text "${t.data.trim().slice(0, 30)}" reaches ${r.right.toFixed(0)} px`);
    }
    const box = home(t), b = box.getBoundingClientRect();
    if (r.right > b.right + 1 || r.left < b.left - 1) {
      spills.push(`text "${t.data.trim().slice(0, 30)}" runs out of ${describe(box)} ` +
        `(${r.left.toFixed(0)}-${r.right.toFixed(0)} px in ${b.left.toFixed(0)}-` +
        `${b.right.toFixed(0)} px)`);
    }
  }
  for (let i = 0; i < runs.length; i++) {
    for (let j = i + 1; j < runs.length; j++) {
      if (runs[i].t !== runs[j].t && meet(runs[i].r, runs[j].r)) {
        overlaps.push(`text "${runs[i].t.data.trim().slice(0, 30)}" overlaps text ` +
          `"${runs[j].t.data.trim().slice(0, 30)}"`);
      }
    }
  }
  return {
    scrollWidth: de.scrollWidth, clientWidth: width,
    past: past.map((el) =>
      `${describe(el)} reaches ${el.getBoundingClientRect().right.toFixed(0)} px`)
      .concat(pastText),
    overlaps: [...new Set(overlaps)], spills,
  };
}
"""


def layout(page: Page) -> list[str]:
    page.evaluate(UNSTICK_JS)
    found = page.evaluate(LAYOUT_JS)
    problems = []
    if found["scrollWidth"] > found["clientWidth"]:
        problems.append(
            f"scrolls sideways: {found['scrollWidth']} px of content in {found['clientWidth']} px"
        )
    problems += [f"past the right edge: {p}" for p in found["past"]]
    problems += [f"overlap: {o}" for o in found["overlaps"]]
    problems += [f"too wide for its box: {o}" for o in found["spills"]]
    return problems


MOTION_JS = """
() => {
  const seconds = (value) => Math.max(...value.split(',').map((v) =>
    v.trim().endsWith('ms') ? parseFloat(v) / 1000 : parseFloat(v)));
  const moving = [];
  for (const el of document.querySelectorAll('*')) {
    for (const pseudo of [null, '::before', '::after']) {
      const cs = getComputedStyle(el, pseudo);
      const t = seconds(cs.transitionDuration), a = seconds(cs.animationDuration);
      if (t > 0.01 || a > 0.01 || cs.scrollBehavior === 'smooth') {
        const cls = typeof el.className === 'string' && el.className.trim()
          ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
        moving.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${cls}` +
          `${pseudo || ''}: transition ${cs.transitionDuration}, animation ` +
          `${cs.animationDuration}, scroll-behavior ${cs.scrollBehavior}`);
      }
    }
  }
  return moving;
}
"""


NAMES_JS = """
() => {
  const words = (s) => (s || '').replace(/\\s+/g, ' ').trim();
  const shown = (el) => el.checkVisibility({visibilityProperty: true});
  const out = {groups: [], svgs: [], charts: []};
  // Marked, so that Python can take each one's accessibility snapshot.
  const groups = document.querySelectorAll('fieldset, [role=radiogroup], [role=group]');
  [...groups].filter(shown).forEach((g, n) => {
    g.dataset.a11yGroup = n;
    const legend = g.matches('fieldset') ? g.querySelector(':scope > legend') : null;
    out.groups.push({n, id: g.id, fieldset: g.matches('fieldset'),
                     legend: legend ? words(legend.textContent) : null,
                     radios: g.querySelectorAll('input[type=radio]').length});
  });
  [...document.querySelectorAll('svg')].filter(shown).forEach((svg, n) => {
    svg.dataset.a11ySvg = n;
    const cls = svg.getAttribute('class');
    out.svgs.push({n, what: 'svg' + (svg.id ? '#' + svg.id : cls ? '.' + cls : ''),
                   hidden: svg.closest('[aria-hidden=true]') !== null});
  });
  for (const chart of document.querySelectorAll('svg.chart')) {
    const section = chart.closest('section');
    const table = section && section.querySelector('table');
    out.charts.push({
      title: section ? words(section.querySelector('h2, h3').textContent) : null,
      points: chart.querySelectorAll('circle.before').length,
      rows: table ? table.querySelectorAll('tbody tr').length : null,
      headers: table
        ? [...table.querySelectorAll('thead th')].map((th) => words(th.textContent)) : [],
    });
  }
  return out;
}
"""
SNAPSHOT_LINE = re.compile(r'^\s*- ([\w-]+)(?: "((?:[^"\\]|\\.)*)")?', re.M)


def snapshot(page: Page, selector: str) -> list[tuple[str, str]]:
    """(role, accessible name) of the element and everything in it, as Chromium exposes them
    to assistive technology (Playwright's ARIA snapshot)."""
    found = SNAPSHOT_LINE.findall(page.locator(selector).aria_snapshot(timeout=15_000))
    return [(role, " ".join(name.replace('\\"', '"').split())) for role, name in found]


def names(page: Page, counts: Counter) -> list[str]:
    """Each group named by its legend and each of its radios named; each picture named; each
    chart beside a table of the same sessions."""
    problems = []
    found = page.evaluate(NAMES_JS)
    for group in found["groups"]:
        where = f"#{group['id']}" if group["id"] else f"group {group['n']}"
        tree = snapshot(page, f"[data-a11y-group='{group['n']}']")
        counts["groups"] += 1
        role, name = tree[0] if tree else ("nothing", "")
        if role not in ("group", "radiogroup") or not name:
            problems.append(f"{where} is exposed as {role} {name!r}, not a named group")
        elif group["fieldset"] and name != group["legend"]:
            problems.append(f"{where} is named {name!r}, not by its legend {group['legend']!r}")
        radios = [name for role, name in tree if role == "radio"]
        if len(radios) != group["radios"] or not all(radios):
            problems.append(f"{where}: radios exposed with names {radios}")
    for svg in found["svgs"]:
        if svg["hidden"]:
            continue
        counts["pictures"] += 1
        tree = snapshot(page, f"[data-a11y-svg='{svg['n']}']")
        role, name = tree[0] if tree else ("nothing", "")
        if role != "img" or len(name) < 3:
            problems.append(f"{svg['what']} is exposed as {role} {name!r}, not a named image")
    for chart in found["charts"]:
        counts["charts"] += 1
        if chart["rows"] != chart["points"]:
            problems.append(
                f"chart {chart['title']!r}: {chart['points']} sessions drawn, but its table has "
                f"{chart['rows']} rows"
            )
        if len(chart["headers"]) < 3:
            problems.append(f"chart {chart['title']!r}: its table's headers are {chart['headers']}")
    return problems


def _dark(page: Page) -> list[str]:
    page.emulate_media(color_scheme="dark")
    try:
        return axe(page, CONTRAST_RUN)
    finally:
        page.emulate_media(color_scheme="light")


def _motion(page: Page) -> list[str]:
    page.emulate_media(reduced_motion="reduce")
    try:
        return page.evaluate(MOTION_JS)
    finally:
        page.emulate_media(reduced_motion="no-preference")


# Pages with a layout problem are always photographed; A11Y_SCREENSHOTS=1 photographs every
# page at 320 px and at 200% text, to look at them as a person would.
SCREENSHOTS = os.environ.get("A11Y_SCREENSHOTS") == "1"


def screenshot(page: Page, path: Path) -> None:
    """The whole page as PNG, taken over the DevTools protocol with Chromium's faster PNG
    encoding (about three times quicker than page.screenshot on the longest pages)."""
    if getattr(page, "_text_sizes", None) == DOUBLE_TEXT:
        # Chromium's capture beyond the viewport drops the text size setting: the screen is
        # made as tall as the page instead, for one ordinary screenshot.
        size = page.viewport_size
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": size["width"], "height": min(height, 16000)})
        try:
            page.screenshot(path=path)
        finally:
            page.set_viewport_size(size)
        return
    width, height = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    cdp = page.context.new_cdp_session(page)
    try:
        shot = cdp.send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "optimizeForSpeed": True,
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
            },
        )
    finally:
        cdp.detach()
    path.write_bytes(base64.b64decode(shot["data"]))


def _narrow(page: Page, shot: Path) -> list[str]:
    if SCREENSHOTS:  # the page as it first shows, at 390 px
        screenshot(page, shot.with_name(shot.name.replace("320px-", "390px-", 1)))
    page.set_viewport_size(NARROW)
    try:
        problems = layout(page)
        if problems or SCREENSHOTS:
            screenshot(page, shot)
        return problems
    finally:
        page.set_viewport_size(PHONE)


def _double_text(page: Page, shot: Path) -> list[str]:
    size = text_size(page, DOUBLE_TEXT)
    try:
        width = page.viewport_size["width"]
        expected = min(36, round(0.09 * width, 2))
        assert abs(size - expected) < 0.1, f"the root text is {size} px, not {expected}"
        problems = layout(page)
        if problems or SCREENSHOTS:
            screenshot(page, shot)
        # And on a 320 px phone, where the text stops at 9% of the width.
        page.set_viewport_size(NARROW)
        narrow = [f"at 320 px: {p}" for p in layout(page)]
        if narrow or SCREENSHOTS:
            screenshot(page, shot.with_name(shot.name.replace("200-", "200-320px-", 1)))
        return problems + narrow
    finally:
        page.set_viewport_size(PHONE)
        text_size(page, DEFAULT_TEXT)


@dataclass
class Survey:
    problems: dict[str, list[str]] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)


@pytest.fixture(scope="module")
def survey(browser, live_server, world, logins, artifacts) -> Survey:
    """Every page once, as every person who sees it, at 390 x 844 in the light theme, with
    each check in turn (in this order, as the last two change the page):
    axe (WCAG 2.2 AA), targets, names, dark (contrast with prefers-color-scheme: dark),
    motion (prefers-reduced-motion: reduce), narrow (320 px wide), text200 (200% text)."""
    found = Survey()
    steps: list[tuple[str, Callable[[Page, Visit], list[str]]]] = [
        ("axe", lambda page, visit: axe(page, WCAG_RUN)),
        ("targets", lambda page, visit: targets(page)),
        ("names", lambda page, visit: names(page, found.counts)),
        ("dark", lambda page, visit: _dark(page)),
        ("motion", lambda page, visit: _motion(page)),
        ("narrow", lambda page, visit: _narrow(page, artifacts / f"320px-{visit.slug}.png")),
        (
            "text200",
            lambda page, visit: _double_text(page, artifacts / f"text200-{visit.slug}.png"),
        ),
    ]
    return walk(browser, live_server, world, logins, steps, found)


def walk(browser, live_server, world, logins, steps, found: Survey, **options) -> Survey:
    """Opens every page as everyone who sees it and runs each step on it."""
    found.problems = {name: [] for name, _ in steps}
    for who in EVERYONE:
        page = open_page(browser, live_server, logins[who], **options)
        try:
            for visit in visits(world, who):
                started = time.monotonic()
                found.counts["pages"] += 1
                failed = go(page, visit)
                spent = {"open": time.monotonic() - started}
                for name, check in steps:
                    began = time.monotonic()
                    if failed:
                        problems = [failed]
                    else:
                        try:
                            problems = check(page, visit)
                        except Exception as err:  # reported with the check, not lost
                            problems = [f"the check could not run: {err}"]
                    found.problems[name] += [f"{visit.name}: {p}" for p in problems]
                    spent[name] = time.monotonic() - began
                if TIMING:
                    steps_taken = " ".join(f"{k} {v:.2f}" for k, v in spent.items())
                    print(f"{time.monotonic() - started:6.2f} s {visit.name}: {steps_taken}")
        finally:
            page.context.close()
    return found


@pytest.fixture(scope="module", params=["fr-CA", "es"])
def translated(request, browser, live_server, world, logins, artifacts) -> Survey:
    """The same pages in French and in Spanish, whose words run longer than English: the
    checks that words can fail (targets, both reflow checks) and the page's language."""
    locale = request.param
    steps: list[tuple[str, Callable[[Page, Visit], list[str]]]] = [
        ("lang", lambda page, visit: _lang(page, locale)),
        ("targets", lambda page, visit: targets(page)),
        ("narrow", lambda page, v: _narrow(page, artifacts / f"{locale}-320px-{v.slug}.png")),
        ("text200", lambda page, v: _double_text(page, artifacts / f"{locale}-200-{v.slug}.png")),
    ]
    found = walk(browser, live_server, world, logins, steps, Survey(), locale=locale)
    found.counts["locale"] = locale
    return found


def _lang(page: Page, locale: str) -> list[str]:
    found = page.evaluate("document.documentElement.lang")
    return [] if found == locale else [f'<html lang="{found}">, not {locale}']


def test_french_and_spanish_pages_pass_the_same_checks(translated):
    assert translated.counts["pages"] >= 40, translated.counts
    html_lang = translated.counts["locale"]
    problems = [f"{name}: {p}" for name, found in translated.problems.items() for p in found]
    assert not problems, report(problems, f"problems in {html_lang}")


# 1 and 6. axe-core, light and dark


def test_axe_finds_no_wcag_22_aa_violation_on_any_page(survey):
    assert survey.counts["pages"] >= 40, survey.counts
    problems = survey.problems["axe"]
    assert not problems, report(problems, "axe violations (light theme, 390 px)")


def test_every_page_has_enough_contrast_in_the_dark_theme(survey):
    problems = survey.problems["dark"]
    assert not problems, report(problems, "contrast violations (dark theme)")


def test_the_axe_check_runs_under_the_csp_and_sees_violations(browser, live_server):
    """axe-core, evaluated into a page served with pnapp's strict CSP, reports a missing
    text alternative, and low contrast in the light and in the dark theme."""
    page = open_page(browser, live_server, None)
    try:
        page.goto("/guide")
        assert "script-src 'self'" in page.evaluate(
            "fetch(location.href).then((r) => r.headers.get('content-security-policy'))"
        )
        assert axe(page, WCAG_RUN) == []
        page.evaluate(
            """() => {
            const main = document.querySelector('main');
            main.insertAdjacentHTML('beforeend',
              '<img id="probe-img" src="/static/icons/icon-192.png">' +
              '<p id="probe-light">Too pale on light</p><p id="probe-dark">Too dim on dark</p>');
            document.getElementById('probe-light').style.color = '#bbbbbb';
            document.getElementById('probe-dark').style.color = '#333333';
        }"""
        )
        found = "\n".join(axe(page, WCAG_RUN))
        assert "image-alt" in found and "#probe-img" in found, found
        assert "color-contrast" in found and "#probe-light" in found, found
        found = "\n".join(_dark(page))
        assert "#probe-dark" in found and "#probe-light" not in found, found
    finally:
        page.context.close()


# 2. Touch targets


def test_every_target_is_at_least_48_px_and_8_px_from_the_next(survey):
    problems = survey.problems["targets"]
    assert not problems, report(problems, "target problems at 390 x 844 (48 x 48 px, 8 px apart)")


def test_the_target_check_sees_small_and_crowded_targets(browser, live_server):
    """The measuring script itself: it must flag what it is meant to flag."""
    page = open_page(browser, live_server, None)
    try:
        page.goto("/guide")
        page.evaluate(
            """() => {
            const main = document.querySelector('main');
            main.insertAdjacentHTML('beforeend',
              '<p id="probe-alone"><a href="/">Alone</a></p>' +
              '<p>A sentence with <a id="probe-inline" href="/">a link</a> in it.</p>' +
              '<p><button id="probe-a">A</button><button id="probe-b">B</button></p>');
            for (const el of document.querySelectorAll('#probe-a, #probe-b')) {
              el.style.width = '60px'; el.style.height = '60px';  // big, but touching
            }
        }"""
        )
        found = page.evaluate(TARGETS_JS)
        assert any('"Alone"' in s for s in found["small"]), found
        assert not any("a link" in s for s in found["small"]), found
        assert any('"A"' in c and '"B"' in c for c in found["close"]), found
    finally:
        page.context.close()


# 3. Narrow screens and large text


def test_pages_fit_a_320_px_screen(survey):
    problems = survey.problems["narrow"]
    assert not problems, report(problems, "layout problems at 320 x 800")


def test_pages_survive_200_percent_text(survey):
    problems = survey.problems["text200"]
    assert not problems, report(problems, "layout problems at 200% text, 390 px")


def test_the_layout_check_sees_sideways_scrolling_and_overlaps(browser, live_server):
    page = open_page(browser, live_server, None)
    try:
        page.goto("/guide")
        assert layout(page) == []
        page.evaluate(
            """() => {
            const main = document.querySelector('main');
            main.insertAdjacentHTML('beforeend',
              '<p id="probe-wide">wide</p><div id="probe-pair"><p>one</p><p>two</p></div>' +
              '<p id="probe-tile">spilling out</p>');
            document.getElementById('probe-wide').style.width = '900px';
            document.querySelector('#probe-pair p').style.marginBottom = '-30px';
            Object.assign(document.getElementById('probe-tile').style,
                          {width: '30px', whiteSpace: 'nowrap'});
        }"""
        )
        found = layout(page)
        assert any("scrolls sideways" in p for p in found), found
        assert any("probe-wide" in p for p in found), found
        assert any('"one" overlaps' in p for p in found), found
        assert any('"spilling out" runs out of p#probe-tile' in p for p in found), found
    finally:
        page.context.close()


# 4. Keyboard only


FOCUS_JS = """
(selector) => {
  const el = document.activeElement;
  if (!el || el === document.body) return {what: 'nothing', shows: false, matches: false};
  // A visually hidden radio shows its focus on its label, the tile.
  let drawn = el;
  const r = el.getBoundingClientRect();
  if ((el.type === 'radio' || el.type === 'checkbox') && el.labels.length &&
      (r.width <= 2 || r.height <= 2 || getComputedStyle(el).opacity === '0')) {
    drawn = el.labels[0];
  }
  const cs = getComputedStyle(drawn);
  const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0;
  const shadow = cs.boxShadow !== 'none';
  let what = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '');
  const words = (el.innerText || el.value || '').trim().replace(/\\s+/g, ' ').slice(0, 30);
  if (words) what += ` "${words}"`;
  return {what, shows: outline || shadow, matches: el.matches(selector),
          outline: `${cs.outlineStyle} ${cs.outlineWidth}`, shadow: cs.boxShadow};
}
"""


class Keyboard:
    """Moves with Tab and Shift+Tab only, and notes every element that takes the focus
    without a visible focus indicator."""

    def __init__(self, page: Page):
        self.page = page
        self.unseen: list[str] = []

    def tab_to(self, selector: str, *, back: bool = False, limit: int = 60) -> None:
        passed = []
        for _ in range(limit):
            self.page.keyboard.press("Shift+Tab" if back else "Tab")
            focus = self.page.evaluate(FOCUS_JS, selector)
            passed.append(focus["what"])
            if not focus["shows"] and focus["what"] != "nothing":
                self.unseen.append(
                    f"{self.page.url}: {focus['what']} (outline {focus['outline']}, "
                    f"box-shadow {focus['shadow']})"
                )
            if focus["matches"]:
                return
        raise AssertionError(f"{selector} not reached on {self.page.url}; focus went: {passed}")

    def press(self, key: str, times: int = 1) -> None:
        for _ in range(times):
            self.page.keyboard.press(key)


def test_a_session_is_recorded_with_the_keyboard_alone_and_the_focus_always_shows(
    browser, live_server, app, world
):
    kim = make_user(app, "kim@example.com", "patient", name="Kim")
    page = open_page(browser, live_server, None, is_mobile=False, has_touch=False)
    try:
        keys = Keyboard(page)
        page.goto("/login")
        keys.tab_to("#email")
        page.keyboard.type(kim.email)
        keys.tab_to("#password")
        page.keyboard.type(PASSWORD)
        with page.expect_navigation():
            keys.press("Enter")
        expect(page).to_have_url(f"{live_server}/")

        keys.tab_to('main a[href="/sessions/new"]')
        with page.expect_navigation():
            keys.press("Enter")
        expect(page).to_have_url(f"{live_server}/sessions/new")

        keys.tab_to("#before-pain-0")
        keys.press("ArrowRight", 7)
        keys.tab_to("#before-stress-0")
        keys.press("ArrowRight", 6)
        keys.press("ArrowLeft")  # a change of mind, and back: 6
        keys.press("ArrowRight")
        keys.tab_to("#before-pain-7", back=True)  # back to the first answer, still 7
        expect(page.locator("#before-pain-7")).to_be_checked()
        keys.tab_to("#before-stress-6")
        keys.tab_to("form[data-offline=create] button[type=submit]")
        keys.press("Enter")
        expect(page).to_have_url(re.compile(r"/sessions/\d+$"))
        expect(page.locator("#status")).not_to_be_empty()

        keys.tab_to("#after-pain-0")
        keys.press("ArrowRight", 3)
        keys.tab_to("#after-stress-0")
        keys.press("Space")  # Space chooses the focused 0; two steps on make it 2
        keys.press("ArrowRight", 2)
        keys.tab_to("main form button[type=submit]")
        keys.press("Enter")
        expect(page.locator(".changes")).to_contain_text("7 → 3")
        expect(page.locator("#after-pain-0")).to_have_count(0)  # the after form is gone

        keys.tab_to("details.menu > summary")  # the main menu opens with Enter
        keys.press("Enter")
        keys.tab_to('nav a[href="/history"]')
        with page.expect_navigation():
            keys.press("Enter")
        expect(page).to_have_url(f"{live_server}/history")
        changes = page.locator(".sessions.compact > li .pair")
        expect(changes).to_have_count(2)
        expect(changes.nth(0)).to_contain_text("7 → 3")
        expect(changes.nth(1)).to_contain_text("6 → 2")

        with app.app_context():
            stored = db.session.scalars(
                select(MassageSession).where(MassageSession.patient_id == kim.id)
            ).all()
            assert [
                (s.before_pain, s.before_stress, s.after_pain, s.after_stress) for s in stored
            ] == [(7, 6, 3, 2)]
            db.session.remove()
        assert not keys.unseen, report(keys.unseen, "focused elements without a visible focus")
    finally:
        page.context.close()


def test_the_skip_link_comes_first_and_takes_the_focus_to_the_content(browser, live_server):
    page = open_page(browser, live_server, None, is_mobile=False, has_touch=False)
    try:
        page.goto("/guide")
        keys = Keyboard(page)
        keys.tab_to("a.skip", limit=1)
        box = page.locator("a.skip").bounding_box()
        assert box["x"] >= 0 and box["width"] >= 48 and box["height"] >= 48, box
        keys.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        keys.tab_to("main a[href]", limit=1)
        assert not keys.unseen, keys.unseen
    finally:
        page.context.close()


# 5. Reduced motion


def test_nothing_moves_when_reduced_motion_is_asked_for(survey):
    problems = survey.problems["motion"]
    assert not problems, report(problems, "motion with prefers-reduced-motion: reduce")


def test_the_motion_check_sees_a_transition(browser, live_server):
    page = open_page(browser, live_server, None, reduced_motion="reduce")
    try:
        page.goto("/guide")
        assert page.evaluate(MOTION_JS) == []
        # Inline and !important: stronger than the stylesheet's reduced-motion rules.
        page.evaluate(
            """() => {
            document.querySelector('h1').style.setProperty('transition', 'color 0.3s', 'important');
            document.documentElement.style.setProperty('scroll-behavior', 'smooth', 'important');
        }"""
        )
        assert len(page.evaluate(MOTION_JS)) == 2
    finally:
        page.context.close()


# 7. Names and text alternatives; the live region


def test_rating_groups_and_charts_have_names_and_text_alternatives(survey):
    problems = survey.problems["names"]
    assert not problems, report(problems, "unnamed groups or pictures, or charts without a table")
    counts = survey.counts
    assert counts["groups"] >= 40 and counts["charts"] >= 4, counts  # they were found at all


def test_the_names_check_sees_a_group_without_legend_and_a_picture_without_name(
    browser, live_server
):
    page = open_page(browser, live_server, None)
    try:
        page.goto("/register")
        assert names(page, Counter()) == []
        page.evaluate(
            """() => {
            document.querySelector('main').insertAdjacentHTML('beforeend',
              '<fieldset id="probe-group"><input type="radio" name="p"> ' +
              '<input type="radio" name="p" id="probe-radio"><label for="probe-radio">Two' +
              '</label></fieldset><svg id="probe-svg" viewBox="0 0 10 10"><circle r="4"/></svg>');
        }"""
        )
        found = names(page, Counter())
        assert any(p.startswith("#probe-group is exposed as group ''") for p in found), found
        assert any("#probe-group: radios exposed with names ['', 'Two']" in p for p in found)
        assert any(p.startswith("svg#probe-svg is exposed as") for p in found), found
    finally:
        page.context.close()


def test_offline_saves_and_syncing_are_announced_in_the_status_region(phone, app, world):
    page, context = phone, phone.context
    olga = make_user(app, "olga@example.com", "patient", name="Olga")
    first_visit(page, olga.email)
    status = page.locator("#status")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_attribute("aria-live", "polite")

    context.set_offline(True)
    record_offline(page, 7, 6)  # checks the status region reads SAVED_OFFLINE
    rate_after(page, 3, 2)
    # Saved, and waiting to be sent: both said in the live region (once the after form
    # has given way to its note, the save is done).
    expect(page.locator("#saved-offline")).to_be_visible()
    expect(status).to_have_text(SAVED_OFFLINE)

    context.set_offline(False)
    # Synced: announced whichever flush (this page's or the service worker's) sent it.
    expect(status).to_have_text("1 saved session was sent.", timeout=45_000)
    expect(page.locator("#outbox")).to_be_hidden()
