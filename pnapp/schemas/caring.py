"""Caregivers who help: encouragements and the access log."""

from __future__ import annotations

from marshmallow import fields, validate

from pnapp.models import PRESETS
from pnapp.schemas.common import OutDateTime, Schema


class EncouragementInSchema(Schema):
    message = fields.String(required=True, validate=validate.OneOf(list(PRESETS)))


class EncouragementSchema(Schema):
    id = fields.Integer()
    message = fields.String()
    sent_at = OutDateTime()


class PresetSchema(Schema):
    key = fields.String()
    text = fields.String()


class EncouragementListSchema(Schema):
    items = fields.List(fields.Nested(PresetSchema))


class WhoSchema(Schema):
    id = fields.Integer(allow_none=True)
    display_name = fields.String()


class AccessItemSchema(Schema):
    who = fields.Nested(WhoSchema)
    what = fields.String()
    at = OutDateTime()


class AccessLogSchema(Schema):
    items = fields.List(fields.Nested(AccessItemSchema))
