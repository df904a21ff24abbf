"""The patient's notebook of massage therapists."""

from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user

from pnapp.api import requires, resource
from pnapp.models import Therapist
from pnapp.schemas import therapists as schemas

bp = resource("therapists", "Therapists", "/therapists")


@bp.route("")
class Therapists(MethodView):
    decorators = [requires("patient")]

    @bp.response(200, schemas.TherapistListSchema)
    def get(self):
        """The patient's therapists, with sessions so far and the average pain change."""
        return {"items": Therapist.with_stats(current_user)}

    @bp.arguments(schemas.TherapistInSchema)
    @bp.response(201, schemas.TherapistSchema)
    def post(self, data):
        """Add a therapist."""
        return Therapist.create(current_user, data)


@bp.route("/<int:therapist_id>")
class TherapistItem(MethodView):
    decorators = [requires("patient")]

    @bp.response(200, schemas.TherapistSchema)
    def get(self, therapist_id):
        """One therapist."""
        return current_user.own_therapist(therapist_id).with_own_stats()

    @bp.arguments(schemas.TherapistPatchSchema, required=False)
    @bp.response(200, schemas.TherapistSchema)
    def patch(self, data, therapist_id):
        """Change a therapist's details."""
        therapist = current_user.own_therapist(therapist_id)
        therapist.update(data)
        return therapist.with_own_stats()

    @bp.response(204)
    def delete(self, therapist_id):
        """Remove a therapist; their sessions stay, without the link."""
        current_user.own_therapist(therapist_id).delete()
