"""Fuzzing the pages: Hypothesis posts random field names and values to every page form,
as the person the form is for, and no answer is a 5xx.

The forms are read from the app's url_map (every rule outside /api/ that accepts POST), so
a new form is fuzzed from the day it exists; a form nobody here knows how to post (whose
ids, as whom) fails the first test until it is added to WHO. The names mix the forms' own
fields, dotted groups and random text; the values mix numbers Python reads oddly, zone
files, very long and NUL-laden text and random text. tests/test_fuzz.py does the same for
the API with schemathesis.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from pnapp import create_app
from pnapp.models import SCOPES
from tests.conftest import Api
from tests.helpers import add_passkey, session_body

EXAMPLES = 60
SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # The same logged-in client serves every example of a form, on purpose.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def page_forms() -> list[str]:
    """Every page rule that takes a POST, from an app built from the same code."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and not rule.rule.startswith("/api/")
    )


FORMS = page_forms()
# Who posts each form: the patient (alice), the caregiver holding a share (bob), or nobody
# logged in. Forms for everyone are fuzzed as each.
WHO = {
    "/login": ["anonymous"],
    "/register": ["anonymous"],
    "/logout": ["patient", "caregiver"],
    "/settings/logins/<int:login_id>/end": ["patient", "caregiver"],
    "/settings/logout-everywhere": ["patient", "caregiver"],
    "/share/invites/<int:invite_id>/cancel": ["patient"],
    "/invite/<token>": ["caregiver", "anonymous"],
    "/settings": ["patient", "caregiver"],
    "/settings/password": ["patient", "caregiver"],
    "/settings/delete": ["patient", "caregiver"],
    "/settings/calendar/new-address": ["patient"],
    "/share": ["patient"],
    "/share/<int:share_id>": ["patient", "caregiver"],
    "/sessions/new": ["patient"],
    "/pgic": ["patient"],
    "/sessions/<int:session_id>": ["patient"],
    "/sessions/<int:session_id>/edit": ["patient"],
    "/sessions/<int:session_id>/delete": ["patient"],
    "/therapists": ["patient"],
    "/therapists/<int:therapist_id>": ["patient"],
    "/password-reset": ["anonymous"],
    "/password-reset/<token>": ["anonymous"],
    "/verify-email/<token>": ["anonymous", "patient"],
    "/verify-email/resend": ["patient", "caregiver"],
    "/unsubscribe/<token>": ["anonymous"],
    "/links": ["patient"],
    "/links/<int:link_id>/revoke": ["patient"],
    "/share/encouragements": ["patient"],
    "/care/<int:patient_id>/encourage": ["caregiver"],
    "/care/<int:patient_id>/record": ["caregiver"],
    "/sign-in-link": ["anonymous"],
    "/sign-in/<token>": ["anonymous"],
    "/settings/passkeys/<int:passkey_id>/rename": ["patient"],
    "/settings/passkeys/<int:passkey_id>/remove": ["patient"],
    "/settings/passkeys/<int:passkey_id>/remove-by-mail": ["patient"],
    "/passkeys/remove/<token>": ["anonymous", "patient"],
    "/reminders/setup": ["patient"],
    "/reminders/email": ["patient"],
    "/reminders/snooze": ["patient"],
}
LOGS_OUT = ("/logout", "/settings/logout-everywhere", "/settings/logins/<int:login_id>/end")
CASES = [(form, who) for form in FORMS for who in WHO.get(form, ["nobody knows"])]

