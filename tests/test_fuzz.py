"""Fuzzing: schemathesis sends generated requests, valid and invalid, to every operation in
the OpenAPI document over real HTTP, once logged in as a patient and once as a caregiver,
and checks every answer against that document: no 5xx, only documented statuses, bodies,
content types and headers as documented, and every request the document forbids refused.

The fuzzed users are real: the caregiver holds a share of the patient with every scope, and
the patient has sessions and therapists. An odd generated id is swapped for one that
exists (World.point_at_records), so the cases reach past the 404.

Nothing is excluded. Operations that would end the fuzzing session itself run on a
throwaway client, logged in as a spare user of the same role (ISOLATED): POST /auth/login
and /auth/register (a success starts a new session), POST /auth/logout and DELETE /me.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pnapp import create_app
from pnapp.links.protocol import parse as parse_shlink
from pnapp.models import SCOPES
from pnapp.schemas import MAX_ID
from tests.conftest import PASSWORD, make_user
from tests.helpers import add_passkey

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,  # a request the document forbids is refused with a 4xx
]
EXAMPLES = 100
# Valid and invalid requests (mode "all"); derandomized, without an example database, so
# every run, here or in CI, sends the same cases.
CONFIG = schemathesis.Config.from_dict({"seed": 20261122, "generation": {"mode": "all"}})
SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # One World serves all the cases of an operation, on purpose (it keeps itself usable).
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
API = "/api/v1"
ISOLATED = {
    f"POST {API}/auth/login",
    f"POST {API}/auth/register",
    f"POST {API}/auth/logout",
    f"DELETE {API}/me",
}
SEEDED = 3  # sessions and therapists the patient starts with
CASES: dict[tuple[str, str], int] = {}  # ("POST /api/v1/sessions", "patient"): cases sent


def openapi_document() -> dict:
    """The document as the app serves it. The operations are collected before the live server
    exists (schemathesis.pytest.from_fixture, which would wait for it, fails on pytest 9.2),
    so it is read from an app built from the same code; the first test below checks that the
    live server serves the same document."""
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "fuzz"}
    )
    return app.test_client().get("/api/openapi.json").get_json()


DOCUMENT = openapi_document()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


class Client:
    """A requests session, logged in through the API when given an e-mail, with its CSRF
    token."""

    def __init__(self, base: str, email: str | None = None):
        self.base = base
        self.http = requests.Session()
        if email:
            self.token = self._csrf()
            response = self.post("/auth/login", {"email": email, "password": PASSWORD})
            assert response.status_code == 200, response.text
        self.token = self._csrf()  # login starts a new session, and so a new token

    def _csrf(self) -> str:
        return self.http.get(f"{self.base}{API}/auth/csrf").json()["csrf_token"]

    @property
    def headers(self) -> dict[str, str]:
        return {"X-CSRFToken": self.token}

    def request(self, method: str, path: str, json=None) -> requests.Response:
        url = f"{self.base}{API}{path}"
        return self.http.request(method, url, json=json, headers=self.headers)

    def post(self, path: str, json=None) -> requests.Response:
        return self.request("POST", path, json)


@dataclass
class World:
    """The people and records one operation is fuzzed against, kept usable between cases."""

    app: object
    base: str
    role: str
    patient_id: int
    caregiver_id: int
    spare_email: str
    patient: Client
    caregiver: Client
    share_id: int = 0
    sessions: list[int] = field(default_factory=list)
    therapists: list[int] = field(default_factory=list)
    invites: list[int] = field(default_factory=list)
    links: list[int] = field(default_factory=list)
    manifests: list[str] = field(default_factory=list)
    passkeys: list[int] = field(default_factory=list)
    spare: Client | None = None
    statuses: Counter = field(default_factory=Counter)

    def client_for(self, case) -> Client:
        """The fuzzed user's client, or for an operation that could end its session, the
        spare user's."""
        if f"{case.operation.method.upper()} {case.operation.path}" not in ISOLATED:
            return self.patient if self.role == "patient" else self.caregiver
        if self.spare is None:
            self.spare = Client(self.base, self.spare_email)
        return self.spare

    def add_therapist(self) -> None:
        response = self.patient.post("/therapists", {"name": f"Therapist {len(self.therapists)}"})
        assert response.status_code == 201, response.text
        self.therapists.append(response.json()["id"])

    def add_session(self) -> None:
        started = datetime.now(UTC) - timedelta(days=len(self.sessions) + 1)
        body = {
            "client_id": str(uuid.uuid4()),
            "started_at": started.isoformat().replace("+00:00", "Z"),
            "before": {"pain": 6, "stress": 5},
            "after": {"pain": 3, "stress": 2},
            "therapist_id": self.therapists[0] if self.therapists else None,
            "notes": "seeded",
        }
        response = self.patient.post("/sessions", body)
        assert response.status_code == 201, response.text
        self.sessions.append(response.json()["id"])

    def add_link(self) -> None:
        """A link for a therapist, with a passcode: its manifest answers 200, 401 or 404."""
        body = {"label": "Therapist", "contents": ["summary"], "passcode": "123456"}
        response = self.patient.post("/links", body)
        assert response.status_code == 201, response.text
        self.links.append(response.json()["id"])
        self.manifests.append(parse_shlink(response.json()["shlink"])["url"].rsplit("/", 1)[1])

    def ensure_share(self) -> None:
        """The caregiver holds every scope, whatever the last case did to the share, and the
        patient has an unused invite (narrowing or ending a share voids them all)."""
        shares = self.patient.request("GET", "/shares").json()["items"]
        mine = [s for s in shares if s["caregiver"]["id"] == self.caregiver_id]
        if mine:
            self.share_id = mine[0]["id"]
            if sorted(mine[0]["scopes"]) != sorted(SCOPES):
                # An invite never widens a share: the patient widens it.
                response = self.patient.request(
                    "PATCH", f"/shares/{self.share_id}", {"scopes": list(SCOPES)}
                )
                assert response.status_code == 200, response.text
        else:
            response = self.patient.post("/shares/invites", {"scopes": list(SCOPES)})
            assert response.status_code == 201, response.text
            token = response.json()["invite_url"].rsplit("/", 1)[-1]
            response = self.caregiver.post("/shares/accept", {"token": token})
            assert response.status_code == 201, response.text
            self.share_id = response.json()["id"]
        pending = self.patient.request("GET", "/shares/invites").json()["items"]
        if not pending:
            response = self.patient.post("/shares/invites", {})
            assert response.status_code == 201, response.text
            pending = self.patient.request("GET", "/shares/invites").json()["items"]
        self.invites = [i["id"] for i in pending]

    def point_at_records(self, case) -> None:
        """An odd generated id, in the path, the query or the body, becomes one that exists
        (which one, the id decides); an even one is sent as drawn, and most likely names
        nothing. Only ids the document allows are swapped, for ids it allows: a case
        generated to break the document still breaks it, which negative_data_rejection
        relies on."""
        existing = {
            "session_id": self.sessions,
            "therapist_id": self.therapists,
            "share_id": [self.share_id],
            "invite_id": self.invites,
            "patient_id": [self.patient_id],
            "link_id": self.links,
            "passkey_id": self.passkeys,
        }
        body = case.body if isinstance(case.body, dict) else None
        for values, in_url in ((case.path_parameters, True), (case.query, True), (body, False)):
            for name, value in (values or {}).items():
                ids = existing.get(name)
                if in_url and isinstance(value, str) and re.fullmatch("[0-9]+", value):
                    value = int(value)  # "12" and 12 are the same in a URL, not in JSON
                if ids and type(value) is int and 1 <= value <= MAX_ID and value % 2 == 1:
                    values[name] = ids[value // 2 % len(ids)]
                # A link's manifest address (sent percent-encoded): half the time, the real
                # one.
                if name == "manifest_id" and isinstance(value, str):
                    if sum(map(ord, unquote(value))) % 2 == 1:
                        values[name] = self.manifests[0]

    def repair(self, case, status: int) -> None:
        """Undo what a case did that would leave the next cases nothing to work on."""
        method, path = case.operation.method.upper(), case.operation.path
        if status >= 300:
            return
        if f"{method} {path}" in ISOLATED:
            self.spare = None  # logged in as someone else, or out: log in afresh
        elif method in ("PATCH", "DELETE") and path.startswith(f"{API}/shares/"):
            self.ensure_share()
        elif method == "DELETE" and path.endswith("{session_id}"):
            self.sessions.remove(int(case.path_parameters["session_id"]))
            self.add_session()
        elif method == "DELETE" and path.endswith("{therapist_id}"):
            self.therapists.remove(int(case.path_parameters["therapist_id"]))
            self.add_therapist()
        elif method == "DELETE" and path.endswith("{link_id}"):
            # Revoking is idempotent: a link revoked before answers 204 again.
            revoked = int(case.path_parameters["link_id"])
            if revoked in self.links:
                self.links.remove(revoked)
                self.add_link()
        elif method == "DELETE" and path.endswith("{passkey_id}"):
            self.passkeys.remove(int(case.path_parameters["passkey_id"]))
            self.add_passkey()

    def add_passkey(self) -> None:
        """A stored passkey of the fuzzed person's (the caregiver has theirs too)."""
        user_id = self.patient_id if self.role == "patient" else self.caregiver_id
        self.passkeys.append(add_passkey(self.app, user_id, f"Device {len(self.passkeys)}"))


def has_inputs(label: str) -> bool:
    """Whether an operation ("GET /api/v1/me") takes parameters or a body: one without has a
    single request to send, which Hypothesis sends a few times and then rightly stops."""
    method, path = label.split(" ", 1)
    item = DOCUMENT["paths"][path]
    operation = item[method.lower()]
    return bool(item.get("parameters") or operation.get("parameters") or "requestBody" in operation)


@pytest.fixture
def world(app, live_server, role, request):
    patient = make_user(app, "fuzz-patient@example.com", "patient")
    caregiver = make_user(app, "fuzz-carer@example.com", "caregiver")
    spare = make_user(app, f"fuzz-spare-{role}@example.com", role)
    world = World(
        app=app,
        base=live_server,
        role=role,
        patient_id=patient.id,
        caregiver_id=caregiver.id,
        spare_email=spare.email,
        patient=Client(live_server, patient.email),
        caregiver=Client(live_server, caregiver.email),
    )
    world.ensure_share()
    for _ in range(SEEDED):
        world.add_therapist()
    for _ in range(SEEDED):
        world.add_session()
    world.add_link()
    for _ in range(2):  # two: removing one is not removing the last
        world.add_passkey()
    start = time.monotonic()
    yield world
    cases = sum(world.statuses.values())
    label = request.node.operation_label
    print(f"\n{label} as {role}: {cases} cases in {time.monotonic() - start:.1f} s,", end=" ")
    print(", ".join(f"{n} x {status}" for status, n in sorted(world.statuses.items())))
    CASES[label, role] = cases


def test_the_live_server_serves_the_fuzzed_document(live_server):
    assert requests.get(f"{live_server}/api/openapi.json").json() == DOCUMENT


@pytest.mark.parametrize("role", ["patient", "caregiver"])
@schema.parametrize()
@SETTINGS
def test_every_answer_is_as_documented(case, world):
    client = world.client_for(case)
    world.point_at_records(case)
    response = case.call_and_validate(
        base_url=world.base, session=client.http, headers=client.headers, checks=CHECKS
    )
    if response.request.method != case.operation.method.upper():
        return  # a probe with another method (a 405, or OPTIONS): not counted, changed nothing
    world.statuses[response.status_code] += 1
    world.repair(case, response.status_code)


def test_every_operation_with_inputs_got_enough_cases():
    """Runs after the fuzzing above (pytest keeps the order in a file)."""
    if not CASES:
        pytest.skip("no fuzzing ran in this session")
    few = {key: n for key, n in CASES.items() if n < EXAMPLES and has_inputs(key[0])}
    assert not few
