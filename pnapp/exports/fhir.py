"""The sessions as a FHIR R4 Bundle of type "collection" (CLINICAL.md, Interoperability).

- A Patient, then per session one Procedure and one Observation per rating given.
- Procedure.code is SNOMED CT 387854002 "Massage" (the regime/therapy concept, also called
  therapeutic massage); status completed; performedDateTime is the start.
- Procedure.bodySite: one SNOMED CT body structure per site: feet_lower_legs gives 56459004
  Foot structure and 30021000 Lower leg structure, hands_lower_arms gives 85562004 Hand
  structure and 14975008 Forearm structure, whole_body gives 38266002 Entire body as a whole.
- Pain is LOINC 72514-3; stress, numbness, tingling and weakness have no LOINC code for a
  0-10 self-rating, so they use pnapp's own code system SELF_RATING with the measure's name
  as code.
- Before or after the massage is one `component` of every rating Observation: code
  SELF_RATING#timing, valueCodeableConcept SELF_RATING#before or SELF_RATING#after.
- Each entry's fullUrl is a urn:uuid derived from the site and the row (uuid5), so the same
  data always gives the same bundle and references stay inside it.
- Notes are left out: they are the patient's own jottings, not clinical data.
- The Patient has the full name and date of birth when the patient gave them in Settings.
- The global impression of change (PGIC): one Questionnaire of pnapp's own, canonical URL
  {public address}/fhir/Questionnaire/pgic, with one `choice` item whose seven answers are
  codes 1-7 of {public address}/fhir/CodeSystem/pgic; then one QuestionnaireResponse per
  answer (status completed, authored, subject and author the patient).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pnapp.exports.records import WHENS, patient_sessions, patient_therapists, recorders
from pnapp.models import MEASURES, MassageSession, PgicAnswer, Therapist, User, pgic
from pnapp.timeutil import to_utc_iso, utcnow

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
SELF_RATING = "https://pnapp.example/fhir/CodeSystem/self-rating"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"

MASSAGE = {"system": SNOMED, "code": "387854002", "display": "Massage"}
PAIN = {
    "system": LOINC,
    "code": "72514-3",
    "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
}
BODY_SITES = {
    "feet_lower_legs": [("56459004", "Foot structure"), ("30021000", "Lower leg structure")],
    "hands_lower_arms": [("85562004", "Hand structure"), ("14975008", "Forearm structure")],
    "whole_body": [("38266002", "Entire body as a whole")],
}
TIMING = {"before": "Before the massage", "after": "After the massage"}


def _urn(base_url: str, *parts: Any) -> str:
    name = "/".join([base_url.rstrip("/"), *(str(p) for p in parts)])
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def _rating_code(measure: str) -> dict[str, Any]:
    if measure == "pain":
        return {"coding": [PAIN], "text": "Pain (0-10)"}
    words = measure.title()  # FHIR's display texts stay in English
    coding = {"system": SELF_RATING, "code": measure, "display": f"{words} self-rating (0-10)"}
    return {"coding": [coding], "text": f"{words} (0-10)"}


def _observation(
    session: MassageSession, when: str, measure: str, patient_ref: str, procedure_ref: str
) -> dict[str, Any]:
    recorded = getattr(session, f"{when}_recorded_at") or session.started_at
    timing = {"system": SELF_RATING, "code": when, "display": TIMING[when]}
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}
        ],
        "code": _rating_code(measure),
        "subject": {"reference": patient_ref},
        "performer": [{"reference": patient_ref}],
        "effectiveDateTime": to_utc_iso(recorded),
        "valueInteger": getattr(session, f"{when}_{measure}"),
        "partOf": [{"reference": procedure_ref}],
        "component": [
            {
                "code": {
                    "coding": [
                        {
                            "system": SELF_RATING,
                            "code": "timing",
                            "display": "Rated before or after the massage",
                        }
                    ]
                },
                "valueCodeableConcept": {"coding": [timing], "text": TIMING[when]},
            }
        ],
    }


def _procedure(
    session: MassageSession, therapist: Therapist | None, patient_ref: str, base_url: str
) -> dict[str, Any]:
    procedure: dict[str, Any] = {
        "resourceType": "Procedure",
        "identifier": [{"system": f"{base_url}/api/v1/sessions", "value": str(session.id)}],
        "status": "completed",
        "code": {"coding": [MASSAGE], "text": "Massage therapy"},
        "subject": {"reference": patient_ref},
        "performedDateTime": to_utc_iso(session.started_at),
    }
    if therapist is not None:
        procedure["performer"] = [{"actor": {"display": therapist.name}}]
    sites = [
        {"coding": [{"system": SNOMED, "code": code, "display": display}], "text": display}
        for area in session.areas or ()
        for code, display in BODY_SITES.get(area, ())
    ]
    if sites:
        procedure["bodySite"] = sites
    return procedure


def _provenance(session: MassageSession, targets: list[str], enterer: str) -> dict[str, Any]:
    """Who entered a session the patient did not enter themselves."""
    return {
        "resourceType": "Provenance",
        "target": [{"reference": t} for t in targets],
        "recorded": to_utc_iso(session.created_at),
        "agent": [
            {
                "type": {
                    "coding": [
                        {
                            "system": PARTICIPANT_TYPE,
                            "code": "enterer",
                            "display": "Enterer",
                        }
                    ]
                },
                "who": {"reference": enterer},
            }
        ],
    }


def _questionnaire_url(base_url: str) -> str:
    return f"{base_url}/fhir/Questionnaire/pgic"


def _pgic_coding(base_url: str, value: int) -> dict[str, str]:
    return {
        "system": f"{base_url}/fhir/CodeSystem/pgic",
        "code": str(value),
        "display": pgic.ANSWERS[value],
    }


def pgic_questionnaire(base_url: str) -> dict[str, Any]:
    """pnapp's own Questionnaire for the PGIC: one choice item, seven answers."""
    return {
        "resourceType": "Questionnaire",
        "url": _questionnaire_url(base_url),
        "version": "1",
        "name": "PnappPGIC",
        "title": "Patient Global Impression of Change",
        "status": "active",
        "subjectType": ["Patient"],
        "description": "The patient version of the Clinical Global Impression of change "
        "(Guy 1976), asked at most every 28 days.",
        "item": [
            {
                "linkId": "pgic",
                "text": pgic.QUESTION,
                "type": "choice",
                "required": True,
                "answerOption": [{"valueCoding": _pgic_coding(base_url, v)} for v in pgic.ANSWERS],
            }
        ],
    }


