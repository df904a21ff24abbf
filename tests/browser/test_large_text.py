"""Large text on small phones, as a first real user met it: every page of the app, as every
person who sees it, in English, French and Spanish, at 390 x 844 and 320 x 640, each at the
default text size and at 200% text. On each:

- the page's main action (what it marks `data-primary`, else the first control in <main>)
  lies inside the first screen, without scrolling;
- nothing scrolls sideways (the document is no wider than the screen);
- no word breaks inside itself: each word of the page's text is laid out on one line
  (e-mail and web addresses, which are not words, may wrap).

The people and pages are test_a11y's (World, visits): one page load per page and language,
then the four sizes one after the other on the loaded page.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.browser import test_a11y
from tests.browser.test_a11y import (
    DEFAULT_TEXT,
    DOUBLE_TEXT,
    EVERYONE,
    open_page,
    report,
    text_size,
    visits,
)

# test_a11y's people and logins, made once for this module too.
_clean_tables = test_a11y._clean_tables
world = test_a11y.world
logins = test_a11y.logins

SIZES = [
    ("390x844", {"width": 390, "height": 844}, False),
    ("320x640", {"width": 320, "height": 640}, False),
    ("390x844 at 200%", {"width": 390, "height": 844}, True),
    ("320x640 at 200%", {"width": 320, "height": 640}, True),
]
LOCALES = ["en-CA", "fr-CA", "es"]

MEASURE_JS = """
(width) => {
  const de = document.documentElement;
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    else if (el.classList && el.classList.length) s += '.' + [...el.classList].join('.');
    const words = (el.innerText || el.value || '').trim().replace(/\\s+/g, ' ').slice(0, 30);
    return words ? `${s} "${words}"` : s;
  };
  const shown = (el) => el.checkVisibility({visibilityProperty: true, opacityProperty: true});
  // The main action: what the page marks (a page to read marks its heading), else the
  // first thing to operate in <main>, else its heading.
  const controls = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
  const first = (selector) => [...document.querySelectorAll(selector)].find((el) => {
    const target = el.labels && el.labels.length && el.type === 'radio' ? el.labels[0] : el;
    return shown(target);
  }) || null;
  const primary = first('[data-primary]') || first(`main :is(${controls})`) || first('main h1');
  let box = null;
  if (primary) {
    const target = primary.type === 'radio' && primary.labels.length ? primary.labels[0] : primary;
    const r = target.getBoundingClientRect();
    box = {what: describe(target), top: r.top, bottom: r.bottom, left: r.left, right: r.right};
  }
  // Words laid out on more than one line. A word is a run between spaces, hyphens and
  // slashes; what holds "@" or a dot inside is an address, and may wrap.
  const broken = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    const el = t.parentElement;
    // Code (the API's paths) is not words.
    const skipped = '.visually-hidden, textarea, select, option, code, pre';
    if (!t.data.trim() || !shown(el) || el.closest(skipped)) continue;
    for (const m of t.data.matchAll(/[^\\s\\-\\u2010\\u2011\\u2013\\u2014\\/]+/g)) {
      const word = m[0];
      if (word.length < 2 || /[@]|\\w\\.\\w/.test(word)) continue;
      const range = document.createRange();
      range.setStart(t, m.index);
      range.setEnd(t, m.index + word.length);
      const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0.5)
        .map((r) => Math.round(r.bottom)));
      if (lines.size > 1) broken.push(`"${word}" in ${describe(el)}`);
    }
  }
  return {scrollWidth: de.scrollWidth, height: innerHeight, primary: box,
          broken: [...new Set(broken)]};
}
"""


# The pages whose main action must show on the first screen: the patient's everyday ones,
# the caregiver's list, and the way in. (On the other pages the main action is a form's
# last button, under fields that at 200% text take more than a screen; the after form
# begins, on purpose, with the before ratings and the heat safety note.)
FIRST_SCREEN = (
    "/",
    "/login",
    "/register",
    "/sessions/new",
    "/shell/session",
    "/history",
    "/progress",
    "/settings",
    "/care",
    "/care/{patient}",
    "/guide",
    "/offline",
)


def check(page, width: int, height: int, first_screen: bool = True) -> list[str]:
    found = page.evaluate(MEASURE_JS, width)
    problems = []
    if found["scrollWidth"] > width:
        problems.append(f"scrolls sideways: {found['scrollWidth']} px wide in {width} px")
    box = found["primary"]
    if not first_screen:
        pass
    elif box is None:
        problems.append("no main action found")
    elif box["top"] < 0 or box["bottom"] > height + 0.5 or box["right"] > width + 0.5:
        problems.append(
            f"main action {box['what']} is at {box['top']:.0f}-{box['bottom']:.0f} px "
            f"(the first screen ends at {height} px)"
        )
    problems += [f"word broken inside itself: {b}" for b in found["broken"]]
    return problems


@pytest.fixture(scope="module", params=LOCALES)
def measured(request, browser: Browser, live_server, world, logins) -> dict[str, list[str]]:
    """Every page in one language at the four sizes: {size: [problems]}."""
    locale = request.param
    found: dict[str, list[str]] = {name: [] for name, _, _ in SIZES}
    pages = 0
    for who in EVERYONE:
        page = open_page(browser, live_server, logins[who], locale=locale)
        try:
            for visit in visits(world, who):
                if visit.state:
                    continue  # the pages as they open
                response = page.goto(visit.url)
                assert response and response.status == visit.status, visit.name
                pages += 1
                for name, viewport, double in SIZES:
                    page.set_viewport_size(viewport)
                    text_size(page, DOUBLE_TEXT if double else DEFAULT_TEXT)
                    page.evaluate("window.scrollTo(0, 0)")
                    found[name] += [
                        f"{locale} {visit.name}: {p}"
                        for p in check(
                            page,
                            viewport["width"],
                            viewport["height"],
                            (visit.pattern or visit.url) in FIRST_SCREEN,
                        )
                    ]
                text_size(page, DEFAULT_TEXT)
                page.set_viewport_size(SIZES[0][1])
        finally:
            page.context.close()
    assert pages >= 38, pages
    return found


@pytest.mark.parametrize("size", [name for name, _, _ in SIZES])
def test_every_page_shows_its_main_action_at_once_fits_the_width_and_keeps_words_whole(
    measured, size
):
    problems = measured[size]
    assert not problems, report(problems, f"problems at {size}")


def test_the_check_sees_a_hidden_action_sideways_scrolling_and_a_broken_word(browser, live_server):
    page = open_page(browser, live_server, None)
    try:
        page.goto("/login")
        assert check(page, 390, 844) == []
        page.evaluate(
            """() => {
            const main = document.querySelector('main');
            main.insertAdjacentHTML('afterbegin',
              '<div id="probe-tall"></div><p id="probe-wide">x</p>' +
              '<p id="probe-word">Engourdissement</p>');
            // Styled through the CSSOM: the CSP refuses style attributes.
            document.getElementById('probe-tall').style.height = '2000px';
            document.getElementById('probe-wide').style.width = '900px';
            Object.assign(document.getElementById('probe-word').style,
                          {width: '3em', overflowWrap: 'anywhere'});
            main.querySelector('button[type=submit]').dataset.primary = '';
        }"""
        )
        found = "\n".join(check(page, 390, 844))
        assert "scrolls sideways" in found, found
        assert "main action button" in found, found
        assert 'word broken inside itself: "Engourdissement"' in found, found
    finally:
        page.context.close()
