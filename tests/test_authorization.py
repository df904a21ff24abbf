"""Who may call what, for every route of the app, generated from its URL map.

The callers: anonymous; alice, the patient whose data is at stake; bob_<scope>, a caregiver
holding one scope of alice's; bob_ended, whose share alice ended; charlie, a caregiver of
another patient. Denied callers get the documented status, and no denied response carries
anything of alice's. A route missing from ROUTES fails the coverage test, so a new endpoint
cannot escape this matrix.
"""

from __future__ import annotations

import pytest

from pnapp.extensions import db
from pnapp.models import CareShare, Invite
from tests.conftest import PASSWORD, Api, make_user
from tests.helpers import add_passkey, session_body

SCOPES = ("progress", "sessions", "notes", "alerts", "record", "digest", "heads_up")
CAREGIVERS = tuple(f"bob_{s}" for s in SCOPES)
CALLERS = ("anon", "charlie", "bob_ended", *CAREGIVERS, "alice")  # alice last: she may delete
SECRETS = ("SECRET-NOTE-4521", "Therapist-Zed", "alice@example.com", "Pixel-Of-Alice")

FCM = {
    "endpoint": "https://fcm.googleapis.com/fcm/send/abc",
    "keys": {"p256dh": "B" * 87, "auth": "A" * 22},
}


class World:
    def __init__(self, app):
        self.app = app
        alice = make_user(app, "alice@example.com", "patient", name="Alice")
        self.alice_id = alice.id
        self.clients = {"anon": Api(app.test_client()), "alice": login(app, alice.email)}
        api = self.clients["alice"]
        self.session = api.post("/sessions", session_body(notes="SECRET-NOTE-4521")).get_json()
        self.therapist = api.post("/therapists", {"name": "Therapist-Zed"}).get_json()
        self.shares = {}
        for scope in (*SCOPES, "ended"):
            bob = make_user(app, f"bob_{scope}@example.com", "caregiver", name=f"Bob {scope}")
            self.clients[f"bob_{scope}"] = login(app, bob.email)
            token = (
                api.post(
                    "/shares/invites",
                    {"scopes": [scope] if scope in SCOPES else ["progress", "sessions", "notes"]},
                )
                .get_json()["invite_url"]
                .rsplit("/", 1)[-1]
            )
            share = self.clients[f"bob_{scope}"].post("/shares/accept", {"token": token})
            self.shares[scope] = share.get_json()["id"]
        api.delete(f"/shares/{self.shares['ended']}")
        dave = make_user(app, "dave@example.com", "patient", name="Dave")
        charlie = make_user(app, "charlie@example.com", "caregiver", name="Charlie")
        self.clients["charlie"] = login(app, charlie.email)
        dave_api = login(app, dave.email)
        token = dave_api.post("/shares/invites", {}).get_json()["invite_url"].rsplit("/", 1)[-1]
        self.clients["charlie"].post("/shares/accept", {"token": token})
        self.invite_token = (
            api.post("/shares/invites", {}).get_json()["invite_url"].rsplit("/", 1)[-1]
        )
        [self.invite_id] = [i["id"] for i in api.get("/shares/invites").get_json()["items"]]

        self.login_id = api.get("/auth/logins").get_json()["items"][0]["id"]
        # A link for a therapist, with the secret note in it: its manifest opens for anyone
        # holding the link, and shows nothing but encrypted files.
        link = api.post("/links", {"label": "Dr Who", "contents": ["summary"], "notes": True})
        self.link_id = link.get_json()["id"]
        self.manifest_id = manifest_id(link.get_json())
        files = self.clients["anon"].post(
            f"/shl/{self.manifest_id}", {"recipient": "Dana", "embeddedLengthMax": 1}
        )
        self.file_path = files.get_json()["files"][0]["location"].split("/api/v1", 1)[1]
        # Two of alice's passkeys: removing one is not removing the last.
        self.passkey_id = add_passkey(app, alice.id, "Pixel-Of-Alice")
        add_passkey(app, alice.id, "Alice's tablet")

    def fresh_invite(self) -> str:
        api = self.clients["alice"]
        return api.post("/shares/invites", {}).get_json()["invite_url"].rsplit("/", 1)[-1]


