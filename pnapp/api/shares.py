"""Caregivers: invites, shares, and a caregiver's read-only view of a patient."""

from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user

from pnapp.api import ERROR, limited, requires, resource
from pnapp.assets import public_url
from pnapp.errors import ApiError
from pnapp.extensions import ACCEPT_LIMIT
from pnapp.i18n import N_
from pnapp.models import CareShare, Invite, MassageSession, record_access
from pnapp.pagination import session_page
from pnapp.schemas import (
    AcceptSchema,
    InviteInSchema,
    InviteSchema,
    PendingInviteListSchema,
    ProgressQuerySchema,
    ProgressSchema,
    SessionInSchema,
    SessionPageSchema,
    SessionPatchSchema,
    SessionQuerySchema,
    SessionSchema,
    ShareListSchema,
    SharePatchSchema,
    ShareSchema,
)
from pnapp.timeutil import utcnow

bp = resource("shares", "Caregivers")


@bp.post("/shares/invites")
@requires("patient")
@bp.arguments(InviteInSchema, required=False)
@bp.response(201, InviteSchema)
def invite(data):
    """Make a one-time invitation link for a caregiver."""
    if len(set(data["scopes"])) != len(data["scopes"]):
        raise ApiError(422, fields={"scopes": [N_("Each scope may appear once.")]})
    created, token = Invite.create(current_user, data["scopes"], data["expires_in_days"])
    return {
        "invite_url": public_url("care.invite", token=token),
        "expires_at": created.expires_at,
    }


@bp.get("/shares/invites")
@requires("patient")
@bp.response(200, PendingInviteListSchema)
def invites():
    """The patient's invitations that are neither used nor expired."""
    return {"items": Invite.pending(current_user)}


@bp.delete("/shares/invites/<int:invite_id>")
@requires("patient")
@bp.response(204)
@bp.alt_response(404, schema=ERROR, description="Not one of your working invitations")
def cancel_invite(invite_id):
    """Cancel an invitation: its link stops working at once."""
    Invite.cancel(current_user, invite_id)


@bp.post("/shares/accept")
@limited(ACCEPT_LIMIT)
@requires("caregiver")
@bp.arguments(AcceptSchema)
@bp.response(201, ShareSchema)
@bp.alt_response(404, schema=ERROR, description="Unknown token")
@bp.alt_response(409, schema=ERROR, description="You already share with this patient")
@bp.alt_response(410, schema=ERROR, description="Expired or already used")
def accept(data):
    """Accept an invitation as a caregiver."""
    return Invite.accept(data["token"], current_user)


@bp.route("/shares")
class Shares(MethodView):
    decorators = [requires()]

    @bp.response(200, ShareListSchema)
    def get(self):
        """A patient's caregivers, or a caregiver's patients."""
        return {"items": CareShare.visible_to(current_user)}


@bp.route("/shares/<int:share_id>")
class ShareItem(MethodView):
    decorators = [requires()]

    @bp.arguments(SharePatchSchema)
    @bp.response(200, ShareSchema)
    @bp.alt_response(403, schema=ERROR)
    def patch(self, data, share_id):
        """Change what a caregiver may see (the patient only)."""
        share = CareShare.of(current_user, share_id)
        if share.patient_id != current_user.id:
            raise ApiError(403, N_("Only the patient can change what is shared."))
        if len(set(data["scopes"])) != len(data["scopes"]):
            raise ApiError(422, fields={"scopes": [N_("Each scope may appear once.")]})
        share.set_scopes(data["scopes"])
        return share

    @bp.response(204)
    def delete(self, share_id):
        """End a share; either side may, and access ends at once."""
        CareShare.of(current_user, share_id).end(by=current_user)


@bp.get("/patients/<int:patient_id>/progress")
@requires("caregiver")
@bp.arguments(ProgressQuerySchema, location="query")
@bp.response(200, ProgressSchema)
def patient_progress(args, patient_id):
    """A patient's progress, for a caregiver holding the `progress` scope."""
    share = CareShare.grant(current_user, patient_id, "progress")
    record_access(patient_id, "progress", viewer=current_user)
    return share.patient.progress(utcnow(), args["weeks"])


@bp.route("/patients/<int:patient_id>/sessions")
class PatientSessions(MethodView):
    decorators = [requires("caregiver")]

    @bp.arguments(SessionQuerySchema, location="query")
    @bp.response(200, SessionPageSchema)
    def get(self, args, patient_id):
        """A patient's sessions for a caregiver with `sessions`; notes only with `notes`."""
        share = CareShare.grant(current_user, patient_id, "sessions")
        record_access(patient_id, "sessions", viewer=current_user)
        items, next_cursor = session_page(share.patient, **args)
        if not share.has("notes"):
            items = [WithoutNotes(s) for s in items]
        return {"items": items, "next_cursor": next_cursor}

    @bp.arguments(SessionInSchema)
    @bp.response(201, SessionSchema)
    @bp.alt_response(200, schema=SessionSchema, description="A retry: the stored session")
    @bp.alt_response(409, schema=ERROR, description="client_id reused with another body")
    def post(self, data, patient_id):
        """Record a session for a patient, with the `record` scope; `entered_by` is you."""
        share = recorder(patient_id, data)
        session, created = MassageSession.record(share.patient, data, current_user)
        return as_seen(share, session), 201 if created else 200


@bp.route("/patients/<int:patient_id>/sessions/<int:session_id>")
class PatientSessionItem(MethodView):
    decorators = [requires("caregiver")]

    @bp.arguments(SessionPatchSchema, required=False)
    @bp.response(200, SessionSchema)
    def patch(self, data, patient_id, session_id):
        """Change a patient's session (typically add the after ratings), with `record`.
        A caregiver can never delete one."""
        share = recorder(patient_id, data)
        session = share.patient.own_session(session_id)
        if session.entered_by != current_user.id and not share.has("sessions"):
            # Without `sessions` a caregiver sees no single session but those they entered.
            raise ApiError(404)
        session.update(share.patient, data)
        return as_seen(share, session)


def recorder(patient_id: int, data: dict) -> CareShare:
    """The caregiver's share with `record` (else 404); notes only with `notes` too, since
    writing them blind could wipe out the patient's own."""
    share = CareShare.grant(current_user, patient_id, "record")
    if "notes" in data and not share.has("notes"):
        raise ApiError(422, fields={"notes": [N_("Only the patient can write notes here.")]})
    return share


def as_seen(share: CareShare, session):
    return session if share.has("notes") else WithoutNotes(session)


class WithoutNotes:
    """A session as a caregiver without the `notes` scope sees it (nothing is written)."""

    notes = None

    def __init__(self, session):
        self._session = session

    def __getattr__(self, name):
        return getattr(self._session, name)