def _pgic_response(answer: PgicAnswer, patient_ref: str, base_url: str) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": _questionnaire_url(base_url),
        "status": "completed",
        "subject": {"reference": patient_ref},
        "author": {"reference": patient_ref},
        "authored": to_utc_iso(answer.answered_at),
        "item": [
            {
                "linkId": "pgic",
                "text": pgic.QUESTION,
                "answer": [{"valueCoding": _pgic_coding(base_url, answer.value)}],
            }
        ],
    }


def _patient(patient: User, base_url: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"system": f"{base_url}/users", "value": str(patient.id)}],
        "name": [{"text": patient.full_name or patient.display_name}],
        "telecom": [{"system": "email", "value": patient.email}],
    }
    if patient.birth_date:
        resource["birthDate"] = patient.birth_date.isoformat()
    return resource


def fhir_bundle(patient: User, base_url: str, *, now: datetime | None = None) -> dict[str, Any]:
    """The patient's sessions and ratings as a FHIR R4 Bundle of type collection."""
    base_url = base_url.rstrip("/")
    patient_ref = _urn(base_url, "users", patient.id)
    entries = [{"fullUrl": patient_ref, "resource": _patient(patient, base_url)}]
    therapists = patient_therapists(patient)
    sessions = patient_sessions(patient)
    # A caregiver who entered sessions for the patient: a RelatedPerson, the performer of
    # those ratings, and the enterer in each such session's Provenance.
    helpers = recorders(patient, sessions)
    for uid, helper in sorted(helpers.items()):
        entries.append(
            {
                "fullUrl": _urn(base_url, "related", uid),
                "resource": {
                    "resourceType": "RelatedPerson",
                    "patient": {"reference": patient_ref},
                    "name": [{"text": helper.display_name}],
                },
            }
        )
    for s in sessions:
        procedure_ref = _urn(base_url, "sessions", s.id)
        therapist = therapists.get(s.therapist_id)
        entries.append(
            {"fullUrl": procedure_ref, "resource": _procedure(s, therapist, patient_ref, base_url)}
        )
        performer = _urn(base_url, "related", s.entered_by) if s.entered_by in helpers else None
        rated = []
        for when in WHENS:
            for m in MEASURES:
                if getattr(s, f"{when}_{m}") is None:
                    continue
                observation = _observation(s, when, m, patient_ref, procedure_ref)
                if performer:
                    observation["performer"] = [{"reference": performer}]
                rated.append(_urn(base_url, "sessions", s.id, when, m))
                entries.append({"fullUrl": rated[-1], "resource": observation})
        if performer:
            entries.append(
                {
                    "fullUrl": _urn(base_url, "provenance", s.id),
                    "resource": _provenance(s, [procedure_ref, *rated], performer),
                }
            )
    answers = PgicAnswer.since(patient)
    if answers:
        entries.append(
            {
                "fullUrl": _urn(base_url, "fhir", "Questionnaire", "pgic"),
                "resource": pgic_questionnaire(base_url),
            }
        )
    for answer in answers:
        entries.append(
            {
                "fullUrl": _urn(base_url, "pgic", answer.id),
                "resource": _pgic_response(answer, patient_ref, base_url),
            }
        )
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": to_utc_iso(now or utcnow()),
        "entry": entries,
    }
