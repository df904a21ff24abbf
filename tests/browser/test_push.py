"""Push reminders end to end on a phone-sized Chromium: turning them on from a tap, the app
encrypting a reminder for a real local push service, and the same plaintext driving the real
service worker (PLATFORM.md, "Browser push").

`PushManager.subscribe` cannot reach a real push service here, so an init script replaces it
(and `getSubscription`) with a stub that hands out a subscription made from the test's own keys,
pointing at the local push service (tests/pushservice.py). Everything else is real: the page
script, the API, the reminder job, pywebpush's encryption, the service worker's `push` and
`notificationclick` handlers and the notifications Chromium keeps for the registration.
"""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import http_ece
import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import delete, select

from pnapp.extensions import db
from pnapp.models import PushSubscription, User
from pnapp.reminders import send_due_reminders
from tests.conftest import PASSWORD

PHONE = "alice-phone"
TEST_BODY = "This is a test reminder from pnapp."
WEEKLY_BODY = "Time for your weekly massage check-in"
BLOCKED = "Notifications are blocked for pnapp."

# Installed before any page script runs, in every page of the context. State lives in
# localStorage so that a subscription survives reloads, as a real one does.
PUSH_STUB = """
(() => {
  const SUB = %(sub)s;
  const STATE = "pnapp.test.subscription";
  const CALLS = "pnapp.test.subscribeCalls";
  const ASKED = "pnapp.test.permissionRequests";
  if (!("PushManager" in self) || !self.localStorage) return;
  let store;
  try { store = self.localStorage; store.length; } catch (e) { return; }

  const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  const unb64url = (text) => Uint8Array.from(
    atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - text.length %% 4) %% 4)),
    (c) => c.charCodeAt(0));
  const keyText = (key) => {
    if (key == null) return null;
    if (typeof key === "string") return b64url(unb64url(key));
    return b64url(ArrayBuffer.isView(key)
      ? key.buffer.slice(key.byteOffset, key.byteOffset + key.byteLength) : key);
  };
  const read = (name, fallback) => JSON.parse(store.getItem(name) || JSON.stringify(fallback));

  function subscription(state) {
    // The shape of a PushSubscription, as the page script and the API use it.
    return {
      endpoint: SUB.endpoint,
      expirationTime: null,
      options: { userVisibleOnly: true,
        applicationServerKey: unb64url(state.applicationServerKey).buffer },
      getKey: (name) => (name in SUB.keys ? unb64url(SUB.keys[name]).buffer : null),
      toJSON: () => ({ endpoint: SUB.endpoint, expirationTime: null,
        keys: { p256dh: SUB.keys.p256dh, auth: SUB.keys.auth } }),
      unsubscribe: async () => { store.removeItem(STATE); return true; },
    };
  }

  PushManager.prototype.subscribe = async function (options) {
    const key = keyText(options && options.applicationServerKey);
    store.setItem(CALLS, JSON.stringify(read(CALLS, []).concat([{
      applicationServerKey: key, userVisibleOnly: !!(options && options.userVisibleOnly),
      permission: Notification.permission }])));
    if (Notification.permission !== "granted") {
      throw new DOMException("Registration failed - permission denied", "NotAllowedError");
    }
    const state = { applicationServerKey: key };
    store.setItem(STATE, JSON.stringify(state));
    return subscription(state);
  };
  PushManager.prototype.getSubscription = async function () {
    const state = read(STATE, null);
    return state ? subscription(state) : null;
  };

  const ask = Notification.requestPermission;
  Notification.requestPermission = function (...args) {
    store.setItem(ASKED, String(Number(store.getItem(ASKED) || 0) + 1));
    return ask.apply(this, args);
  };
})();
"""


def log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Hello"))


def new_phone(browser, live_server: str, **options) -> BrowserContext:
    return browser.new_context(
        base_url=live_server,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        timezone_id="America/Toronto",
        locale="en-CA",
        **options,
    )


@pytest.fixture
def subscriber(push_service):
    return push_service.subscriber(PHONE)


@pytest.fixture
def push_context(browser, live_server, app, subscriber, monkeypatch):
    """A phone with notifications allowed for the app and the PushManager stub installed."""
    # Notifications link to PUBLIC_URL; here that is the live server.
    monkeypatch.setitem(app.config, "PUBLIC_URL", live_server)
    context = new_phone(browser, live_server)
    context.grant_permissions(["notifications"], origin=live_server)
    context.add_init_script(PUSH_STUB % {"sub": json.dumps(subscriber.subscription())})
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def push_page(push_context) -> Page:
    return push_context.new_page()


