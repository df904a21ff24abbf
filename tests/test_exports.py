"""Exports: the CSV, the FHIR bundle, everything as JSON and the clinician's PDF hold the
patient's own data and nobody else's; deleting an account leaves nothing behind."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta

import pytest
from fhir.resources import R4B
from pypdf import PdfReader
from sqlalchemy import func, select

from pnapp import exports
from pnapp.demo import add_sessions, session_rows
from pnapp.extensions import db
from pnapp.links import protocol
from pnapp.models import (
    CareShare,
    Delivery,
    Invite,
    MassageSession,
    PgicAnswer,
    PushSubscription,
    Therapist,
    User,
)
from tests.conftest import PASSWORD, Api, make_user, share_with
from tests.helpers import add_passkey, iso, session_body
from tests.test_pages import Browser, text

WINTER = datetime(2025, 1, 15, 15, 0, tzinfo=UTC)  # 10:00 in Toronto, UTC-5
SUMMER = datetime(2025, 7, 1, 14, 0, tzinfo=UTC)  # 10:00 in Toronto, UTC-4
EXPORTS = ("/export/sessions.csv", "/export/report.pdf", "/export/fhir", "/export/all.json")


def add_therapist(api: Api, name: str = "Marie Tremblay") -> int:
    response = api.post("/therapists", {"name": name, "credential": "RMT"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def three_sessions(api: Api) -> list[dict]:
    """Winter and summer sessions (two UTC offsets), one still waiting for its after."""
    therapist_id = add_therapist(api)
    bodies = [
        session_body(
            started_at=iso(WINTER),
            duration_min=60,
            therapist_id=therapist_id,
            areas=["feet_lower_legs", "hands_lower_arms"],
            adjuncts=["heat_towels"],
            before={"pain": 6, "stress": 5, "numbness": 7},
            after={"pain": 3, "stress": 2, "numbness": 5},
            notes="=1+1 felt lighter",
        ),
        session_body(
            started_at=iso(SUMMER),
            areas=["whole_body"],
            before={"pain": 0, "stress": 4},
            after={"pain": 0, "stress": 1},
        ),
        session_body(before={"pain": 5, "stress": 5}),
    ]
    created = []
    for body in bodies:
        response = api.post("/sessions", body)
        assert response.status_code == 201, response.get_json()
        created.append(response.get_json())
    return created


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


# The CSV


def test_the_csv_has_a_header_and_one_row_per_session_with_numbers_and_both_zones(as_alice):
    three_sessions(as_alice)
    response = as_alice.get("/export/sessions.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "no-store" in response.headers["Cache-Control"]
    header = next(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert header == exports.csv_header(include_notes=True)
    rows = csv_rows(response)
    assert len(rows) == 3
    winter, summer, unfinished = rows  # oldest first

    assert winter["started_at_local"] == "2025-01-15T10:00:00-05:00"
    assert winter["started_at_utc"] == "2025-01-15T15:00:00Z"
    assert summer["started_at_local"] == "2025-07-01T10:00:00-04:00"
    assert summer["started_at_utc"] == "2025-07-01T14:00:00Z"
    local = datetime.fromisoformat(winter["started_at_local"])
    assert local == datetime.fromisoformat(winter["started_at_utc"].replace("Z", "+00:00"))

    assert [winter[f"before_{m}"] for m in ("pain", "stress", "numbness", "tingling")] == [
        "6",
        "5",
        "7",
        "",
    ]
    assert (winter["after_pain"], winter["after_numbness"]) == ("3", "5")
    assert (summer["before_pain"], summer["after_pain"]) == ("0", "0")  # 0 is not empty
    assert unfinished["after_pain"] == "" and unfinished["after_recorded_at_utc"] == ""
    assert winter["duration_min"] == "60" and summer["duration_min"] == ""
    assert winter["therapist"] == "Marie Tremblay" and summer["therapist"] == ""
    assert winter["areas"] == "feet_lower_legs;hands_lower_arms"
    assert winter["adjuncts"] == "heat_towels" and summer["adjuncts"] == ""
    # Her own notes, with the formula defused for spreadsheets.
    assert winter["notes"] == "'=1+1 felt lighter"


def test_the_csv_download_is_named_after_the_patient_and_the_day(as_alice):
    disposition = as_alice.get("/export/sessions.csv").headers["Content-Disposition"]
    assert re.fullmatch(
        r'attachment; filename="pnapp-alice-sessions-\d{4}-\d\d-\d\d\.csv"', disposition
    )


# FHIR


def validate(resource: dict):
    """Parse with the R4B model of the resource's type (R4B keeps R4's Procedure and
    Observation); pydantic 2 models have model_validate, pydantic 1 ones parse_obj."""
    model = R4B.get_fhir_model_class(resource["resourceType"])
    parse = getattr(model, "model_validate", None) or model.parse_obj
    return parse(resource)


def test_the_fhir_bundle_is_valid_r4_with_pain_coded_in_loinc_and_part_of_its_procedure(
    as_alice, alice
):
    sessions = three_sessions(as_alice)
    response = as_alice.get("/export/fhir")
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    bundle = json.loads(response.get_data(as_text=True))
    validate(bundle)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    entries = bundle["entry"]
    for entry in entries:
        validate(entry["resource"])
    urls = [e["fullUrl"] for e in entries]
    assert all(u.startswith("urn:uuid:") for u in urls) and len(set(urls)) == len(urls)

    by_type: dict[str, list[dict]] = {}
    for e in entries:
        by_type.setdefault(e["resource"]["resourceType"], []).append(e)
    (patient,) = by_type["Patient"]
    assert patient["resource"]["name"] == [{"text": "Alice"}]
    procedures = {p["resource"]["identifier"][0]["value"]: p for p in by_type["Procedure"]}
    assert set(procedures) == {str(s["id"]) for s in sessions}
    # Ratings given: 3 + 3 for the first, 2 + 2 for the second, 2 for the unfinished one.
    assert len(by_type["Observation"]) == 12

    winter = procedures[str(sessions[0]["id"])]
    assert winter["resource"]["status"] == "completed"
    assert winter["resource"]["code"]["coding"][0] == {
        "system": "http://snomed.info/sct",
        "code": "387854002",
        "display": "Massage",
    }
    assert winter["resource"]["performedDateTime"] == "2025-01-15T15:00:00Z"
    assert winter["resource"]["subject"] == {"reference": patient["fullUrl"]}
    assert [c["coding"][0]["code"] for c in winter["resource"]["bodySite"]] == [
        "56459004",
        "30021000",
        "85562004",
        "14975008",
    ]

    def observations(procedure: dict, code: str) -> dict[str, dict]:
        """This procedure's observations of `code`, keyed by before or after."""
        found = {}
        for e in by_type["Observation"]:
            r = e["resource"]
            if r["partOf"] == [{"reference": procedure["fullUrl"]}] and (
                r["code"]["coding"][0]["code"] == code
            ):
                found[r["component"][0]["valueCodeableConcept"]["coding"][0]["code"]] = r
        return found

    pain = observations(winter, "72514-3")
    assert set(pain) == {"before", "after"}
    before = pain["before"]
    assert before["code"]["coding"][0]["system"] == "http://loinc.org"
    assert before["valueInteger"] == 6 and pain["after"]["valueInteger"] == 3
    assert before["category"][0]["coding"][0]["code"] == "survey"
    assert before["subject"] == {"reference": patient["fullUrl"]}
    assert before["performer"] == [{"reference": patient["fullUrl"]}]
    assert before["effectiveDateTime"].endswith("Z")
    assert before["component"][0]["code"]["coding"][0]["code"] == "timing"

    stress = observations(winter, "stress")
    assert stress["after"]["valueInteger"] == 2
    assert stress["after"]["code"]["coding"][0]["system"] == exports.SELF_RATING
    assert set(observations(procedures[str(sessions[2]["id"])], "72514-3")) == {"before"}


