"""Answering a reminder from the notification itself (API.md, Notification payloads), on a
phone-sized Chromium: the app encrypts the weekly reminder for the local push service, the
same plaintext drives the real service worker, its buttons are read back with
getNotifications(), and a button is pressed by dispatching a notificationclick with that
action inside the worker (no DevTools command clicks a notification). Also the app badge,
seen through wrapped Badging API calls, and the manifest's shortcuts as Chromium parses them.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from pnapp.extensions import db
from pnapp.models import Delivery, MassageSession, User
from pnapp.reminders import send_due_reminders
from tests.browser import test_push
from tests.browser.conftest import wait_for_scripts
from tests.browser.test_push import PHONE, log_in, registration_id, turn_on_reminders
from tests.browser.test_record_session import tap_rating

# The phone of test_push.py: notifications allowed, PushManager stubbed with the test's keys.
push_context = test_push.push_context
push_page = test_push.push_page
subscriber = test_push.subscriber

# Every call the pages make to the Badging API, kept across navigations.
BADGE_SPY = """
(() => {
  if (!self.localStorage || !("setAppBadge" in navigator)) return;
  const KEY = "pnapp.test.badge";
  const note = (call) => localStorage.setItem(KEY,
    JSON.stringify(JSON.parse(localStorage.getItem(KEY) || "[]").concat([call])));
  const set = Navigator.prototype.setAppBadge, clear = Navigator.prototype.clearAppBadge;
  Navigator.prototype.setAppBadge = function (n) { note(["set", n]); return set.call(this, n); };
  Navigator.prototype.clearAppBadge = function () { note(["clear"]); return clear.call(this); };
})();
"""

# The same in the worker, which init scripts do not reach.
WORKER_BADGE_SPY = """() => {
  self.badgeCalls = [];
  const set = WorkerNavigator.prototype.setAppBadge;
  WorkerNavigator.prototype.setAppBadge = function (n) {
    self.badgeCalls.push(n); return set.call(this, n);
  };
  return true;
}"""

# A notificationclick with `action`, dispatched in the worker on the notification shown. An
# untrusted event's waitUntil() throws, so the handler's promise is awaited instead; the
# worker may focus a window only for a click the browser dispatched, so a refused focus is
# let through (the navigation itself is real).
CLICK = """async (action) => {
  const [n] = await self.registration.getNotifications();
  if (!n) return { error: "no notification" };
  const focus = WindowClient.prototype.focus;
  WindowClient.prototype.focus = function () {
    return focus.call(this).catch((err) => {
      if (err.name !== "InvalidAccessError") throw err;
      return this;
    });
  };
  try {
    const event = new NotificationEvent("notificationclick", { notification: n, action });
    Object.defineProperty(event, "waitUntil", { value: () => {} });
    self.dispatchEvent(event);
    const answer = await self.lastClick;
    return { answer, left: (await self.registration.getNotifications()).length };
  } finally {
    WindowClient.prototype.focus = focus;
  }
}"""


def worker(context: BrowserContext):
    [found] = [w for w in context.service_workers if w.url.endswith("/sw.js")]
    return found


def due_weekly(app, alice, push_service, subscriber) -> tuple[str, dict]:
    """Send this week's reminder; the plaintext the push service decrypted, and its JSON."""
    with app.app_context():
        due = db.session.get(User, alice.id).next_reminder_at
        report = send_due_reminders(due + timedelta(seconds=30))
        db.session.remove()
    assert report.sent == 1, report
    message = push_service.to(PHONE)[-1]
    assert message.signature_ok
    # What the local push service decrypted, as the worker will receive it.
    return json.dumps(message.payload), message.payload


def deliver(context: BrowserContext, page: Page, live_server: str, plaintext: str) -> list:
    cdp, rid = registration_id(context, page, live_server)
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": live_server, "registrationId": rid, "data": plaintext},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shown = page.evaluate(
            """() => navigator.serviceWorker.ready.then((r) => r.getNotifications()).then(
                 (ns) => ns.map((n) => ({ tag: n.tag, data: n.data,
                   actions: n.actions.map((a) => ({ action: a.action, title: a.title })) })))"""
        )
        if shown:
            cdp.detach()
            return shown
        page.wait_for_timeout(100)
    raise AssertionError("no notification shown")