def manifest_id(link: dict) -> str:
    from pnapp.links import protocol

    return protocol.parse(link["shlink"])["url"].rsplit("/", 1)[1]


def login(app, email: str) -> Api:
    return Api(app.test_client()).login(email, PASSWORD)


# Expected answers, by kind of route.
OWN_API = {
    "anon": 401,
    "alice": (200, 201, 202, 204),
    **dict.fromkeys(("charlie", "bob_ended", *CAREGIVERS), 403),
}
SELF_API = {
    "anon": 401,
    **dict.fromkeys(("alice", "charlie", "bob_ended", *CAREGIVERS), (200, 201, 202, 204)),
}
PATIENT_PAGE = {
    "anon": "login",
    "alice": (200, 302),
    **dict.fromkeys(("charlie", "bob_ended", *CAREGIVERS), "care"),
}
LOGGED_IN_PAGE = {
    "anon": "login",
    **dict.fromkeys(("alice", "charlie", "bob_ended", *CAREGIVERS), (200, 302)),
}
PUBLIC = dict.fromkeys(CALLERS, (200, 201, 204, 302, 401, 409, 410, 422))
NO_LINK = dict.fromkeys(CALLERS, 404)


def care_api(scope: str) -> dict:
    return {
        "anon": 401,
        "alice": 403,
        "charlie": 404,
        "bob_ended": 404,
        **{bob: 200 if bob == f"bob_{scope}" else 404 for bob in CAREGIVERS},
    }


def share_item(method: str) -> dict:
    """PATCH/DELETE on bob_progress's share of alice."""
    mine = 403 if method == "PATCH" else 204  # a caregiver may leave, not change scopes
    return {
        "anon": 401,
        "alice": (200, 204, 404),
        "charlie": 404,
        "bob_ended": 404,
        **{bob: mine if bob == "bob_progress" else 404 for bob in CAREGIVERS},
    }