def stub_state(page: Page) -> dict:
    return page.evaluate(
        """() => ({
          subscribeCalls: JSON.parse(localStorage.getItem("pnapp.test.subscribeCalls") || "[]"),
          permissionRequests: Number(localStorage.getItem("pnapp.test.permissionRequests") || 0),
          subscribed: localStorage.getItem("pnapp.test.subscription") !== null,
        })"""
    )


def subscriptions(app, user_id: int) -> list[str]:
    with app.app_context():
        found = db.session.scalars(
            select(PushSubscription.endpoint).where(PushSubscription.user_id == user_id)
        ).all()
        db.session.remove()
        return list(found)


def wait_until(check, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def turn_on_reminders(page: Page, app, alice, subscriber) -> None:
    """Log in, open Settings and tap "Turn on reminders"; the server then has the phone."""
    log_in(page, alice.email)
    page.goto("/settings")
    device = page.get_by_role("region", name="Reminders on this phone")
    enable = device.get_by_role("button", name="Turn on reminders")
    expect(enable).to_be_visible()
    expect(device.get_by_text("Reminders are off on this phone.")).to_be_visible()
    page.wait_for_load_state("networkidle")
    # Nothing was asked or subscribed on page load: only a tap may do that.
    assert stub_state(page) == {"subscribeCalls": [], "permissionRequests": 0, "subscribed": False}
    assert subscriptions(app, alice.id) == []

    enable.tap()
    expect(page.get_by_role("status")).to_have_text("Reminders are on for this phone.")
    expect(device.get_by_text("Reminders are on for this phone.")).to_be_visible()
    expect(device.get_by_text("Reminders are off on this phone.")).to_be_hidden()
    # (Which buttons are visible is test_the_settings_card_shows_only_the_buttons_that_apply.)
    expect(page.get_by_label("Remind me when I have not had this week's massage")).to_be_checked()
    wait_until(lambda: subscriptions(app, alice.id), what="the stored subscription")
    assert subscriptions(app, alice.id) == [subscriber.endpoint]


def registration_id(context: BrowserContext, page: Page, live_server: str):
    """The service worker registration id, from the DevTools ServiceWorker domain."""
    cdp = context.new_cdp_session(page)
    found: dict[str, str] = {}

    def updated(event):
        for reg in event["registrations"]:
            if reg["scopeURL"] == f"{live_server}/" and not reg.get("isDeleted"):
                found["id"] = reg["registrationId"]

    cdp.on("ServiceWorker.workerRegistrationUpdated", updated)
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 30
    while "id" not in found and time.monotonic() < deadline:
        page.wait_for_timeout(50)  # lets Playwright dispatch the CDP events
    assert "id" in found, "no service worker registration for the app's scope"
    return cdp, found["id"]


def shown_notifications(page: Page) -> list[dict]:
    return page.evaluate(
        """() => navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((ns) =>
             ns.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data,
                              icon: n.icon, badge: n.badge })))"""
    )


def test_turning_on_reminders_then_a_weekly_reminder_reaches_the_service_worker(
    push_context, push_page, app, alice, push_service, subscriber, live_server
):
    context, page = push_context, push_page
    turn_on_reminders(page, app, alice, subscriber)

    # The stub was asked once, from the tap, with the server's application server key.
    public_key = page.request.get("/api/v1/push/key").json()["public_key"]
    state = stub_state(page)
    assert state["permissionRequests"] == 1
    assert state["subscribeCalls"] == [
        {"applicationServerKey": public_key, "userVisibleOnly": True, "permission": "granted"}
    ]
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user.reminder_enabled is True
        assert user.reminder == {
            "enabled": True,
            "weekday": 0,
            "time": "09:00",
            "channels": ["push"],  # API.md "Reminders on every channel"
        }
        due = user.next_reminder_at
        [stored] = user.subscriptions
        assert (stored.p256dh, stored.auth) == (
            subscriber.subscription()["keys"]["p256dh"],
            subscriber.subscription()["keys"]["auth"],
        )
        db.session.remove()
    assert due is not None

    # A test reminder from the button: one message, decrypted by the push service.
    device = page.get_by_role("region", name="Reminders on this phone")
    device.get_by_role("button", name="Send a test reminder").tap()
    expect(page.get_by_role("status")).to_have_text("A test reminder is on its way.")
    [test_message] = push_service.to(PHONE)
    assert test_message.signature_ok
    assert test_message.payload["notification"]["body"] == TEST_BODY
    assert test_message.vapid_key == public_key

    # The weekly reminder comes due: the app encrypts, the push service decrypts.
    with app.app_context():
        report = send_due_reminders(due + timedelta(seconds=30))
        db.session.remove()
    assert report.sent == 1, report
    assert len(push_service.to(PHONE)) == 2
    weekly = push_service.to(PHONE)[-1]
    assert weekly.signature_ok
    plaintext = http_ece.decrypt(
        weekly.body,
        private_key=subscriber.private_key,
        auth_secret=subscriber.auth_secret,
        version="aes128gcm",
    ).decode()
    note = json.loads(plaintext)["notification"]
    assert re.fullmatch(r"weekly-\d{4}W\d{2}", note["tag"])
    assert weekly.headers["topic"] == note["tag"]
    assert note["navigate"] == f"{live_server}/sessions/new"

    # The same plaintext, delivered to the real service worker, shows the notification.
    cdp, rid = registration_id(context, page, live_server)
    assert shown_notifications(page) == []
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": live_server, "registrationId": rid, "data": plaintext},
    )
    deadline = time.monotonic() + 30
    shown = []
    while not shown and time.monotonic() < deadline:
        shown = shown_notifications(page)
        if not shown:
            page.wait_for_timeout(100)
    assert len(shown) == 1, shown
    [notification] = shown
    assert notification["title"] == "pnapp"
    assert notification["body"] == WEEKLY_BODY
    assert notification["tag"] == note["tag"]
    assert notification["data"]["url"] == f"{live_server}/sessions/new"

    # Tapping it opens the page for recording a session. Playwright cannot tap an OS
    # notification, so the worker's own notificationclick handler runs on the notification
    # Chromium keeps, through a NotificationEvent dispatched in the worker.
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Hello"))
    click = click_notification(context, page)
    assert click["closed"] and click["waited"] == 1, click
    page.wait_for_url(f"{live_server}/sessions/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Before your massage")
    cdp.detach()


