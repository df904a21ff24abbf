"""The doctor's report and the health-record export over months: the optional full name and
date of birth (Settings, PATCH /me), Letter or A4 by zone or by choice, the weekly trend,
relief with its counts, PGIC history and therapists on one or two pages in each language,
checked as text and as pictures; PGIC as FHIR QuestionnaireResponses."""

from __future__ import annotations

import io
import json
import re
import shutil
import struct
import subprocess
from datetime import UTC, date, datetime, timedelta

import pytest
from flask_babel import gettext
from PIL import Image
from pypdf import PdfReader

from pnapp import exports
from pnapp.demo import add_sessions, session_rows
from pnapp.extensions import db
from pnapp.labels import date_words, decimal
from pnapp.models import PgicAnswer, Therapist, User
from tests.test_exports import validate
from tests.test_pages import Browser, text

NOW = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)  # a Friday
# PDF points (1/72 inch): Letter is 8.5 x 11 in, A4 210 x 297 mm.
PAPER_POINTS = {"letter": (612, 792), "a4": (595.28, 841.89)}
LANGUAGES = ("en", "fr-CA", "es")


@pytest.fixture
def dana(app, alice):
    """Alice, with a full name and a birth date, a year of sessions, two therapists and
    three PGIC answers."""
    with app.app_context():
        user = db.session.get(User, alice.id)
        user.full_name, user.birth_date = "Alice Dana Morin", date(1951, 4, 9)
        ids = tuple(Therapist.create(user, {"name": n}).id for n in ("Marie Tremblay", "Sam Ortiz"))
        add_sessions(user, session_rows(user, weeks=56, seed=3, now=NOW, therapist_ids=ids))
        for days, value in ((200, 3), (110, 2), (20, 1)):
            db.session.add(
                PgicAnswer(patient_id=user.id, value=value, answered_at=NOW - timedelta(days=days))
            )
        db.session.commit()
    return alice


def report(app, user_id: int, weeks: int, language: str, paper: str | None = None):
    """The report as the reader of `language` downloads it, with the words and numbers the
    app puts in it for that reader (so the checks hold before and after translation)."""
    with app.test_request_context(headers={"Accept-Language": language}):
        user = db.session.get(User, user_id)
        user.paper_size = paper
        pdf = exports.report_pdf(user, weeks, NOW)
        progress = user.progress(NOW, weeks)
        first = date_words(progress["weeks"][0]["start"])
        expected = {
            "first": first,
            "born": date_words(date(1951, 4, 9), "yMMMMd"),
            "relief": gettext("Relief after a session"),
            "where": gettext("Where are your symptoms?"),
            "weeks_kept": gettext("Weeks kept"),
            "pages": [gettext("Page %(page)s of %(pages)s", page=n, pages=2) for n in (1, 2)],
            "pain": decimal(progress["relief"]["pain"]["mean_before"]),
            "trend": [decimal(w["pain_before_mean"]) for w in progress["trend"] if w["sessions"]],
            "pgic": [str(a.label) for a in progress["pgic"]],
            "sessions": sum(w["sessions"] for w in progress["weeks"]),
        }
        db.session.rollback()
    return pdf, expected


def pages_text(pdf: bytes) -> list[str]:
    return [re.sub(r"\s+", " ", p.extract_text()) for p in PdfReader(io.BytesIO(pdf)).pages]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("paper", "weeks"), [("letter", 52), ("a4", 104), ("letter", 12)])
def test_the_report_shows_the_months_on_one_or_two_pages_in_each_language_and_size(
    app, dana, language, paper, weeks
):
    pdf, want = report(app, dana.id, weeks, language, paper)
    reader = PdfReader(io.BytesIO(pdf))
    assert 1 <= len(reader.pages) <= 2
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(width), round(height)) == tuple(round(v) for v in PAPER_POINTS[paper])
    pages = pages_text(pdf)
    words = " ".join(pages)
    # Every page names the patient, the dates it covers and its number.
    for n, page in enumerate(pages):
        assert "Alice Dana Morin" in page and want["first"] in page, n
        if len(pages) == 2:
            assert want["pages"][n] in page
    assert want["born"] in words
    assert want["relief"] in words and want["weeks_kept"] in words
    # Symptom areas as the app asks for them, not as a massage plan.
    assert want["where"] in words and "Areas massaged" not in words
    assert "Marie Tremblay" in words and "Sam Ortiz" in words
    assert want["pain"] in words
    # The weekly table: every week's mean pain before, in the reader's decimals.
    assert all(value in words for value in want["trend"])
    for label in want["pgic"]:
        assert label in words
    assert str(want["sessions"]) in words
    assert "%%" not in words and "clinically important" not in words.lower()


def png_size(path) -> tuple[int, int]:
    return struct.unpack(">II", path.read_bytes()[16:24])


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler) not installed")
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("paper", ["letter", "a4"])
def test_the_report_renders_as_pictures_of_its_paper(app, dana, tmp_path, language, paper):
    pdf, _ = report(app, dana.id, 52, language, paper)
    (tmp_path / "report.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "72", "report.pdf", "page"], cwd=tmp_path, check=True, timeout=60
    )
    pngs = sorted(tmp_path.glob("page*.png"))
    assert 1 <= len(pngs) <= 2
    for png in pngs:
        width, height = png_size(png)
        expected = PAPER_POINTS[paper]  # at 72 dpi one pixel a point, rounded either way
        assert abs(width - expected[0]) < 1 and abs(height - expected[1]) < 1, (width, height)
        assert png.stat().st_size > 20_000, png  # drawn on, not blank
        # Nothing runs off the paper: the outer 7 points of the right edge stay white (a long
        # French title once did).
        with Image.open(png) as picture:
            edge = picture.convert("L").crop((width - 7, 0, width, height))
            assert edge.getextrema()[0] > 245, (png.name, edge.getextrema())