S, T = "{session}", "{therapist}"
ROUTES = {
    ("/", "GET"): ("/", None, {**LOGGED_IN_PAGE, "anon": 200}),
    ("/api/docs", "GET"): ("/api/docs", None, PUBLIC),
    ("/api/openapi.json", "GET"): ("/api/openapi.json", None, PUBLIC),
    ("/api/v1/auth/csrf", "GET"): ("/api/v1/auth/csrf", None, PUBLIC),
    ("/api/v1/auth/login", "POST"): (
        "/api/v1/auth/login",
        {"email": "someone@example.com", "password": "wrong password"},
        PUBLIC,
    ),
    ("/api/v1/auth/logout", "POST"): ("/api/v1/auth/logout", None, PUBLIC),
    ("/api/v1/auth/register", "POST"): ("/api/v1/auth/register", {"email": "x"}, PUBLIC),
    ("/api/v1/auth/password", "POST"): (
        "/api/v1/auth/password",
        {"current_password": "not the password", "new_password": "a new password 123"},
        {**dict.fromkeys(CALLERS, 403), "anon": 401},
    ),
    ("/api/v1/auth/logins", "GET"): ("/api/v1/auth/logins", None, SELF_API),
    ("/api/v1/auth/logins/<int:login_id>", "DELETE"): (
        "/api/v1/auth/logins/{login}",
        None,
        {**dict.fromkeys(CALLERS, 404), "anon": 401, "alice": 204},
    ),
    ("/api/v1/auth/logout-everywhere", "POST"): ("/api/v1/auth/logout-everywhere", None, SELF_API),
    ("/settings/logins/<int:login_id>/end", "POST"): (
        "/settings/logins/{login}/end",
        {},
        {**dict.fromkeys(CALLERS, 404), "anon": "login", "alice": 302},
    ),
    ("/settings/logout-everywhere", "POST"): ("/settings/logout-everywhere", {}, LOGGED_IN_PAGE),
    ("/api/v1/me", "GET"): ("/api/v1/me", None, SELF_API),
    ("/api/v1/me", "PATCH"): ("/api/v1/me", {"weekly_goal": 2}, SELF_API),
    ("/api/v1/me", "DELETE"): ("/api/v1/me", {"password": PASSWORD}, SELF_API),
    ("/api/v1/patients/<int:patient_id>/progress", "GET"): (
        "/api/v1/patients/{alice}/progress",
        None,
        care_api("progress"),
    ),
    ("/api/v1/patients/<int:patient_id>/sessions", "GET"): (
        "/api/v1/patients/{alice}/sessions",
        None,
        care_api("sessions"),
    ),
    ("/api/v1/progress", "GET"): ("/api/v1/progress", None, OWN_API),
    ("/api/v1/pgic", "POST"): ("/api/v1/pgic", {"value": 3}, {**OWN_API, "alice": 201}),
    ("/api/v1/push/key", "GET"): ("/api/v1/push/key", None, PUBLIC),
    ("/api/v1/push/subscriptions", "POST"): ("/api/v1/push/subscriptions", FCM, SELF_API),
    ("/api/v1/push/subscriptions", "DELETE"): (
        "/api/v1/push/subscriptions",
        {"endpoint": FCM["endpoint"]},
        SELF_API,
    ),
    ("/api/v1/push/test", "POST"): ("/api/v1/push/test", None, SELF_API),
    ("/api/v1/sessions", "GET"): ("/api/v1/sessions", None, OWN_API),
    ("/api/v1/sessions", "POST"): ("/api/v1/sessions", "new-session", OWN_API),
    ("/api/v1/sessions/<int:session_id>", "GET"): (f"/api/v1/sessions/{S}", None, OWN_API),
    ("/api/v1/sessions/<int:session_id>", "PATCH"): (
        f"/api/v1/sessions/{S}",
        {"duration_min": 45},
        OWN_API,
    ),
    ("/api/v1/sessions/<int:session_id>", "DELETE"): (f"/api/v1/sessions/{S}", None, OWN_API),
    ("/api/v1/shares", "GET"): ("/api/v1/shares", None, SELF_API),
    ("/api/v1/shares/<int:share_id>", "PATCH"): (
        "/api/v1/shares/{share}",
        {"scopes": ["progress", "notes"]},
        share_item("PATCH"),
    ),
    ("/api/v1/shares/<int:share_id>", "DELETE"): (
        "/api/v1/shares/{share}",
        None,
        share_item("DELETE"),
    ),
    ("/api/v1/shares/accept", "POST"): (
        "/api/v1/shares/accept",
        "token",
        {
            "anon": 401,
            "alice": 403,
            # A caregiver who already shares with the patient keeps the share as it is.
            **dict.fromkeys(("charlie", "bob_ended"), 201),
            **dict.fromkeys(CAREGIVERS, 409),
        },
    ),
    ("/api/v1/shares/invites", "GET"): ("/api/v1/shares/invites", None, OWN_API),
    ("/api/v1/shares/invites", "POST"): ("/api/v1/shares/invites", {}, {**OWN_API, "alice": 201}),
    ("/api/v1/shares/invites/<int:invite_id>", "DELETE"): (
        "/api/v1/shares/invites/{invite}",
        None,
        OWN_API,
    ),
    ("/api/v1/therapists", "GET"): ("/api/v1/therapists", None, OWN_API),
    ("/api/v1/therapists", "POST"): ("/api/v1/therapists", {"name": "New"}, OWN_API),
    ("/api/v1/therapists/<int:therapist_id>", "GET"): (f"/api/v1/therapists/{T}", None, OWN_API),
    ("/api/v1/therapists/<int:therapist_id>", "PATCH"): (
        f"/api/v1/therapists/{T}",
        {"phone": "555"},
        OWN_API,
    ),
    ("/api/v1/therapists/<int:therapist_id>", "DELETE"): (f"/api/v1/therapists/{T}", None, OWN_API),
    ("/care", "GET"): ("/care", None, {**LOGGED_IN_PAGE}),
    ("/care/<int:patient_id>", "GET"): (
        "/care/{alice}",
        None,
        {
            "anon": "login",
            "alice": 404,
            "charlie": 404,
            "bob_ended": 404,
            **dict.fromkeys(CAREGIVERS, 200),
        },
    ),
    ("/care/<int:patient_id>/encourage", "POST"): (
        "/care/{alice}/encourage",
        {"message": "proud"},
        {
            "anon": "login",
            "alice": 404,
            "charlie": 404,
            "bob_ended": 404,
            **dict.fromkeys(CAREGIVERS, 302),
        },
    ),
    ("/care/<int:patient_id>/record", "GET"): (
        "/care/{alice}/record",
        None,
        {
            "anon": "login",
            "alice": 404,
            "charlie": 404,
            "bob_ended": 404,
            **{bob: 200 if bob == "bob_record" else 404 for bob in CAREGIVERS},
        },
    ),
    ("/care/<int:patient_id>/record", "POST"): (
        "/care/{alice}/record",
        {"client_id": "{uuid}", "before.pain": "3", "before.stress": "4"},
        {
            "anon": "login",
            "alice": 404,
            "charlie": 404,
            "bob_ended": 404,
            **{bob: 302 if bob == "bob_record" else 404 for bob in CAREGIVERS},
        },
    ),
    ("/api/v1/patients/<int:patient_id>/sessions", "POST"): (
        "/api/v1/patients/{alice}/sessions",
        "new-session",
        {**care_api("record"), "bob_record": 201},
    ),
    # Alice's own session: `record` alone changes only what that caregiver entered
    # (tests/test_caring.py), and never shows another single session.
    ("/api/v1/patients/<int:patient_id>/sessions/<int:session_id>", "PATCH"): (
        f"/api/v1/patients/{{alice}}/sessions/{S}",
        {"after": {"pain": 1, "stress": 1}},
        {**care_api("record"), "bob_record": 404},
    ),
    ("/api/v1/patients/<int:patient_id>/encouragements", "POST"): (
        "/api/v1/patients/{alice}/encouragements",
        {"message": "proud"},
        {
            "anon": 401,
            "alice": 403,
            "charlie": 404,
            "bob_ended": 404,
            **dict.fromkeys(CAREGIVERS, 201),
        },
    ),
    ("/api/v1/encouragements", "GET"): ("/api/v1/encouragements", None, SELF_API),
    ("/api/v1/access-log", "GET"): ("/api/v1/access-log", None, OWN_API),
    ("/share/<int:share_id>/end", "GET"): (
        "/share/{share}/end",
        None,
        {
            "anon": "login",
            "alice": 200,
            "charlie": 404,
            "bob_ended": 404,
            **{bob: 200 if bob == "bob_progress" else 404 for bob in CAREGIVERS},
        },
    ),
    ("/share/encouragements", "POST"): (
        "/share/encouragements",
        {"encouragements": "on"},
        {
            "anon": "login",
            "alice": 302,
            **dict.fromkeys(("charlie", "bob_ended", *CAREGIVERS), 403),
        },
    ),
    ("/healthz", "GET"): ("/healthz", None, PUBLIC),
    ("/history", "GET"): ("/history", None, PATIENT_PAGE),
    ("/invite/<token>", "GET"): ("/invite/{token}", None, PUBLIC),
    ("/invite/<token>", "POST"): ("/invite/{token}", {}, PUBLIC),
    ("/login", "GET"): ("/login", None, PUBLIC),
    ("/login", "POST"): ("/login", {"email": "someone@example.com", "password": "x"}, PUBLIC),
    ("/logout", "POST"): ("/logout", {}, PUBLIC),
    ("/manifest.webmanifest", "GET"): ("/manifest.webmanifest", None, PUBLIC),
    # Operators' addresses only (PNAPP_METRICS_ALLOW, empty here): nobody else, logged in or not.
    ("/metrics", "GET"): ("/metrics", None, dict.fromkeys(CALLERS, 404)),
    ("/offline", "GET"): ("/offline", None, PUBLIC),
    ("/progress", "GET"): ("/progress", None, PATIENT_PAGE),
    ("/pgic", "POST"): ("/pgic", {"value": "3"}, PATIENT_PAGE),
    ("/register", "GET"): ("/register", None, PUBLIC),
    ("/register", "POST"): ("/register", {"email": "x"}, PUBLIC),
    # Getting back in: mailed links name their account themselves, so who asks does not
    # matter; a link that is not one of ours is a 404 for everyone.
    ("/api/v1/auth/verify-email", "POST"): ("/api/v1/auth/verify-email", {"token": "x"}, NO_LINK),
    ("/api/v1/auth/verify-email/resend", "POST"): (
        "/api/v1/auth/verify-email/resend",
        None,
        SELF_API,
    ),
    ("/api/v1/auth/password-reset", "POST"): (
        "/api/v1/auth/password-reset",
        {"email": "someone@example.com"},
        dict.fromkeys(CALLERS, 202),
    ),
    ("/api/v1/auth/password-reset/confirm", "POST"): (
        "/api/v1/auth/password-reset/confirm",
        {"token": "x", "new_password": "a long enough password"},
        NO_LINK,
    ),
    ("/password-reset", "GET"): ("/password-reset", None, PUBLIC),
    ("/password-reset", "POST"): ("/password-reset", {"email": "someone@example.com"}, PUBLIC),
    ("/password-reset/<token>", "GET"): ("/password-reset/x", None, NO_LINK),
    ("/password-reset/<token>", "POST"): ("/password-reset/x", {"new_password": "x" * 12}, NO_LINK),
    ("/sign-in-link", "GET"): ("/sign-in-link", None, PUBLIC),
    ("/sign-in-link", "POST"): ("/sign-in-link", {"email": "someone@example.com"}, PUBLIC),
    ("/sign-in/<token>", "GET"): ("/sign-in/x", None, NO_LINK),
    ("/sign-in/<token>", "POST"): ("/sign-in/x", {}, NO_LINK),
    ("/api/v1/auth/sign-in-link", "POST"): (
        "/api/v1/auth/sign-in-link",
        {"email": "someone@example.com"},
        dict.fromkeys(CALLERS, 202),
    ),
    ("/api/v1/auth/sign-in-link/confirm", "POST"): (
        "/api/v1/auth/sign-in-link/confirm",
        {"token": "x"},
        NO_LINK,
    ),
    # Passkeys: signing in with one is for anyone (a made-up answer proves nobody); the
    # passkeys themselves are their owner's, and someone else's are not there (404).
    ("/api/v1/auth/passkey-login/options", "POST"): (
        "/api/v1/auth/passkey-login/options",
        None,
        dict.fromkeys(CALLERS, 200),
    ),
    ("/api/v1/auth/passkey-login", "POST"): (
        "/api/v1/auth/passkey-login",
        {"credential": {"id": "x", "rawId": "x", "type": "public-key", "response": {}}},
        dict.fromkeys(CALLERS, 401),
    ),
    ("/api/v1/auth/passkeys/options", "POST"): ("/api/v1/auth/passkeys/options", None, SELF_API),
    ("/api/v1/auth/passkeys", "POST"): (
        "/api/v1/auth/passkeys",
        {"credential": {"id": "x"}},
        {**dict.fromkeys(CALLERS, 422), "anon": 401},
    ),
    ("/api/v1/auth/passkeys", "GET"): ("/api/v1/auth/passkeys", None, SELF_API),
    ("/api/v1/auth/passkeys/<int:passkey_id>", "PATCH"): (
        "/api/v1/auth/passkeys/{passkey}",
        {"name": "Renamed"},
        {**dict.fromkeys(CALLERS, 404), "anon": 401, "alice": 200},
    ),
    ("/api/v1/auth/passkeys/<int:passkey_id>", "DELETE"): (
        "/api/v1/auth/passkeys/{passkey}",
        None,
        {**dict.fromkeys(CALLERS, 404), "anon": 401, "alice": 204},
    ),
    ("/passkeys/new", "GET"): ("/passkeys/new", None, LOGGED_IN_PAGE),
    ("/passkeys/remove/<token>", "GET"): ("/passkeys/remove/x", None, NO_LINK),
    ("/passkeys/remove/<token>", "POST"): ("/passkeys/remove/x", {}, NO_LINK),
    ("/settings/passkeys/<int:passkey_id>/remove-by-mail", "POST"): (
        "/settings/passkeys/{passkey}/remove-by-mail",
        {},
        # Not her last passkey: alice is told so, on the passkey's page.
        {**dict.fromkeys(CALLERS, 404), "anon": "login", "alice": 302},
    ),
    ("/settings/passkeys/<int:passkey_id>", "GET"): (
        "/settings/passkeys/{passkey}",
        None,
        {**dict.fromkeys(CALLERS, 404), "anon": "login", "alice": 200},
    ),
    ("/settings/passkeys/<int:passkey_id>/rename", "POST"): (
        "/settings/passkeys/{passkey}/rename",
        {"name": "Renamed"},
        {**dict.fromkeys(CALLERS, 404), "anon": "login", "alice": 302},
    ),
    ("/settings/passkeys/<int:passkey_id>/remove", "POST"): (
        "/settings/passkeys/{passkey}/remove",
        {},
        {**dict.fromkeys(CALLERS, 404), "anon": "login", "alice": 302},
    ),
    ("/verify-email/<token>", "GET"): ("/verify-email/x", None, NO_LINK),
    ("/verify-email/<token>", "POST"): ("/verify-email/x", {}, NO_LINK),
    ("/verify-email/resend", "POST"): ("/verify-email/resend", {}, LOGGED_IN_PAGE),
    ("/unsubscribe/<token>", "GET"): ("/unsubscribe/x", None, NO_LINK),
    ("/unsubscribe/<token>", "POST"): (
        "/unsubscribe/x",
        {"List-Unsubscribe": "One-Click"},
        NO_LINK,
    ),
    ("/sessions/<int:session_id>", "GET"): (f"/sessions/{S}", None, PATIENT_PAGE),
    ("/sessions/<int:session_id>", "POST"): (
        f"/sessions/{S}",
        {"after.pain": "2", "after.stress": "2"},
        PATIENT_PAGE,
    ),
    ("/sessions/<int:session_id>/delete", "GET"): (f"/sessions/{S}/delete", None, PATIENT_PAGE),
    ("/sessions/<int:session_id>/delete", "POST"): (f"/sessions/{S}/delete", {}, PATIENT_PAGE),
    ("/sessions/<int:session_id>/edit", "GET"): (f"/sessions/{S}/edit", None, PATIENT_PAGE),
    ("/sessions/<int:session_id>/edit", "POST"): (
        f"/sessions/{S}/edit",
        {"before.pain": "3", "before.stress": "3"},
        PATIENT_PAGE,
    ),
    ("/sessions/new", "GET"): ("/sessions/new", None, PATIENT_PAGE),
    ("/sessions/after", "GET"): ("/sessions/after", None, PATIENT_PAGE),
    ("/sessions/new", "POST"): (
        "/sessions/new",
        {"before.pain": "3", "before.stress": "3", "client_id": "{uuid}"},
        PATIENT_PAGE,
    ),
    ("/reminders/setup", "GET"): ("/reminders/setup", None, PATIENT_PAGE),
    ("/reminders/setup", "POST"): (
        "/reminders/setup",
        {"reminder.weekday": "2", "reminder.time": "11:00"},
        PATIENT_PAGE,
    ),
    ("/reminders/setup/how", "GET"): ("/reminders/setup/how", None, PATIENT_PAGE),
    ("/reminders/email", "POST"): ("/reminders/email", {}, PATIENT_PAGE),
    ("/reminders/snooze", "GET"): ("/reminders/snooze", None, PATIENT_PAGE),
    ("/reminders/snooze", "POST"): ("/reminders/snooze", {}, PATIENT_PAGE),
    ("/settings", "GET"): ("/settings", None, LOGGED_IN_PAGE),
    ("/settings", "POST"): (
        "/settings",
        {"display_name": "Someone", "timezone": "UTC"},
        LOGGED_IN_PAGE,
    ),
    ("/share", "GET"): ("/share", None, {**PATIENT_PAGE}),
    ("/share", "POST"): (
        "/share",
        {"scopes": "progress", "days": "7"},
        {**PATIENT_PAGE, "alice": 201},
    ),
    ("/share/invites/<int:invite_id>/cancel", "POST"): (
        "/share/invites/{invite}/cancel",
        {},
        {
            "anon": "login",
            "alice": 302,
            **dict.fromkeys(("charlie", "bob_ended", *CAREGIVERS), 404),
        },
    ),
    ("/share/<int:share_id>", "POST"): (
        "/share/{share}",
        {"action": "save", "scopes": "progress"},
        {
            "anon": "login",
            "alice": 302,
            "charlie": 404,
            "bob_ended": 404,
            **{bob: 403 if bob == "bob_progress" else 404 for bob in CAREGIVERS},
        },
    ),
    ("/shell/session", "GET"): ("/shell/session", None, PUBLIC),
    ("/guide", "GET"): ("/guide", None, PUBLIC),
    ("/api/v1/export/sessions.csv", "GET"): (
        "/api/v1/export/sessions.csv?patient_id={alice}",
        None,
        {**care_api("sessions"), "alice": 200},
    ),
    ("/api/v1/export/report.pdf", "GET"): (
        "/api/v1/export/report.pdf?patient_id={alice}",
        None,
        {**care_api("sessions"), "alice": 200},
    ),
    ("/api/v1/export/fhir", "GET"): ("/api/v1/export/fhir", None, OWN_API),
    ("/api/v1/export/all.json", "GET"): ("/api/v1/export/all.json", None, OWN_API),
    ("/settings/password", "GET"): ("/settings/password", None, LOGGED_IN_PAGE),
    ("/settings/password", "POST"): (
        "/settings/password",
        {"current_password": "not the password", "new_password": "a new password 123"},
        {**dict.fromkeys(CALLERS, 422), "anon": "login"},
    ),
    ("/settings/delete", "GET"): ("/settings/delete", None, LOGGED_IN_PAGE),
    ("/settings/delete", "POST"): (
        "/settings/delete",
        {"password": "not the password"},
        {**dict.fromkeys(CALLERS, 422), "anon": "login"},
    ),
    ("/therapists", "GET"): ("/therapists", None, PATIENT_PAGE),
    ("/therapists", "POST"): ("/therapists", {"name": "Another"}, PATIENT_PAGE),
    ("/therapists/<int:therapist_id>", "GET"): (f"/therapists/{T}", None, PATIENT_PAGE),
    ("/therapists/<int:therapist_id>", "POST"): (
        f"/therapists/{T}",
        {"name": "Renamed"},
        PATIENT_PAGE,
    ),
    ("/therapists/<int:therapist_id>/summary", "GET"): (
        f"/therapists/{T}/summary",
        None,
        PATIENT_PAGE,
    ),
    ("/api/v1/links", "GET"): ("/api/v1/links", None, OWN_API),
    ("/api/v1/links", "POST"): (
        "/api/v1/links",
        {"label": "Dana", "contents": ["summary"]},
        {**OWN_API, "alice": 201},
    ),
    ("/api/v1/links/<int:link_id>", "DELETE"): ("/api/v1/links/{link}", None, OWN_API),
    # The link is the credential: whoever holds it opens the manifest, cookie or not.
    ("/api/v1/shl/<manifest_id>", "POST"): (
        "/api/v1/shl/{manifest}",
        {"recipient": "Dana"},
        dict.fromkeys(CALLERS, 200),
    ),
    ("/api/v1/shl-files/<token>/<int:number>", "GET"): (
        "/api/v1{file}",
        None,
        dict.fromkeys(CALLERS, 200),
    ),
    ("/links", "GET"): ("/links", None, PATIENT_PAGE),
    ("/links", "POST"): (
        "/links",
        {"label": "Dana", "contents": "summary", "expires_in_days": "7"},
        {**PATIENT_PAGE, "alice": 201},
    ),
    ("/links/<int:link_id>/revoke", "POST"): ("/links/{link}/revoke", {}, PATIENT_PAGE),
    ("/s", "GET"): ("/s", None, PUBLIC),
    ("/api/v1/calendar", "GET"): ("/api/v1/calendar", None, OWN_API),
    ("/api/v1/calendar/token", "POST"): ("/api/v1/calendar/token", None, OWN_API),
    ("/api/v1/calendar/reminder.ics", "GET"): ("/api/v1/calendar/reminder.ics", None, OWN_API),
    # A secret of another kind (the invitation's) opens no calendar, for anyone.
    ("/calendar/<token>.ics", "GET"): ("/calendar/{token}.ics", None, dict.fromkeys(CALLERS, 404)),
    ("/settings/calendar.ics", "GET"): ("/settings/calendar.ics", None, PATIENT_PAGE),
    ("/settings/calendar/new-address", "POST"): (
        "/settings/calendar/new-address",
        {},
        PATIENT_PAGE,
    ),
    ("/static/<path:filename>", "GET"): ("/static/css/app.css", None, PUBLIC),
    ("/sw.js", "GET"): ("/sw.js", None, PUBLIC),
}