CLICK = """async () => {
  const [n] = await self.registration.getNotifications();
  if (!n) return { error: "no notification" };
  let focusRefused = false;
  const focus = WindowClient.prototype.focus;
  // Chromium lets a worker focus a window only while it handles a notification click that
  // the browser itself dispatched; a dispatched event cannot have that, so a refusal here is
  // recorded instead of aborting the handler. The navigation itself is real.
  WindowClient.prototype.focus = function () {
    return focus.call(this).catch((err) => {
      if (err.name !== "InvalidAccessError") throw err;
      focusRefused = true;
      return this;
    });
  };
  try {
    const waited = [];
    const event = new NotificationEvent("notificationclick", { notification: n, action: "" });
    Object.defineProperty(event, "waitUntil", { value: (p) => { waited.push(p); } });
    self.dispatchEvent(event);
    await Promise.all(waited);
    const left = await self.registration.getNotifications();
    return { closed: left.length === 0, waited: waited.length, focusRefused };
  } finally {
    WindowClient.prototype.focus = focus;
  }
}"""


def click_notification(context: BrowserContext, page: Page) -> dict:
    [worker] = [w for w in context.service_workers if w.url.endswith("/sw.js")]
    return worker.evaluate(CLICK)


@pytest.fixture
def blocked_page(browser, live_server, app, alice, subscriber):
    """Alice on a phone where she answered the notification prompt with "Block".

    Nothing is granted to this context, and headless Chromium answers every permission
    prompt with a persistent "denied": the state a patient's "Block" leaves. (Playwright can
    only grant, and DevTools' Browser.setPermission "denied" does not stick in a second
    context of one browser.)"""
    context = new_phone(browser, live_server)
    try:
        context.add_init_script(PUSH_STUB % {"sub": json.dumps(subscriber.subscription())})
        page = context.new_page()
        log_in(page, alice.email)
        page.goto("/settings")
        device = page.get_by_role("region", name="Reminders on this phone")
        expect(device.get_by_text("Reminders are off on this phone.")).to_be_visible()
        assert page.evaluate("Notification.permission") == "default"
        device.get_by_role("button", name="Turn on reminders").tap()
        expect(device.get_by_text(BLOCKED)).to_be_visible()
        assert page.evaluate("Notification.permission") == "denied"
        page.reload()  # what every later visit to Settings shows
        yield page
    finally:
        context.close()


def test_blocked_notifications_explain_how_to_allow_them(blocked_page, app, alice):
    page = blocked_page
    device = page.get_by_role("region", name="Reminders on this phone")
    expect(device.get_by_text(BLOCKED)).to_be_visible()
    for other in ("Checking this browser", "Reminders are off", "Reminders are on"):
        expect(device.get_by_text(other)).to_be_hidden()
    page.wait_for_load_state("networkidle")
    # The one prompt came from the tap; nothing was subscribed or stored.
    assert stub_state(page) == {"subscribeCalls": [], "permissionRequests": 1, "subscribed": False}
    assert subscriptions(app, alice.id) == []
    with app.app_context():
        assert db.session.get(User, alice.id).reminder_enabled is False
        db.session.remove()


