"""The FHIR R4 Bundles a link holds, one per chosen content, each of type "collection" and
tagged with what it is (CONTENT_TAGS), so a viewer knows the visit summary from the record:

- summary: what a therapist needs before the next visit. The last few sessions as in the
  full export (one Procedure with its body sites, and one Observation per rating), plus what
  was used (Procedure.usedCode: heat towels, cold towels, hot tub, sauna) and the patient's
  note on each session only when the patient ticked notes for this link.
- report: the progress report PDF as a DocumentReference whose attachment is the PDF.
- fhir: the full export (pnapp.exports.fhir), without the e-mail address.

The Patient carries a name only: a link is for someone outside the app.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from sqlalchemy import select

from pnapp.exports.fhir import _observation, _procedure, _urn, fhir_bundle
from pnapp.exports.pdf import report_pdf
from pnapp.exports.records import WHENS, patient_therapists
from pnapp.extensions import db
from pnapp.i18n import language_tag
from pnapp.models import MEASURES, MassageSession, User
from pnapp.timeutil import to_utc_iso

RECENT = 6  # sessions in the visit summary, as on the therapist's summary page
REPORT_WEEKS = 12
CONTENT_TAGS = "https://pnapp.example/fhir/CodeSystem/link-content"
ADJUNCT = "https://pnapp.example/fhir/CodeSystem/adjunct"
ADJUNCT_WORDS = {
    "heat_towels": "Heat towels",
    "cold_towels": "Cold towels",
    "hot_tub": "Hot tub",
    "sauna": "Sauna",
}
PROGRESS_NOTE = {"system": "http://loinc.org", "code": "11506-3", "display": "Progress note"}


def _bundle(content: str, entries: list[dict], now: datetime) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "meta": {"tag": [{"system": CONTENT_TAGS, "code": content}]},
        "language": language_tag(),
        "type": "collection",
        "timestamp": to_utc_iso(now),
        "entry": entries,
    }


def _patient_entry(patient: User, base_url: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "name": [{"text": patient.full_name or patient.display_name}],
    }
    if patient.birth_date:
        resource["birthDate"] = patient.birth_date.isoformat()
    return {"fullUrl": _urn(base_url, "users", patient.id), "resource": resource}


def summary_bundle(
    patient: User, base_url: str, now: datetime, *, with_notes: bool
) -> dict[str, Any]:
    """The visit summary: the last RECENT sessions, newest first."""
    base_url = base_url.rstrip("/")
    patient_entry = _patient_entry(patient, base_url)
    patient_ref = patient_entry["fullUrl"]
    therapists = patient_therapists(patient)
    recent = db.session.scalars(
        select(MassageSession)
        .where(MassageSession.patient_id == patient.id)
        .order_by(MassageSession.started_at.desc(), MassageSession.id.desc())
        .limit(RECENT)
    )
    entries = [patient_entry]
    for s in recent:
        ref = _urn(base_url, "sessions", s.id)
        procedure = _procedure(s, therapists.get(s.therapist_id), patient_ref, base_url)
        del procedure["identifier"]  # an address inside the app means nothing to the reader
        if s.adjuncts:
            procedure["usedCode"] = [
                {"coding": [{"system": ADJUNCT, "code": a, "display": ADJUNCT_WORDS[a]}]}
                for a in s.adjuncts
                if a in ADJUNCT_WORDS
            ]
        if with_notes and s.notes:
            procedure["note"] = [{"text": s.notes}]
        entries.append({"fullUrl": ref, "resource": procedure})
        for when in WHENS:
            for m in MEASURES:
                if getattr(s, f"{when}_{m}") is not None:
                    entries.append(
                        {
                            "fullUrl": _urn(base_url, "sessions", s.id, when, m),
                            "resource": _observation(s, when, m, patient_ref, ref),
                        }
                    )
    return _bundle("summary", entries, now)


def report_bundle(patient: User, base_url: str, now: datetime) -> dict[str, Any]:
    """The progress report of the last REPORT_WEEKS weeks, in the patient's language."""
    base_url = base_url.rstrip("/")
    patient_entry = _patient_entry(patient, base_url)
    pdf = report_pdf(patient, REPORT_WEEKS, now)
    document = {
        "resourceType": "DocumentReference",
        "status": "current",
        "type": {"coding": [PROGRESS_NOTE], "text": "Massage and symptom report"},
        "subject": {"reference": patient_entry["fullUrl"]},
        "date": to_utc_iso(now),
        "description": "Massage and symptom report",
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "language": language_tag(),
                    "data": base64.b64encode(pdf).decode(),
                    "size": len(pdf),
                    "title": "report.pdf",
                    "creation": to_utc_iso(now),
                }
            }
        ],
    }
    entries = [
        patient_entry,
        {"fullUrl": _urn(base_url, "links", "report", to_utc_iso(now)), "resource": document},
    ]
    return _bundle("report", entries, now)


def record_bundle(patient: User, base_url: str, now: datetime) -> dict[str, Any]:
    """The full FHIR export, without the e-mail address."""
    bundle = fhir_bundle(patient, base_url, now=now)
    for entry in bundle["entry"]:
        entry["resource"].pop("telecom", None)
    return _bundle("fhir", bundle["entry"], now)


BUILDERS = {
    "summary": lambda patient, base, now, notes: summary_bundle(
        patient, base, now, with_notes=notes
    ),
    "report": lambda patient, base, now, notes: report_bundle(patient, base, now),
    "fhir": lambda patient, base, now, notes: record_bundle(patient, base, now),
}