def test_the_fhir_bundle_is_the_same_for_the_same_data(app, as_alice, alice):
    three_sessions(as_alice)
    with app.app_context():
        user = db.session.get(User, alice.id)
        now = datetime(2026, 1, 1, tzinfo=UTC)
        first = exports.fhir_bundle(user, "https://pnapp.example", now=now)
        assert exports.fhir_bundle(user, "https://pnapp.example/", now=now) == first


# Everything stored


def test_all_json_holds_everything_stored_and_no_password_token_or_key(
    app, as_alice, as_bob, alice, bob
):
    three_sessions(as_alice)
    share_with(as_alice, as_bob, ["progress", "sessions"])
    pending = as_alice.post("/shares/invites", {}).get_json()["invite_url"].rsplit("/", 1)[-1]
    link = as_alice.post(
        "/links", {"label": "Dana Lee, RMT", "contents": ["summary"], "passcode": "482913"}
    ).get_json()
    now = datetime.now(UTC)
    with app.app_context():
        db.session.add(
            PushSubscription(
                user_id=alice.id,
                endpoint="https://fcm.googleapis.com/fcm/send/alice-phone",
                p256dh="SECRET-P256DH-KEY",
                auth="SECRET-AUTH-KEY",
            )
        )
        db.session.add(
            Delivery(
                user_id=alice.id,
                kind="weekly",
                period="2026-W47",
                due_at=now,
                next_attempt_at=now,
                payload={"title": "Time for your massage?"},
            )
        )
        db.session.commit()
        stored = db.session.get(User, alice.id)
        secrets = [stored.password_hash] + list(db.session.scalars(select(Invite.token_hash)))

    response = as_alice.get("/export/all.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    raw = response.get_data(as_text=True)
    body = json.loads(raw)
    assert body["user"]["email"] == "alice@example.com" and "password_hash" not in body["user"]
    assert len(body["sessions"]) == 3 and body["sessions"][0]["notes"] == "=1+1 felt lighter"
    assert [t["name"] for t in body["therapists"]] == ["Marie Tremblay"]
    (share,) = body["shares"]
    assert share["patient"]["id"] == alice.id and share["caregiver"] == {
        "id": bob.id,
        "display_name": "Bob",
    }
    assert len(body["invites"]) == 2 and all("token_hash" not in i for i in body["invites"])
    assert body["push_subscriptions"][0]["endpoint"].endswith("/alice-phone")
    assert body["deliveries"][0]["period"] == "2026-W47"
    (made,) = body["links"]
    assert made["label"] == "Dana Lee, RMT" and made["opens"] == 0
    assert not {"manifest_hash", "passcode_hash", "files"} & set(made)
    payload = protocol.parse(link["shlink"])
    secrets += [payload["key"], payload["url"].rsplit("/", 1)[1], "482913"]
    for secret in [*secrets, pending, "SECRET-P256DH-KEY", "SECRET-AUTH-KEY", "bob@example"]:
        assert secret not in raw


# The clinician's report


@pytest.fixture
def alice_with_history(app, alice):
    """Alice with about a year of realistic sessions, two therapists and a fixed `now`."""
    now = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)  # a Friday
    with app.app_context():
        user = db.session.get(User, alice.id)
        ids = tuple(
            Therapist.create(user, {"name": name}).id for name in ("Marie Tremblay", "Sam Ortiz")
        )
        add_sessions(user, session_rows(user, weeks=56, seed=3, now=now, therapist_ids=ids))
    return now


