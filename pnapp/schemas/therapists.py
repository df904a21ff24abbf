"""The patient's own notebook of massage therapists."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate, validates

from pnapp.i18n import N_
from pnapp.schemas.common import OutDateTime, Schema, StrictBool


class ScreeningSchema(Schema):
    knows_pn = fields.String(allow_none=True, validate=validate.OneOf(("yes", "no", "unsure")))
    asked_symptom_areas = StrictBool(allow_none=True)
    approach = fields.String(allow_none=True, validate=validate.Length(max=2000))


class TherapistInSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    certified = StrictBool(allow_none=True)
    credential = fields.String(allow_none=True, validate=validate.Length(max=40))
    screening = fields.Nested(ScreeningSchema, allow_none=True)
    notes = fields.String(allow_none=True, validate=validate.Length(max=2000))

    @validates("name")
    def _name(self, value, **kwargs):
        if not value.strip():
            raise ma.ValidationError(N_("Please enter a name."))


class TherapistPatchSchema(TherapistInSchema):
    name = fields.String(validate=validate.Length(min=1, max=120))


class TherapistSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    phone = fields.String(allow_none=True)
    certified = fields.Boolean(allow_none=True)
    credential = fields.String(allow_none=True)
    screening = fields.Nested(ScreeningSchema, allow_none=True)
    notes = fields.String(allow_none=True)
    sessions_count = fields.Integer()
    mean_pain_change = fields.Float(allow_none=True)
    created_at = OutDateTime()
    updated_at = OutDateTime()


class TherapistListSchema(Schema):
    items = fields.List(fields.Nested(TherapistSchema))
