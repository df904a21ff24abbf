"""Exports: whose file to make, and over how many weeks."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from pnapp.schemas.common import MAX_ID, Schema


class ExportQuerySchema(Schema):
    class Meta:
        unknown = ma.EXCLUDE

    patient_id = fields.Integer(
        validate=validate.Range(1, MAX_ID),
        metadata={"description": "A caregiver names the patient; a patient may leave it out."},
    )


class ReportQuerySchema(ExportQuerySchema):
    weeks = fields.Integer(load_default=12, validate=validate.Range(1, 104))
