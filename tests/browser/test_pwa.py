"""pnapp as an installable app on a phone: manifest and icons, the service worker's scope
and control, a cold start without network, updates on the patient's tap, and no health
data left behind after logging out."""

from __future__ import annotations

import json
import re
import struct
import time
import zlib
from urllib.parse import urljoin, urlsplit

from playwright.sync_api import Page, expect

from pnapp.pages import pwa
from tests.browser.test_record_session import log_in, menu
from tests.helpers import session_body

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # PNG colour type -> samples per pixel


# Reading PNG files with the standard library


def read_png(data: bytes) -> dict:
    """Decodes a PNG far enough to trust it: signature, every chunk's CRC, IHDR, and the
    image data inflated to exactly the size IHDR announces. Returns width, height, colour
    type and whether every pixel is opaque."""
    assert data[:8] == PNG_SIGNATURE, "not a PNG file"
    chunks: list[tuple[bytes, bytes]] = []
    at = 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        chunks.append((kind, body))
        at += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    pixels = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = (width * CHANNELS[colour] * depth + 7) // 8
    if interlace == 0:
        assert len(pixels) == height * (1 + stride), "image data does not match IHDR"
    kinds = {kind for kind, _ in chunks}
    if colour in (4, 6):
        opaque = _all_alpha_opaque(pixels, width, height, colour, depth, stride, interlace)
    elif colour == 3 and b"tRNS" in kinds:
        alphas = next(body for kind, body in chunks if kind == b"tRNS")
        opaque = all(a == 255 for a in alphas)
    else:
        opaque = b"tRNS" not in kinds  # greyscale or RGB: opaque unless a colour is keyed out
    return {"width": width, "height": height, "colour": colour, "opaque": opaque}


def _all_alpha_opaque(pixels, width, height, colour, depth, stride, interlace) -> bool:
    assert depth == 8 and interlace == 0, "only 8-bit, non-interlaced alpha is checked here"
    bpp = CHANNELS[colour]
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = pixels[start], bytearray(pixels[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + predictor) & 0xFF
        if any(a != 255 for a in line[bpp - 1 :: bpp]):
            return False
        previous = line
    return True


def test_png_reader_tells_transparent_from_opaque():
    """The checker itself: an RGBA image with one see-through pixel is not opaque."""

    def png(colour: int, rows: list[bytes]) -> bytes:
        def chunk(kind: bytes, body: bytes) -> bytes:
            crc = struct.pack(">I", zlib.crc32(kind + body))
            return struct.pack(">I", len(body)) + kind + body + crc

        ihdr = struct.pack(">IIBBBBB", 2, len(rows), 8, colour, 0, 0, 0)
        idat = zlib.compress(b"".join(b"\x00" + row for row in rows))
        return PNG_SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")

    solid = png(6, [bytes([10, 20, 30, 255] * 2)] * 2)
    holed = png(6, [bytes([10, 20, 30, 255] * 2), bytes([10, 20, 30, 255, 0, 0, 0, 0])])
    assert read_png(solid) == {"width": 2, "height": 2, "colour": 6, "opaque": True}
    assert read_png(holed)["opaque"] is False
    assert read_png(png(2, [bytes(6)] * 2))["opaque"] is True


# Fixtures and helpers


def eventually(page: Page, script: str, timeout: float = 60) -> object:
    """Evaluates an (async) script until it returns something truthy, for at most `timeout`
    seconds. (wait_for_function takes a returned Promise itself for truthy.)"""
    deadline = time.monotonic() + timeout
    while not (result := page.evaluate(script)):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {script}")
        page.wait_for_timeout(100)
    return result


def wait_for_service_worker(page: Page) -> None:
    """Until the worker is active and controls this page.

    A page whose navigation began before the worker was active stays uncontrolled (claim()
    does not reach a page still loading), as in any browser: then one reload hands it over.
    The worker activates, and claims pages, only once its install stored the app shell."""
    active = page.evaluate(
        """Promise.race([
            navigator.serviceWorker.ready.then(() => true),
            new Promise((resolve) => setTimeout(() => resolve(false), 60000)),
        ])"""
    )
    assert active, "no service worker became active within 60 s"
    if not page.evaluate("navigator.serviceWorker.controller !== null"):
        page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=60_000)
    assert page.evaluate(
        "caches.keys().then((names) => names.some((n) => n.startsWith('pnapp-shell-')))"
    )


