"""What each kind of message is called and what its notification says: Declarative Web Push
payloads (API.md, Notification payloads) in the person's language, with generic words only,
since they show on lock screens."""

from __future__ import annotations

from flask import current_app

from pnapp.i18n import N_, in_language

WEEKLY = "weekly"
AFTER_NUDGE = "after_nudge"
MISSED_WEEK = "caregiver_missed_week"
# Caregivers who help (reminders/caring.py plans these).
HEADS_UP = "caregiver_heads_up"
DIGEST = "caregiver_digest"
ENCOURAGEMENT = "encouragement"

TEXT = {
    WEEKLY: N_("Time for your weekly massage check-in"),
    AFTER_NUDGE: N_("How do you feel after your massage? Tap to rate."),
    MISSED_WEEK: N_("%(name)s has no session recorded for last week."),
    HEADS_UP: N_("%(name)s has no massage recorded yet this week. Could you help?"),
    ENCOURAGEMENT: N_("%(name)s sent you a kind word. Tap to read it."),
    "test": N_("This is a test reminder from pnapp."),
}
# The buttons a notification offers (API.md, Notification payloads), answered from the
# notification itself; where buttons are not shown (iOS), its own `navigate` opens the form.
ACTION_TITLES = {
    "start": N_("Start now"),
    "snooze": N_("Remind me tomorrow"),
    "rate": N_("Rate now"),
}


def payload(
    kind: str,
    *,
    tag: str,
    path: str,
    language: str,
    actions: tuple[tuple[str, str], ...] = (),
    badge: int | None = None,
    **values,
) -> dict:
    """Declarative Web Push (Safari 18.4+); other browsers hand it to the service worker.
    Generic words only, in the person's language: it shows on lock screens. `actions` are
    (action, path) pairs; `badge` is the app badge's count while something is due."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    body = in_language(language, TEXT[kind])
    notification = {
        "title": "pnapp",
        "body": body % values if values else body,
        "navigate": f"{base}{path}",
        "tag": tag,
        "lang": language,
    }
    if badge is not None:
        notification["app_badge"] = badge
    if actions:
        notification["actions"] = [
            {
                "action": action,
                "title": in_language(language, ACTION_TITLES[action]),
                "navigate": f"{base}{target}",
            }
            for action, target in actions
        ]
    message = {"web_push": 8030, "notification": notification}
    if badge is not None:
        # The W3C draft reads the badge at the top level, WebKit inside the notification.
        message["app_badge"] = badge
    return message


def weekly_payload(week: str, language: str) -> dict:
    """This week's reminder: Start now opens the before form, Remind me tomorrow asks for
    one more reminder a day later (snooze.py)."""
    return payload(
        WEEKLY,
        tag=f"weekly-{week.replace('-', '')}",
        path="/sessions/new",
        language=language,
        actions=(("start", "/sessions/new"), ("snooze", f"/reminders/snooze?week={week}")),
        badge=1,
    )
