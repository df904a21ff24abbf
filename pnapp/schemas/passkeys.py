"""Passkeys and e-mailed sign-in links: what the browser sends after its prompt, the list in
Settings, and asking for a link."""

from __future__ import annotations

from marshmallow import fields, validate

from pnapp.models.passkeys import NAME_LENGTH
from pnapp.schemas.accounts import TOKEN, TrimmedEmail
from pnapp.schemas.common import OutDateTime, Schema

CREDENTIAL = fields.Dict(
    required=True,
    metadata={
        "description": "The browser's PublicKeyCredential as JSON (credential.toJSON(), or the "
        "same shape with base64url strings)"
    },
)
NAME = fields.String(validate=validate.Length(min=1, max=NAME_LENGTH))


class PasskeySchema(Schema):
    id = fields.Integer()
    name = fields.String()
    created_at = OutDateTime()
    last_used_at = OutDateTime(allow_none=True)


class PasskeyListSchema(Schema):
    items = fields.List(fields.Nested(PasskeySchema))


class PasskeyNewSchema(Schema):
    credential = CREDENTIAL
    name = NAME


class PasskeyRenameSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_LENGTH))


class PasskeyRemoveSchema(Schema):
    password = fields.String(
        load_only=True,
        validate=validate.Length(max=1000),
        metadata={"description": "Needed to remove the last passkey"},
    )


class PasskeySignInSchema(Schema):
    credential = CREDENTIAL


class SignInLinkSchema(Schema):
    email = TrimmedEmail(required=True, validate=validate.Length(max=254))


class SignInLinkConfirmSchema(Schema):
    token = TOKEN