def test_start_now_opens_the_before_form_and_a_rating_is_saved_in_four_taps(
    push_context, push_page, app, alice, push_service, subscriber, live_server
):
    context, page = push_context, push_page
    context.add_init_script(BADGE_SPY)
    turn_on_reminders(page, app, alice, subscriber)
    plaintext, sent = due_weekly(app, alice, push_service, subscriber)

    # The payload: Declarative Web Push with both buttons and the badge.
    note = sent["notification"]
    assert sent["web_push"] == 8030 and sent["app_badge"] == 1 and note["app_badge"] == 1
    week = note["tag"].removeprefix("weekly-")
    assert note["actions"] == [
        {"action": "start", "title": "Start now", "navigate": f"{live_server}/sessions/new"},
        {
            "action": "snooze",
            "title": "Remind me tomorrow",
            "navigate": f"{live_server}/reminders/snooze?week={week[:4]}-{week[4:]}",
        },
    ]

    page.goto("/")
    assert worker(context).evaluate(WORKER_BADGE_SPY)
    [shown] = deliver(context, page, live_server, plaintext)
    assert shown["actions"] == [
        {"action": "start", "title": "Start now"},
        {"action": "snooze", "title": "Remind me tomorrow"},
    ]
    # The worker put the badge on the icon when the reminder came.
    assert worker(context).evaluate("self.badgeCalls") == [1]

    # Tap 1: "Start now" (in the worker), then pain, stress, Save.
    taps = 1
    click = worker(context).evaluate(CLICK, "start")
    assert click == {"answer": "opened", "left": 0}, click
    page.wait_for_url(f"{live_server}/sessions/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Before your massage")
    for measure, value in (("pain", 6), ("stress", 5)):
        tap_rating(page, "before", measure, value)
        taps += 1
    page.get_by_role("button", name="Save").tap()
    taps += 1
    expect(page.get_by_role("heading", level=1)).to_have_text("After your massage")
    assert taps <= 4
    with app.app_context():
        [saved] = db.session.scalars(
            select(MassageSession).where(MassageSession.patient_id == alice.id)
        ).all()
        assert (saved.before_pain, saved.before_stress) == (6, 5)
        db.session.remove()

    # An after rating is due: the badge stays; once it is saved (goal met), it clears.
    tap_rating(page, "after", "pain", 3)
    tap_rating(page, "after", "stress", 2)
    page.get_by_role("button", name="Save").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your session")
    wait_for_scripts(page)
    calls = json.loads(page.evaluate("localStorage.getItem('pnapp.test.badge')"))
    assert calls[-2:] == [["set", 1], ["clear"]], calls


def test_remind_me_tomorrow_sends_exactly_one_more_reminder(
    push_context, push_page, app, alice, push_service, subscriber, live_server
):
    context, page = push_context, push_page
    turn_on_reminders(page, app, alice, subscriber)
    plaintext, _ = due_weekly(app, alice, push_service, subscriber)
    page.goto("/")
    deliver(context, page, live_server, plaintext)

    tapped = datetime.now(UTC)
    click = worker(context).evaluate(CLICK, "snooze")
    # Answered without opening pnapp: still on the home page.
    assert click == {"answer": "snoozed", "left": 0}, click
    assert page.url == f"{live_server}/"
    with app.app_context():
        [row] = db.session.scalars(
            select(Delivery).where(Delivery.user_id == alice.id, Delivery.period.like("%:snooze"))
        ).all()
        assert (
            timedelta(hours=23, minutes=59) < row.due_at - tapped < timedelta(hours=24, minutes=1)
        )
        for late in (
            row.due_at - timedelta(minutes=1),
            row.due_at,
            row.due_at + timedelta(hours=1),
        ):
            send_due_reminders(late)
        db.session.remove()
    assert len(push_service.to(PHONE)) == 2  # the weekly one and the one more


def test_rate_now_on_the_after_nudge_opens_that_sessions_after_form(
    push_context, push_page, app, alice, push_service, subscriber, live_server
):
    context, page = push_context, push_page
    turn_on_reminders(page, app, alice, subscriber)
    started = datetime.now(UTC) - timedelta(hours=4)
    with app.app_context():
        session, _ = MassageSession.record(
            db.session.get(User, alice.id),
            {
                "client_id": "5d1a8e1c-3c1e-4f51-9a43-0c6a0d3b1d10",
                "started_at": started,
                "before": {"pain": 6, "stress": 5},
            },
            db.session.get(User, alice.id),
        )
        session_id = session.id
        send_due_reminders(datetime.now(UTC))
        db.session.remove()
    message = push_service.to(PHONE)[-1]
    note = message.payload["notification"]
    assert note["navigate"] == f"{live_server}/sessions/{session_id}#after"
    assert note["actions"] == [
        {
            "action": "rate",
            "title": "Rate now",
            "navigate": f"{live_server}/sessions/{session_id}#after",
        }
    ]
    page.goto("/")
    plaintext = json.dumps(message.payload)
    deliver(context, page, live_server, plaintext)
    click = worker(context).evaluate(CLICK, "rate")
    assert click["answer"] == "opened"
    page.wait_for_url(f"{live_server}/sessions/{session_id}#after")
    expect(page.get_by_role("heading", level=1)).to_have_text("After your massage")

    # Where buttons are not shown (iOS), the notification's own link opens the same form.
    page.goto("/")
    deliver(context, page, live_server, plaintext)
    click = worker(context).evaluate(CLICK, "")
    page.wait_for_url(f"{live_server}/sessions/{session_id}#after")


def test_the_manifest_offers_shortcuts_chromium_can_read(phone, live_server, alice):
    page = phone
    log_in(page, alice.email)
    wait_for_scripts(page)  # the page links its manifest as its scripts start
    cdp = page.context.new_cdp_session(page)
    answer = cdp.send("Page.getAppManifest")
    assert answer["errors"] == []
    # As Chromium parsed them: absolute URLs in the app's scope.
    shortcuts = answer["manifest"]["shortcuts"]
    assert [(s["name"], s["url"]) for s in shortcuts] == [
        ("Start a session", f"{live_server}/sessions/new?source=shortcut"),
        ("How do I feel now?", f"{live_server}/sessions/after?source=shortcut"),
        ("Progress", f"{live_server}/progress?source=shortcut"),
    ]
    # "How do I feel now?" with nothing waiting for an after rating starts a session.
    page.goto(shortcuts[1]["url"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Before your massage")
