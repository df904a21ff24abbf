"""Links for a therapist or a doctor (SMART Health Links), and their manifest."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate, validates

from pnapp.errors import ErrorSchema
from pnapp.i18n import N_
from pnapp.models import LINK_CONTENTS
from pnapp.models.links import DAYS
from pnapp.schemas.common import OutDateTime, Schema, StrictBool, StrictInt, choice_list


class LinkInSchema(Schema):
    label = fields.String(
        required=True,
        validate=validate.Length(min=1, max=80),
        metadata={"description": "Who it is for, e.g. the therapist's name and credential"},
    )
    contents = choice_list(LINK_CONTENTS, min_items=1, required=True)
    expires_in_days = StrictInt(load_default=30, validate=validate.Range(*DAYS))
    passcode = fields.String(validate=validate.Length(min=4, max=32))
    notes = StrictBool(
        load_default=False,
        metadata={"description": "Put the patient's notes in the visit summary"},
    )

    @validates("label")
    def _label(self, value, **kwargs):
        if not value.strip():
            raise ma.ValidationError(N_("Please enter a name."))

    @validates("contents")
    def _contents(self, value, **kwargs):
        if len(set(value)) != len(value):
            raise ma.ValidationError(N_("Choose at least one, each once."))


class LinkCreatedSchema(Schema):
    id = fields.Integer()
    url = fields.String(metadata={"description": "The viewer's address with the link after #"})
    shlink = fields.String(metadata={"description": "The shlink:/ link alone"})
    qr_svg = fields.String(metadata={"description": "The address as an SVG QR code"})
    expires_at = OutDateTime()


class LinkSchema(Schema):
    id = fields.Integer()
    label = fields.String()
    contents = fields.List(fields.String())
    notes = fields.Boolean(attribute="with_notes")
    created_at = OutDateTime()
    expires_at = OutDateTime()
    last_opened_at = OutDateTime(allow_none=True)
    opens = fields.Integer()
    passcode = fields.Boolean()
    active = fields.Boolean()


class LinkListSchema(Schema):
    items = fields.List(fields.Nested(LinkSchema))


class ManifestInSchema(Schema):
    recipient = fields.String(required=True, validate=validate.Length(min=1, max=200))
    passcode = fields.String(validate=validate.Length(max=200))
    embeddedLengthMax = StrictInt(validate=validate.Range(min=1))  # noqa: N815 (the spec's)


class ManifestFileSchema(Schema):
    contentType = fields.String()  # noqa: N815
    embedded = fields.String(metadata={"description": "A compact JWE under the link's key"})
    location = fields.String(
        metadata={"description": "Instead of embedded, when longer than embeddedLengthMax"}
    )


class ManifestSchema(Schema):
    files = fields.List(fields.Nested(ManifestFileSchema))


class WrongPasscodeSchema(ErrorSchema):
    remainingAttempts = fields.Integer(required=True)  # noqa: N815
