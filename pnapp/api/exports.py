"""Exports (API.md): the sessions as CSV, a PDF report for a clinician, a FHIR R4 Bundle and
everything stored as JSON. A caregiver holding the `sessions` scope may read a patient's CSV
and report (notes in the CSV only with `notes`); the rest is the patient's own."""

from __future__ import annotations

import json
import re

from flask import Response, current_app, request
from flask_login import current_user

from pnapp import exports
from pnapp.api import ERROR, requires, resource
from pnapp.errors import ApiError
from pnapp.models import CareShare, User, record_access
from pnapp.schemas import ExportQuerySchema, ReportQuerySchema
from pnapp.timeutil import local_date, utcnow

bp = resource("exports", "Exports", "/export")

ATTACHMENT = {
    "Content-Disposition": {
        "description": "attachment, with a file name such as pnapp-alice-sessions-2026-11-23.csv",
        "schema": {"type": "string"},
    }
}


def attachment(schema: dict, content_type: str, description: str):
    """Documents a download's 200: a file of this type, named in Content-Disposition."""
    return bp.response(
        200, schema, content_type=content_type, description=description, headers=ATTACHMENT
    )


def export_subject(patient_id: int | None) -> tuple[User, bool]:
    """Whose export this is, and whether notes may be in it: a patient's own (naming anyone
    else is a 404), or a patient who shares `sessions` with this caregiver (else a 404)."""
    if current_user.is_patient:
        if patient_id not in (None, current_user.id):
            raise ApiError(404)
        return current_user._get_current_object(), True
    if patient_id is None:
        raise ApiError(422, fields={"patient_id": ["Say whose export you want."]})
    share = CareShare.grant(current_user, patient_id, "sessions")
    what = "report" if request.endpoint.endswith("report_pdf") else "export"
    record_access(patient_id, what, viewer=current_user)
    return share.patient, share.has("notes")


def download(body: str | bytes, mimetype: str, patient: User, what: str, ext: str) -> Response:
    """A file to save, named after the person and the day; never kept by a shared cache."""
    slug = re.sub(r"[^a-z0-9]+", "-", patient.display_name.lower()).strip("-") or "patient"
    day = local_date(utcnow(), patient.timezone).isoformat()
    name = f"pnapp-{slug}-{what}-{day}.{ext}"
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.get("/sessions.csv")
@requires()
@bp.arguments(ExportQuerySchema, location="query")
@attachment({"type": "string"}, "text/csv", "One row per session")
@bp.alt_response(404, schema=ERROR, description="No such patient shares `sessions` with you")
@bp.alt_response(422, schema=ERROR)
def sessions_csv(args):
    """Every session as CSV: ratings as numbers, times in the patient's zone and in UTC."""
    patient, notes = export_subject(args.get("patient_id"))
    body = exports.sessions_csv(patient, include_notes=notes)
    return download(body, "text/csv", patient, "sessions", "csv")


@bp.get("/report.pdf")
@requires()
@bp.arguments(ReportQuerySchema, location="query")
@attachment(
    {"type": "string", "format": "binary"},
    "application/pdf",
    "A one-to-two page report for a clinician",
)
@bp.alt_response(404, schema=ERROR, description="No such patient shares `sessions` with you")
@bp.alt_response(422, schema=ERROR)
def report_pdf(args):
    """Weeks kept, before and after charts, relief, adjuncts and therapists, as a PDF."""
    patient, _ = export_subject(args.get("patient_id"))
    body = exports.report_pdf(patient, args["weeks"], utcnow())
    return download(body, "application/pdf", patient, "report", "pdf")


@bp.get("/fhir")
@requires("patient")
@attachment(
    {"type": "object", "description": "A FHIR R4 Bundle of type collection"},
    "application/fhir+json",
    "One Procedure per session and one Observation per rating",
)
def fhir():
    """The patient's sessions and ratings as a FHIR R4 Bundle (codes: CLINICAL.md)."""
    # The configured address, not the Host header: a request may claim any host it likes.
    bundle = exports.fhir_bundle(current_user, current_app.config["PUBLIC_URL"])
    return download(json.dumps(bundle), "application/fhir+json", current_user, "fhir", "json")


@bp.get("/all.json")
@requires("patient")
@attachment(
    {"type": "object", "description": "user, sessions, therapists, shares, invites, ..."},
    "application/json",
    "Everything stored about the account",
)
def all_json():
    """Everything stored about the account, without password or token hashes."""
    body = json.dumps(exports.all_json(current_user), indent=1)
    return download(body, "application/json", current_user, "all", "json")
