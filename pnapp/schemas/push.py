"""Web Push: the server's key and the browsers' subscriptions."""

from __future__ import annotations

from marshmallow import fields, validate

from pnapp.i18n import N_
from pnapp.schemas.common import Schema


class PublicKeySchema(Schema):
    public_key = fields.String()


BASE64URL = validate.Regexp(r"^[A-Za-z0-9_-]+={0,2}$", error=N_("Must be base64url."))


class PushKeysSchema(Schema):
    p256dh = fields.String(required=True, validate=[validate.Length(min=20, max=200), BASE64URL])
    auth = fields.String(required=True, validate=[validate.Length(min=8, max=100), BASE64URL])


class SubscriptionSchema(Schema):
    endpoint = fields.String(required=True, validate=validate.Length(max=2048))
    keys = fields.Nested(PushKeysSchema, required=True)
    # Browsers' PushSubscription.toJSON() includes it; we do not use it.
    expirationTime = fields.Float(load_only=True, allow_none=True)  # noqa: N815


class SubscriptionDeleteSchema(Schema):
    endpoint = fields.String(required=True, validate=validate.Length(max=2048))


class PushTestSchema(Schema):
    sent = fields.Integer()
    failed = fields.Integer()
