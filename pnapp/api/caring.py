"""Caregivers who help: encouragements, and the patient's access log."""

from __future__ import annotations

from flask_babel import gettext
from flask_login import current_user

from pnapp.api import ERROR, requires, resource
from pnapp.errors import ApiError
from pnapp.i18n import N_
from pnapp.models import PRESETS, CareShare, Encouragement, access
from pnapp.schemas.caring import (
    AccessLogSchema,
    EncouragementInSchema,
    EncouragementListSchema,
    EncouragementSchema,
)

bp = resource("caring", "Caregivers who help")


@bp.get("/encouragements")
@requires()
@bp.response(200, EncouragementListSchema)
def presets():
    """The preset kind words a caregiver may send, in the caller's language."""
    return {"items": [{"key": k, "text": gettext(v)} for k, v in PRESETS.items()]}


@bp.post("/patients/<int:patient_id>/encouragements")
@requires("caregiver")
@bp.arguments(EncouragementInSchema)
@bp.response(201, EncouragementSchema)
@bp.alt_response(404, schema=ERROR, description="No share with this patient")
@bp.alt_response(429, schema=ERROR, description="One a day; see Retry-After")
def encourage(data, patient_id):
    """Send a patient one of the preset encouragements: one a day per caregiver."""
    share = CareShare.grant(current_user, patient_id, None)
    if data["message"] not in PRESETS:
        raise ApiError(422, fields={"message": [N_("Choose one of the preset messages.")]})
    return Encouragement.send(current_user, share.patient, data["message"])


@bp.get("/access-log")
@requires("patient")
@bp.response(200, AccessLogSchema)
def access_log():
    """Who looked at your data, newest first: the last 100 reads and exports."""
    return {"items": access.recent(current_user.id)}