def pdf_text(pdf: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(pdf))
    words = " ".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", words), len(reader.pages)


@pytest.mark.parametrize("weeks", [12, 104])
def test_the_report_names_the_patient_the_dates_and_relief_in_modest_words(
    app, alice, alice_with_history, weeks
):
    now = alice_with_history
    with app.app_context():
        user = db.session.get(User, alice.id)
        pdf = exports.report_pdf(user, weeks, now)
        progress = user.progress(now, weeks)
    assert pdf.startswith(b"%PDF")
    words, pages = pdf_text(pdf)
    assert 1 <= pages <= 2
    first = date.fromisoformat(progress["weeks"][0]["start"])
    assert f"{first:%b} {first.day}, {first.year} to Mar 20, 2026" in words
    assert "Alice" in words and f"the last {weeks} weeks" in words
    assert "meaningful relief (30% or more)" in words
    assert "The 30% and 50% thresholds" in words and "%%" not in words
    assert "clinically important" not in words.lower()
    pain = progress["relief"]["pain"]
    counts = f"{pain['meaningful_30']['count']} of {pain['meaningful_30']['eligible']}"
    assert f"Meaningful relief (30% or more) in {counts}" in words
    assert f"Kept {sum(w['goal_met'] for w in progress['weeks'])} of the last {weeks}" in words
    assert "Marie Tremblay" in words and "Sam Ortiz" in words
    assert "pnapp records how the person felt; it does not diagnose." in words