# The forms' own names, so cases reach past "unknown field" into the rules behind it.
KNOWN = [
    *("before", "after", "reminder", "screening"),
    *(f"{g}.{m}" for g in ("before", "after") for m in ("pain", "stress", "numbness")),
    *("before.recorded_at", "after.pain.x", "reminder.enabled", "reminder.weekday"),
    *("reminder.time", "screening.knows_pn", "screening.asked_symptom_areas"),
    *("screening.approach", "client_id", "started_at", "duration_min", "therapist_id"),
    *("areas", "adjuncts", "notes", "name", "phone", "certified", "credential"),
    *("display_name", "timezone", "weekly_goal", "language", "email", "password"),
    *("current_password", "new_password", "role", "action", "scopes", "days", "csrf_token"),
    *("label", "contents", "expires_in_days", "passcode"),
    *("message", "encouragements"),
    *("when", "when_date", "when_time", "past_after.pain", "past_after.stress", "other_time"),
]
ODD_VALUES = [
    *("", " ", "²", "--5", "-", "٣", "9" * 5000, "-" + "1" * 30, "1e3", "0x10", "1_0"),
    *("on", "yes", "no", "end", "delete", "true", "null", "[]", "{}", "x\x00y", "\ud7ff"),
    *("Factory", "localtime", "posixrules", "EST5EDT", "Etc/GMT+5", "America/Toronto"),
    *("patient", "caregiver", "fr-CA", "whole_body", "heat_towels", *SCOPES, "1", "7", "30"),
    *("summary", "report", "fhir", "90", "91", "482913"),
    *("2026-11-22T10:30", "0001-01-01T00:00", "9999-12-31T23:59", "2026-02-30T25:61"),
    *("now", "today", "yesterday", "other", "2026-11-21", "0000-00-00", "99999-01-01"),
    *("00:00", "24:00", "9:00", "a" * 3000, "alice@example.com", "correct horse battery"),
]
names = st.one_of(
    st.sampled_from(KNOWN),
    st.text(max_size=20),
    st.builds("{}.{}".format, st.sampled_from(KNOWN), st.text(max_size=8)),
)
values = st.one_of(st.sampled_from(ODD_VALUES), st.text(max_size=40), st.integers().map(str))
fields = st.lists(st.tuples(names, values), max_size=12)


class World:
    """Alice with a session, a therapist and a share with bob, and the clients to post."""

    def __init__(self, app, alice, bob):
        self.app = app
        self.emails = {"patient": alice.email, "caregiver": bob.email}
        self.clients = {"anonymous": Api(app.test_client())}
        for role in self.emails:
            self.log_in(role)
        patient = self.clients["patient"]
        therapist = patient.post("/therapists", {"name": "Ann"}).get_json()["id"]
        session = patient.post("/sessions", session_body(therapist_id=therapist)).get_json()
        invite = patient.post("/shares/invites", {"scopes": list(SCOPES)}).get_json()
        token = invite["invite_url"].rsplit("/", 1)[-1]
        share = self.clients["caregiver"].post("/shares/accept", {"token": token}).get_json()
        spare = patient.post("/shares/invites", {"scopes": ["progress"]}).get_json()
        # Another device of alice's, for the form that logs one device out.
        other = Api(app.test_client()).login(alice.email)
        [other_login] = [i for i in other.get("/auth/logins").get_json()["items"] if i["current"]]
        [spare_invite] = [
            i["id"]
            for i in patient.get("/shares/invites").get_json()["items"]
            if i["scopes"] == ["progress"]
        ]
        link = patient.post("/links", {"label": "Ann", "contents": ["summary"]}).get_json()
        self.ids = {
            "link_id": link["id"],
            "login_id": other_login["id"],
            "invite_id": spare_invite,
            "session_id": session["id"],
            "therapist_id": therapist,
            "share_id": share["id"],
            "token": spare["invite_url"].rsplit("/", 1)[-1],
            "patient_id": alice.id,
            # Two, so that removing one is not removing the last.
            "passkey_id": [add_passkey(app, alice.id, name) for name in ("Phone", "Tablet")][0],
        }
        self.tokens = {who: client.csrf_token() for who, client in self.clients.items()}

    def log_in(self, role: str) -> None:
        self.clients[role] = Api(self.app.test_client()).login(self.emails[role])

    def path(self, rule: str) -> str:
        for name, value in self.ids.items():
            rule = rule.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
        return rule

    def post(self, rule: str, who: str, sent: list[tuple[str, str]]):
        client = self.clients[who]
        data = MultiDict([("csrf_token", self.tokens[who]), *sent])
        response = client.client.post(self.path(rule), data=data)
        if rule in LOGS_OUT or who == "anonymous":
            # Logged out, or perhaps in as someone: start the next case as before.
            client.client.delete_cookie("pnapp_session")
            if who != "anonymous":
                self.log_in(who)
            self.tokens[who] = self.clients[who].csrf_token()
        return response


def test_every_page_form_is_fuzzed_as_the_person_it_is_for():
    assert set(FORMS) == set(WHO)


@pytest.fixture
def world(app, alice, bob) -> World:
    return World(app, alice, bob)


@pytest.mark.parametrize(("rule", "who"), CASES)
@SETTINGS
@given(sent=fields)
def test_no_page_form_answers_random_fields_with_a_server_error(world, rule, who, sent):
    response = world.post(rule, who, sent)
    assert response.status_code < 500, (rule, who, sent, response.status_code)