def worker_version(text: str) -> str:
    match = re.search(r"pnapp service worker (\w+)\.", text)
    assert match, text[:200]
    return match.group(1)


def tap_rating(page: Page, form: str, measure: str, value: int) -> None:
    page.locator(f'label[for="{form}-{measure}-{value}"]').tap()


# 1. The manifest, icons and screenshots


def test_the_manifest_and_its_icons_make_pnapp_installable(phone: Page, alice, live_server):
    page = phone
    response = page.request.get("/manifest.webmanifest")
    assert response.status == 200
    assert response.headers["content-type"].split(";")[0] == "application/manifest+json"
    manifest = json.loads(response.text())

    for key in ("id", "name", "short_name", "description", "background_color", "theme_color"):
        assert isinstance(manifest.get(key), str) and manifest[key].strip(), key
    assert len(manifest["short_name"]) <= 12  # fits under a home-screen icon
    assert urljoin(live_server + "/", manifest["id"]) == f"{live_server}/"
    start = urljoin(f"{live_server}/manifest.webmanifest", manifest["start_url"])
    assert urlsplit(start)[:2] == urlsplit(live_server)[:2], "start_url leaves the origin"
    assert manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    for key in ("background_color", "theme_color"):
        assert re.fullmatch(r"#[0-9a-fA-F]{6}", manifest[key]), (key, manifest[key])

    icons = manifest["icons"]
    assert all(icon["purpose"] in ("any", "maskable") for icon in icons), (
        "one icon per purpose: 'any maskable' shows the maskable artwork uncropped"
    )
    declared = {(icon["sizes"], icon["purpose"]) for icon in icons}
    for size in ("192x192", "512x512"):
        assert (size, "any") in declared and (size, "maskable") in declared, size

    screenshots = manifest["screenshots"]
    assert {s["form_factor"] for s in screenshots} == {"narrow", "wide"}

    for image in icons + screenshots:
        assert image["type"] == "image/png"
        fetched = page.request.get(urljoin(f"{live_server}/", image["src"]))
        assert fetched.status == 200, image["src"]
        assert fetched.headers["content-type"] == "image/png", image["src"]
        png = read_png(fetched.body())
        assert f"{png['width']}x{png['height']}" == image["sizes"], image["src"]
    for shot in screenshots:  # Chrome shows them in its install dialog: real, sizeable images
        width, height = map(int, shot["sizes"].split("x"))
        narrow = shot["form_factor"] == "narrow"
        assert height > width if narrow else width > height, shot
        assert shot.get("label"), shot

    # Every page, logged out and in, links the manifest and an opaque 180x180 touch icon.
    pages = ["/", "/login", "/register", "/offline", "/shell/session"]
    touch_icons = set()
    for path in pages:
        touch_icons.add(links_of(page, path))
    log_in(page, alice.email)
    for path in ["/", "/sessions/new", "/history", "/settings", "/offline"]:
        touch_icons.add(links_of(page, path))
    for href in touch_icons:
        fetched = page.request.get(href)
        assert fetched.status == 200 and fetched.headers["content-type"] == "image/png", href
        png = read_png(fetched.body())
        assert (png["width"], png["height"]) == (180, 180), href
        assert png["opaque"], f"{href}: iOS shows transparent parts of a touch icon as black"


def links_of(page: Page, path: str) -> str:
    page.goto(path)
    manifest = page.locator('link[rel="manifest"]')
    expect(manifest, path).to_have_count(1)
    expect(manifest, path).to_have_attribute("href", "/manifest.webmanifest")
    touch = page.locator('link[rel="apple-touch-icon"]')
    expect(touch, path).to_have_count(1)
    return touch.evaluate("link => link.href")


# 2. The service worker's scope and control