def test_the_report_survives_a_name_outside_latin_1_and_an_empty_history(app):
    zoe = make_user(app, "zoe@example.com", name="Zoë Łukasiewicz → 李")
    with app.app_context():
        pdf = exports.report_pdf(db.session.get(User, zoe.id), 12, datetime.now(UTC))
    words, pages = pdf_text(pdf)
    assert pages == 1 and "Zoë ?ukasiewicz to ?" in words
    assert "No sessions in these weeks." in words


@pytest.mark.skipif(
    shutil.which("pdftoppm") is None,
    reason="pdftoppm (poppler-utils) is not installed: the PDF is not rendered to PNG; its "
    "text is still checked above",
)
def test_the_report_renders_as_one_or_two_pages(app, alice, alice_with_history, tmp_path):
    with app.app_context():
        pdf = exports.report_pdf(db.session.get(User, alice.id), 104, alice_with_history)
    (tmp_path / "report.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "report.pdf", "page"],
        cwd=tmp_path,
        check=True,
        timeout=60,
    )
    pngs = sorted(tmp_path.glob("page*.png"))
    assert 1 <= len(pngs) <= 2
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in pngs)


def test_the_report_is_served_as_a_pdf_for_1_to_104_weeks(as_alice):
    as_alice.post("/sessions", session_body(after={"pain": 2, "stress": 2}))
    response = as_alice.get("/export/report.pdf?weeks=26")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"].endswith('.pdf"')
    assert "the last 26 weeks" in pdf_text(response.data)[0]
    for weeks in ("0", "105", "many"):
        answer = as_alice.get(f"/export/report.pdf?weeks={weeks}")
        assert answer.status_code == 422 and "weeks" in answer.get_json()["error"]["fields"]


# Who may export what


def test_an_anonymous_visitor_gets_401_from_every_export(anon):
    for path in EXPORTS:
        response = anon.get(path)
        assert response.status_code == 401, path
        assert response.get_json()["error"]["code"] == "unauthorized"


def test_another_patients_exports_are_impossible(as_alice, as_charlie, alice):
    as_alice.post("/sessions", session_body(notes="alice's words"))
    for path in ("/export/sessions.csv", "/export/report.pdf"):
        response = as_charlie.get(f"{path}?patient_id={alice.id}")
        assert response.status_code == 404, path
        assert response.get_json()["error"]["code"] == "not_found"
    assert csv_rows(as_charlie.get("/export/sessions.csv")) == []
    fhir = as_charlie.get("/export/fhir").get_json()
    assert [e["resource"]["resourceType"] for e in fhir["entry"]] == ["Patient"]
    everything = as_charlie.get("/export/all.json").get_data(as_text=True)
    assert "alice" not in everything.lower()


def test_a_caregiver_reads_the_csv_and_report_only_with_the_sessions_scope(as_alice, as_bob, alice):
    as_alice.post("/sessions", session_body(notes="private words", after={"pain": 2, "stress": 2}))
    csv_path, pdf_path = (
        f"/export/{f}?patient_id={alice.id}" for f in ("sessions.csv", "report.pdf")
    )
    assert as_bob.get(csv_path).status_code == 404  # no share at all
    share = share_with(as_alice, as_bob, ["progress", "alerts"])
    assert as_bob.get(csv_path).status_code == 404
    assert as_bob.get(pdf_path).status_code == 404

    as_alice.patch(f"/shares/{share['id']}", {"scopes": ["sessions"]})
    response = as_bob.get(csv_path)
    assert response.status_code == 200
    (row,) = csv_rows(response)
    assert row["before_pain"] == "6" and "notes" not in row
    assert "private words" not in response.get_data(as_text=True)
    report = as_bob.get(pdf_path)
    assert report.status_code == 200 and "Alice" in pdf_text(report.data)[0]

    as_alice.patch(f"/shares/{share['id']}", {"scopes": ["sessions", "notes"]})
    assert csv_rows(as_bob.get(csv_path))[0]["notes"] == "private words"

    as_bob.delete(f"/shares/{share['id']}")
    assert as_bob.get(csv_path).status_code == 404