def test_the_paper_follows_the_time_zone_unless_chosen(app, alice, charlie):
    # Alice lives in Toronto, Charlie in Berlin.
    for who, usual in ((alice, "letter"), (charlie, "a4")):
        pdf, _ = report(app, who.id, 12, "en")
        box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
        assert round(float(box.width)) == round(PAPER_POINTS[usual][0])
    pdf, _ = report(app, charlie.id, 12, "en", paper="letter")
    assert round(float(PdfReader(io.BytesIO(pdf)).pages[0].mediabox.width)) == 612


def test_without_a_full_name_the_report_uses_the_display_name_and_no_birth_date(app, alice):
    with app.test_request_context():
        pdf = exports.report_pdf(db.session.get(User, alice.id), 12, NOW)
    words = " ".join(pages_text(pdf))
    assert "Alice" in words and "Date of birth" not in words
    assert "Too early to tell" in words and "No answer in these weeks." in words


# Settings and PATCH /me


def test_settings_save_the_full_name_birth_date_and_paper_and_blank_clears_them(
    app, alice, as_alice
):
    browser = Browser(as_alice.client)
    page = browser.get("/settings").get_data(as_text=True)
    assert 'id="full_name"' in page and 'type="date"' in page and 'name="paper_size"' in page
    assert "The usual one for my time zone (Letter)" in text(browser.get("/settings"))
    form = {"display_name": "Alice", "timezone": "America/Toronto", "weekly_goal": "1"}
    done = browser.submit(
        "/settings",
        {**form, "full_name": "  Alice Morin ", "birth_date": "1951-04-09", "paper_size": "a4"},
    )
    assert "Settings saved." in text(done)
    me = as_alice.get("/me").get_json()
    assert (me["full_name"], me["birth_date"], me["paper_size"]) == (
        "Alice Morin",
        "1951-04-09",
        "a4",
    )
    browser.submit("/settings", {**form, "full_name": " ", "birth_date": "", "paper_size": ""})
    me = as_alice.get("/me").get_json()
    assert (me["full_name"], me["birth_date"], me["paper_size"]) == (None, None, None)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("birth_date", "1899-12-31"),
        ("birth_date", (date.today() + timedelta(days=2)).isoformat()),
        ("birth_date", "1951-02-30"),
        ("paper_size", "b5"),
        ("full_name", "x" * 121),
        ("full_name", "nul\x00"),
    ],
)
def test_patch_me_refuses_an_impossible_report_field(as_alice, field, value):
    response = as_alice.patch("/me", {field: value})
    assert response.status_code == 422 and field in response.get_json()["error"]["fields"]


def test_a_caregiver_never_sees_the_full_name_or_birth_date(app, alice, as_alice, as_bob):
    from tests.conftest import share_with

    as_alice.patch("/me", {"full_name": "Alice Secret-Surname", "birth_date": "1951-04-09"})
    share_with(as_alice, as_bob, ["progress"])
    seen = [
        as_bob.client.get(f"/care/{alice.id}").get_data(as_text=True),
        as_bob.client.get("/care").get_data(as_text=True),
        json.dumps(as_bob.get("/shares").get_json()),
        json.dumps(as_bob.get(f"/patients/{alice.id}/progress").get_json()),
    ]
    for page in seen:
        assert "Secret-Surname" not in page and "1951" not in page
    settings = as_bob.client.get("/settings").get_data(as_text=True)
    assert 'id="full_name"' not in settings


# FHIR and everything stored


def test_the_fhir_bundle_has_the_patient_and_pgic_as_questionnaire_responses(app, dana):
    with app.app_context():
        bundle = exports.fhir_bundle(db.session.get(User, dana.id), "https://care.example/")
    validate(bundle)
    resources = [e["resource"] for e in bundle["entry"]]
    for r in resources:
        validate(r)
    [patient] = [r for r in resources if r["resourceType"] == "Patient"]
    assert (
        patient["name"] == [{"text": "Alice Dana Morin"}] and patient["birthDate"] == "1951-04-09"
    )
    [questionnaire] = [r for r in resources if r["resourceType"] == "Questionnaire"]
    assert questionnaire["url"] == "https://care.example/fhir/Questionnaire/pgic"
    [item] = questionnaire["item"]
    assert item["type"] == "choice" and len(item["answerOption"]) == 7
    assert item["answerOption"][0]["valueCoding"]["display"] == "Very much improved"
    responses = [r for r in resources if r["resourceType"] == "QuestionnaireResponse"]
    assert len(responses) == 3
    patient_ref = next(e["fullUrl"] for e in bundle["entry"] if e["resource"] is patient)
    for r in responses:
        assert r["status"] == "completed" and r["questionnaire"] == questionnaire["url"]
        assert r["subject"] == {"reference": patient_ref} and r["authored"].endswith("Z")
    answers = [r["item"][0]["answer"][0]["valueCoding"]["code"] for r in responses]
    assert answers == ["3", "2", "1"]


def test_without_answers_the_bundle_has_no_questionnaire(app, alice):
    with app.app_context():
        bundle = exports.fhir_bundle(db.session.get(User, alice.id), "https://care.example")
    types = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert types == {"Patient"}


def test_everything_stored_includes_the_pgic_answers_and_the_birth_date(app, dana, as_alice):
    body = as_alice.get("/export/all.json").get_json()
    assert [a["value"] for a in body["pgic_answers"]] == [3, 2, 1]
    assert body["pgic_answers"][0]["answered_at"].endswith("Z")
    assert body["user"]["birth_date"] == "1951-04-09"
    assert body["user"]["full_name"] == "Alice Dana Morin"