def app_routes(app) -> set[tuple[str, str]]:
    return {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_route_of_the_app_is_in_the_matrix(app):
    missing = app_routes(app) - set(ROUTES)
    assert not missing, f"add these routes to ROUTES: {sorted(missing)}"
    assert not set(ROUTES) - app_routes(app), "ROUTES names routes that no longer exist"
    assert len(ROUTES) >= 60


@pytest.mark.parametrize("route", sorted(ROUTES), ids=lambda r: f"{r[1]} {r[0]}")
def test_each_caller_gets_the_expected_answer_and_nothing_of_alices(app, route):
    import uuid

    world = World(app)
    path_template, body, expected = ROUTES[route]
    method = route[1]
    for caller in CALLERS:
        api = world.clients[caller]
        path = path_template.format(
            session=world.session["id"],
            therapist=world.therapist["id"],
            alice=world.alice_id,
            share=world.shares["progress"],
            token=world.invite_token,
            login=world.login_id,
            invite=world.invite_id,
            link=world.link_id,
            manifest=world.manifest_id,
            file=world.file_path,
            passkey=world.passkey_id,
        )
        payload = body
        if body == "new-session":
            payload = session_body()
        elif body == "token":
            payload = {"token": world.fresh_invite()}
        elif isinstance(body, dict):
            payload = {
                k: v.replace("{uuid}", str(uuid.uuid4())) if isinstance(v, str) else v
                for k, v in body.items()
            }
        response = send(api, method, path, payload)
        want = expected[caller]
        got = response.status_code
        if want == "login":
            assert got == 302 and "/login" in response.location, (caller, got)
        elif want == "care":
            assert got == 302 and response.location.endswith("/care"), (caller, got)
        else:
            allowed = want if isinstance(want, tuple) else (want,)
            assert got in allowed, (caller, got, response.get_data(as_text=True)[:300])
        assert got < 500
        text = response.get_data().decode("utf-8", "replace")
        if caller != "alice":
            may_see_notes = False  # no single-scope caregiver sees sessions and notes
            leaked = [
                s for s in SECRETS if s in text and not (s == "SECRET-NOTE-4521" and may_see_notes)
            ]
            assert not leaked, (caller, leaked)


def send(api: Api, method: str, path: str, payload):
    if path.startswith("/api/"):
        return (
            api.request(method, path.removeprefix("/api/v1"), payload)
            if path.startswith("/api/v1")
            else api.client.open(path, method=method)
        )
    headers = {}
    if method != "GET":
        headers["X-CSRFToken"] = api.csrf_token()
    return api.client.open(path, method=method, data=payload, headers=headers)


def test_the_matrix_world_is_what_it_claims(app):
    world = World(app)
    with app.app_context():
        scopes = sorted(tuple(s.scopes) for s in db.session.query(CareShare))
        assert len(scopes) == 8  # seven bobs and charlie; bob_ended's share is gone
        assert db.session.query(Invite).filter(Invite.used_at.is_(None)).count() == 1
    assert world.clients["bob_ended"].get("/shares").get_json()["items"] == []