def test_a_caregiver_names_the_patient_and_cannot_take_fhir_or_everything(as_bob):
    response = as_bob.get("/export/sessions.csv")
    assert response.status_code == 422 and "patient_id" in response.get_json()["error"]["fields"]
    assert as_bob.get("/export/fhir").status_code == 403
    assert as_bob.get("/export/all.json").status_code == 403


def test_the_openapi_document_gives_each_export_its_content_type(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    expected = {
        "/api/v1/export/sessions.csv": "text/csv",
        "/api/v1/export/report.pdf": "application/pdf",
        "/api/v1/export/fhir": "application/fhir+json",
        "/api/v1/export/all.json": "application/json",
    }
    for path, content_type in expected.items():
        responses = paths[path]["get"]["responses"]
        assert list(responses["200"]["content"]) == [content_type], path
        error = responses["401"]["content"]["application/json"]["schema"]["$ref"]
        assert error.endswith("/Error"), path
    report = paths["/api/v1/export/report.pdf"]["get"]["parameters"]
    assert {p["name"] for p in report} == {"patient_id", "weeks"}


# Pages


def test_the_progress_and_settings_pages_link_to_the_exports(as_alice):
    progress = as_alice.client.get("/progress?weeks=26").get_data(as_text=True)
    assert "Take it to your doctor" in progress
    assert "/api/v1/export/report.pdf?weeks=26" in progress
    assert "/api/v1/export/sessions.csv" in progress and "/api/v1/export/fhir" in progress
    settings = as_alice.client.get("/settings").get_data(as_text=True)
    assert "Your data" in settings
    for path in ("sessions.csv", "fhir", "all.json"):
        assert f"/api/v1/export/{path}" in settings
    assert 'href="/settings/delete"' in settings


def test_a_caregivers_settings_offer_deletion_but_no_patient_exports(as_bob):
    settings = as_bob.client.get("/settings").get_data(as_text=True)
    assert 'href="/settings/delete"' in settings and "/api/v1/export/" not in settings


# Deleting an account


def populate(app, as_alice, as_bob, alice) -> None:
    """Alice has a row in every table that can refer to her."""
    three_sessions(as_alice)
    share_with(as_alice, as_bob, ["progress", "sessions", "notes", "alerts"])
    as_alice.post("/shares/invites", {})
    assert as_alice.post("/pgic", {"value": 2}).status_code == 201
    # A passkey, and the challenge of one being made.
    add_passkey(app, alice.id)
    assert as_alice.post("/auth/passkeys/options", {}).status_code == 200
    link = {"label": "Dana Lee, RMT", "contents": ["summary"]}
    assert as_alice.post("/links", link).status_code == 201
    # A caregiver looked and cheered; another's share ended.
    assert as_bob.get(f"/patients/{alice.id}/progress").status_code == 200
    assert (
        as_bob.post(f"/patients/{alice.id}/encouragements", {"message": "proud"}).status_code == 201
    )
    from tests.conftest import Api, make_user

    dora = make_user(app, "dora@example.com", "caregiver")
    ended = share_with(as_alice, Api(app.test_client()).login(dora.email), ["progress"])
    assert as_alice.delete(f"/shares/{ended['id']}").status_code == 204
    now = datetime.now(UTC)
    with app.app_context():
        db.session.add(
            PushSubscription(
                user_id=alice.id,
                endpoint="https://fcm.googleapis.com/fcm/send/alice",
                p256dh="k",
                auth="a",
            )
        )
        db.session.add(
            Delivery(
                user_id=alice.id,
                kind="weekly",
                period="2026-W01",
                due_at=now,
                next_attempt_at=now + timedelta(minutes=5),
                payload={},
            )
        )
        db.session.commit()


def rows_referring_to(user_id: int) -> dict[str, int]:
    """Per table.column with a foreign key to users.id, the rows that hold user_id."""
    found = {}
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == "users" for fk in column.foreign_keys):
                count = db.session.scalar(
                    select(func.count()).select_from(table).where(column == user_id)
                )
                found[f"{table.name}.{column.name}"] = count
    return found


