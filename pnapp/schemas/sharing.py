"""Caregivers: invitations and the shares they become."""

from __future__ import annotations

from marshmallow import fields, validate

from pnapp.models import DEFAULT_SCOPES, SCOPES
from pnapp.schemas.common import OutDateTime, Schema, choice_list


class InviteInSchema(Schema):
    scopes = choice_list(SCOPES, load_default=lambda: list(DEFAULT_SCOPES))
    expires_in_days = fields.Integer(strict=True, load_default=7, validate=validate.Range(1, 30))


class InviteSchema(Schema):
    invite_url = fields.String()
    expires_at = OutDateTime()


class AcceptSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class PersonSchema(Schema):
    id = fields.Integer()
    display_name = fields.String()


class ShareSchema(Schema):
    id = fields.Integer()
    patient = fields.Nested(PersonSchema)
    caregiver = fields.Nested(PersonSchema)
    scopes = fields.List(fields.String())
    created_at = OutDateTime()


class ShareListSchema(Schema):
    items = fields.List(fields.Nested(ShareSchema))


class SharePatchSchema(Schema):
    scopes = choice_list(SCOPES, required=True)


class PendingInviteSchema(Schema):
    id = fields.Integer()
    scopes = fields.List(fields.String())
    created_at = OutDateTime()
    expires_at = OutDateTime()


class PendingInviteListSchema(Schema):
    items = fields.List(fields.Nested(PendingInviteSchema))