def test_blocked_notifications_offer_no_button(blocked_page):
    # Regression: `.button { display: flex }` once beat the hidden attribute (fixed in 96405a0).
    device = blocked_page.get_by_role("region", name="Reminders on this phone")
    expect(device.get_by_text(BLOCKED)).to_be_visible()
    for name in ("Turn on reminders", "Send a test reminder", "Turn off reminders on this phone"):
        expect(device.get_by_role("button", name=name)).to_be_hidden()


def test_the_settings_card_shows_only_the_buttons_that_apply(push_page, app, alice, subscriber):
    page = push_page
    log_in(page, alice.email)
    page.goto("/settings")
    device = page.get_by_role("region", name="Reminders on this phone")
    enable = device.get_by_role("button", name="Turn on reminders")
    test = device.get_by_role("button", name="Send a test reminder")
    disable = device.get_by_role("button", name="Turn off reminders on this phone")
    expect(device.get_by_text("Reminders are off on this phone.")).to_be_visible()
    # Off: only the way to turn them on.
    expect(enable).to_be_visible()
    expect(test).to_be_hidden()
    expect(disable).to_be_hidden()
    enable.tap()
    expect(device.get_by_text("Reminders are on for this phone.")).to_be_visible()
    # On: test and turn off, no second "Turn on".
    expect(enable).to_be_hidden()
    expect(test).to_be_visible()
    expect(disable).to_be_visible()


def test_every_start_repairs_a_subscription_the_server_lost(push_page, app, alice, subscriber):
    page = push_page
    turn_on_reminders(page, app, alice, subscriber)

    def lose_server_copy():
        with app.app_context():
            db.session.execute(delete(PushSubscription).where(PushSubscription.user_id == alice.id))
            db.session.commit()
            db.session.remove()
        assert subscriptions(app, alice.id) == []

    # The phone's note of what it told the server is gone: the next start posts again.
    lose_server_copy()
    page.evaluate("localStorage.removeItem('pnapp.push')")
    page.goto("/")
    wait_until(lambda: subscriptions(app, alice.id), what="the re-posted subscription")
    assert subscriptions(app, alice.id) == [subscriber.endpoint]
    # The page writes its note once the server has answered, a moment after the row exists.
    # (A function, not an expression: Playwright evaluates expressions with eval, which the
    # page's Content-Security-Policy refuses.)
    page.wait_for_function("() => localStorage.getItem('pnapp.push') !== null")

    # A note older than a day is checked again too.
    lose_server_copy()
    page.evaluate(
        """() => {
          const known = JSON.parse(localStorage.getItem("pnapp.push"));
          known.at = Date.now() - 25 * 3600 * 1000;
          localStorage.setItem("pnapp.push", JSON.stringify(known));
        }"""
    )
    page.reload()
    wait_until(lambda: subscriptions(app, alice.id), what="the re-posted subscription")
    assert subscriptions(app, alice.id) == [subscriber.endpoint]
    # Still one subscription from the one tap: the repair re-posts, it does not re-subscribe.
    assert len(stub_state(page)["subscribeCalls"]) == 1
    # The page wrote a fresh note once the server answered.
    known = page.wait_for_function(
        """() => { const k = JSON.parse(localStorage.getItem('pnapp.push'));
                   return k && Date.now() - k.at < 3600 * 1000 && k; }"""
    ).json_value()
    assert known["endpoint"] == subscriber.endpoint
    assert known["user"] == str(alice.id)


def test_blocked_notifications_are_told_to_the_server_and_reminders_go_by_email(
    blocked_page, app, alice
):
    """The reminder ladder: a browser that blocks notifications reports it (push.js), and
    the reminder goes by e-mail to a confirmed address; Settings says why."""

    def blocked() -> bool:
        with app.app_context():
            found = db.session.get(User, alice.id).push_blocked
            db.session.remove()
            return found

    wait_until(blocked, what="push_blocked reported")
    with app.app_context():
        user = db.session.get(User, alice.id)
        user.email_verified = True
        user.update({"reminder": {"enabled": True}})
        db.session.remove()
    blocked_page.reload()
    expect(blocked_page.locator("#reminder-route")).to_contain_text(
        "Notifications are blocked on your phone, so we will e-mail you on Monday"
    )