def assert_nothing_left_of(user_id: int) -> None:
    left = rows_referring_to(user_id)
    assert set(left) >= {
        "massage_sessions.patient_id",
        "massage_sessions.entered_by",
        "therapists.patient_id",
        "care_shares.patient_id",
        "care_shares.caregiver_id",
        "invites.patient_id",
        "push_subscriptions.user_id",
        "deliveries.user_id",
        "pgic_answers.patient_id",
        "links.patient_id",
    }
    assert {k: v for k, v in left.items() if v} == {}
    assert db.session.get(User, user_id) is None
    assert db.session.scalar(select(func.count()).select_from(CareShare)) == 0
    assert db.session.scalar(select(func.count()).select_from(Invite)) == 0
    assert db.session.scalar(select(func.count()).select_from(MassageSession)) == 0
    assert db.session.scalar(select(func.count()).select_from(PgicAnswer)) == 0


def test_populate_really_leaves_a_row_in_every_table_that_refers_to_her(
    app, as_alice, as_bob, alice
):
    populate(app, as_alice, as_bob, alice)
    with app.app_context():
        left = rows_referring_to(alice.id)
    # Columns naming a caregiver (or a viewer) cannot hold a patient.
    caregivers_only = ("caregiver_id", "viewer_id")
    assert [k for k in left if not left[k] and not k.endswith(caregivers_only)] == []


def test_deleting_the_account_through_the_api_leaves_no_row_that_refers_to_her(
    app, as_alice, as_bob, alice, bob
):
    populate(app, as_alice, as_bob, alice)
    assert as_alice.delete("/me", {"password": PASSWORD}).status_code == 204
    with app.app_context():
        assert_nothing_left_of(alice.id)
        assert db.session.get(User, bob.id) is not None
    assert as_bob.get("/shares").get_json()["items"] == []
    assert as_bob.get(f"/export/sessions.csv?patient_id={alice.id}").status_code == 404


def test_deleting_the_account_on_the_settings_page_asks_for_the_password(
    app, as_alice, as_bob, alice, bob
):
    populate(app, as_alice, as_bob, alice)
    browser = Browser(as_alice.client)
    page = text(browser.get("/settings/delete"))
    for word in ("sessions", "therapists", "share", "invitation", "reminders"):
        assert word in page

    wrong = browser.submit("/settings/delete", {"password": "not my password"})
    assert wrong.status_code == 422
    assert re.search(r'<p class="error" id="password-error">[^<]*not right', wrong.text)
    with app.app_context():
        assert db.session.get(User, alice.id) is not None

    done = browser.submit("/settings/delete", {"password": PASSWORD})
    assert done.status_code == 200 and done.request.path == "/"
    assert "Your account and all its data were deleted." in text(done)
    with app.app_context():
        assert_nothing_left_of(alice.id)
    assert as_alice.client.get("/settings").status_code == 302  # logged out
    assert (
        Api(app.test_client())
        .post("/auth/login", {"email": alice.email, "password": PASSWORD})
        .status_code
        == 401
    )


def test_a_caregiver_deleting_their_account_ends_their_shares_only(
    app, as_alice, as_bob, alice, bob
):
    populate(app, as_alice, as_bob, alice)
    browser = Browser(as_bob.client)
    assert browser.submit("/settings/delete", {"password": PASSWORD}).status_code == 200
    with app.app_context():
        assert {k: v for k, v in rows_referring_to(bob.id).items() if v} == {}
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(MassageSession)
                .where(MassageSession.patient_id == alice.id)
            )
            == 3
        )
    assert as_alice.get("/shares").get_json()["items"] == []


def test_the_fhir_bundle_names_the_public_address_whatever_host_was_asked_for(app, alice):
    from flask.testing import FlaskClient

    class ForgedHost(FlaskClient):
        def open(self, *args, **kwargs):
            kwargs.setdefault("base_url", "http://evil.example")
            return super().open(*args, **kwargs)

    as_alice = Api(ForgedHost(app, app.response_class, use_cookies=True)).login(alice.email)
    as_alice.post("/sessions", session_body())
    bundle = as_alice.get("/export/fhir").get_json()
    public = app.config["PUBLIC_URL"].rstrip("/")
    systems = [
        e["resource"]["identifier"][0]["system"]
        for e in bundle["entry"]
        if "identifier" in e["resource"]
    ]
    assert systems == [f"{public}/users", f"{public}/api/v1/sessions"]
    assert bundle["entry"][0]["fullUrl"] == exports._urn(public, "users", alice.id)
    assert "evil" not in json.dumps(bundle)