def test_the_service_worker_is_served_from_the_root_and_controls_the_whole_app(
    phone: Page, alice, live_server
):
    page = phone
    response = page.request.get("/sw.js")
    assert response.status == 200
    assert response.headers["content-type"].split(";")[0] in (
        "text/javascript",
        "application/javascript",
    )
    assert "no-cache" in response.headers["cache-control"]
    assert "no-store" not in response.headers["cache-control"]

    log_in(page, alice.email)
    page.reload()
    wait_for_service_worker(page)
    page.reload()
    state = page.evaluate(
        """async () => {
            const reg = await navigator.serviceWorker.getRegistration();
            return {
                controller: navigator.serviceWorker.controller &&
                    navigator.serviceWorker.controller.scriptURL,
                scope: reg.scope,
                active: reg.active && reg.active.state,
            };
        }"""
    )
    assert state == {
        "controller": f"{live_server}/sw.js",
        "scope": f"{live_server}/",
        "active": "activated",
    }
    # Deep pages are controlled too, not just the start page.
    page.goto("/sessions/new")
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL") == f"{live_server}/sw.js"


# 3. A cold start without network


def test_without_network_a_cold_start_shows_the_offline_page_and_the_rating_form(
    phone: Page, alice
):
    page, context = phone, phone.context
    log_in(page, alice.email)
    wait_for_service_worker(page)
    start = page.get_by_role("link", name="Start a session")
    online_background = start.evaluate("el => getComputedStyle(el).backgroundColor")

    # Home is kept on the phone for Alice (static/js/keep.js); a page that is not kept
    # falls back to the offline page.
    page.wait_for_function(
        "caches.open('pnapp-user-' + document.body.dataset.user)"
        ".then((c) => c.match('/')).then((r) => !!r)"
    )
    context.set_offline(True)
    page.goto("/settings")
    expect(page.get_by_role("heading", level=1)).to_have_text("You are offline")

    # As when the phone opens the app again: a new page, nothing in memory.
    page.close()
    page = context.new_page()
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alice")
    expect(page.locator(".kept-note")).to_contain_text("You are offline.")
    button = page.get_by_role("link", name="Start a session")
    expect(button).to_be_visible()
    background = button.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background == online_background
    assert background not in ("rgba(0, 0, 0, 0)", "transparent", "rgb(239, 239, 239)")
    assert page.evaluate("document.styleSheets.length") >= 1

    button.tap()
    expect(page).to_have_url(re.compile(r"/sessions/new$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Before your massage")
    pain = page.get_by_role("group", name="How much pain do you feel right now?")
    expect(pain.locator(".scale label")).to_have_count(11)
    tap_rating(page, "before", "pain", 4)
    expect(pain.get_by_text("You chose 4 (four)")).to_be_visible()
    expect(page.get_by_role("button", name="Save")).to_be_visible()

    page.goto("/sessions/new")  # typed in, not followed from a link
    expect(page.get_by_role("heading", level=1)).to_have_text("Before your massage")
    tile = page.locator('label[for="before-pain-5"]')
    box = tile.bounding_box()
    assert box["width"] >= 48 and box["height"] >= 48, "the shell is styled (48 px tiles)"


# 4. New versions wait for "Update now"


def test_a_new_version_waits_until_the_patient_taps_update_now(
    phone: Page, alice, monkeypatch, live_server
):
    page = phone
    log_in(page, alice.email)
    wait_for_service_worker(page)
    old = worker_version(page.request.get("/sw.js").text())
    update = page.locator("#update")
    expect(update).to_be_hidden()

    # A release: the worker's text changes (here, one more file in the shell).
    monkeypatch.setattr(pwa, "SHELL_ASSETS", (*pwa.SHELL_ASSETS, "icons/icon-512.png"))
    new = worker_version(page.request.get("/sw.js").text())
    assert new != old
    page.evaluate("navigator.serviceWorker.getRegistration().then((reg) => reg.update())")

    expect(update).to_be_visible(timeout=60_000)
    expect(update).to_contain_text("A new version of pnapp is ready.")
    button = update.get_by_role("button", name="Update now")
    expect(button).to_be_visible()

    def workers() -> dict:
        return page.evaluate(
            """async () => {
                const reg = await navigator.serviceWorker.getRegistration();
                return {
                    controlled: navigator.serviceWorker.controller === reg.active,
                    waiting: reg.waiting ? reg.waiting.state : null,
                    caches: (await caches.keys())
                        .filter((n) => n.startsWith("pnapp-shell-")).sort(),
                };
            }"""
        )

    # Until the tap, the old version keeps control, also across a reload and other pages.
    assert workers() == {
        "controlled": True,
        "waiting": "installed",
        "caches": sorted([f"pnapp-shell-{old}", f"pnapp-shell-{new}"]),
    }
    page.goto("/history")
    expect(update, f"banner on another page: {workers()}").to_be_visible()
    page.reload()
    expect(update, f"banner after a reload: {workers()}").to_be_visible()
    assert workers() == {
        "controlled": True,
        "waiting": "installed",
        "caches": sorted([f"pnapp-shell-{old}", f"pnapp-shell-{new}"]),
    }

    page.evaluate("window.beforeUpdate = true")
    update.get_by_role("button", name="Update now").tap()
    page.wait_for_function("() => window.beforeUpdate === undefined", timeout=60_000)  # reloaded
    expect(page).to_have_url(f"{live_server}/history")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your sessions")
    expect(update).to_be_hidden()
    eventually(
        page,
        """async () => {
            const reg = await navigator.serviceWorker.getRegistration();
            return navigator.serviceWorker.controller === reg.active && !reg.waiting;
        }""",
    )
    assert workers() == {"controlled": True, "waiting": None, "caches": [f"pnapp-shell-{new}"]}


# 5. No health data after logging out


def test_after_logging_out_no_page_from_before_shows_health_data(phone: Page, alice, as_alice):
    page, context = phone, phone.context
    note = "Left ankle buzzed less after the lakeside walk"
    # Alice's sessions (recorded through the API: the recording pages have tests of their
    # own): a finished one with a note, and one still waiting for its after ratings.
    done = as_alice.post(
        "/sessions",
        session_body(before={"pain": 9, "stress": 8}, after={"pain": 2, "stress": 1}, notes=note),
    )
    open_ = as_alice.post("/sessions", session_body(before={"pain": 9, "stress": 7}))
    assert done.status_code == open_.status_code == 201
    done_url = f"/sessions/{done.get_json()['id']}"
    open_url = f"/sessions/{open_.get_json()['id']}"

    log_in(page, alice.email)
    wait_for_service_worker(page)
    menu(page, "History")
    # The done session's line (the open one, newer, is first).
    expect(page.locator(".sessions .pair").nth(2)).to_have_text(re.compile(r"^Pain 9 → 2"))
    page.goto(done_url)
    expect(page.get_by_text(note)).to_be_visible()
    page.goto(open_url)
    expect(page.get_by_text("Before, you rated pain 9 and stress 7.")).to_be_visible()
    menu(page, "Settings")
    expect(page.get_by_label("Your name")).to_have_value("Alice")
    page.get_by_role("button", name="Log out", exact=True).tap()
    expect(page.get_by_text("You are logged out.")).to_be_visible()

    context.set_offline(True)
    secrets = ["Alice", alice.email, note, "pain 9", "Pain 9", "9 → 2", "8 → 1"]
    assert page.evaluate("localStorage.getItem('pnapp.user')") is None

    def shows_nothing_of_alice(where: str) -> None:
        page.wait_for_load_state()
        text = page.locator("body").inner_text() if page.url != "about:blank" else ""
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"{where} ({page.url}) shows {leaked}"

    page.goto("/history")
    expect(page.get_by_role("heading", level=1)).to_have_text("You are offline")
    shows_nothing_of_alice("/history")
    for url in (done_url, open_url):
        page.goto(url)  # the worker stands in with the empty rating form
        expect(page.get_by_role("heading", level=1)).to_have_text(
            re.compile("Before your massage|After your massage")
        )
        shows_nothing_of_alice(url)

    # Back through everything visited before: no page comes back from a cache.
    entries = page.evaluate("history.length")
    assert entries >= 9, entries
    for step in range(1, entries):
        page.go_back()
        shows_nothing_of_alice(f"{step} back")
