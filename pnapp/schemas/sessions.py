"""A patient's massage sessions, their ratings, and the query that pages through them."""

from __future__ import annotations

from datetime import UTC, date

import marshmallow as ma
from marshmallow import fields, validate, validates_schema

from pnapp.errors import Invalid
from pnapp.i18n import N_
from pnapp.measures import MEASURES, REQUIRED_MEASURES
from pnapp.models import ADJUNCTS, AREAS
from pnapp.pagination import decode_cursor
from pnapp.schemas.common import (
    MAX_ID,
    OutDateTime,
    Rating,
    Schema,
    StrictInt,
    UTCDateTime,
    choice_list,
)


class RatingsSchema(Schema):
    pain = Rating(required=True)
    stress = Rating(required=True)
    numbness = Rating(allow_none=True)
    tingling = Rating(allow_none=True)
    weakness = Rating(allow_none=True)
    recorded_at = UTCDateTime(allow_none=True)


class SessionPatchSchema(Schema):
    started_at = UTCDateTime()
    duration_min = StrictInt(allow_none=True, validate=validate.Range(5, 240))
    therapist_id = StrictInt(allow_none=True, validate=validate.Range(1, MAX_ID))
    areas = choice_list(AREAS)
    adjuncts = choice_list(ADJUNCTS)
    before = fields.Nested(RatingsSchema)
    after = fields.Nested(RatingsSchema, allow_none=True)
    notes = fields.String(allow_none=True, validate=validate.Length(max=2000))

    @validates_schema
    def _unique_choices(self, data, **kwargs):
        for key in ("areas", "adjuncts"):
            if key in data and len(set(data[key])) != len(data[key]):
                raise ma.ValidationError(N_("Each choice may appear once."), key)


class SessionInSchema(SessionPatchSchema):
    client_id = fields.UUID(
        required=True, metadata={"description": "made by the client; the retry key"}
    )
    before = fields.Nested(RatingsSchema, required=True)


# Built from the one list of measures: a sixth measure needs no edit here.
ChangeSchema = Schema.from_dict(
    {m: fields.Integer(allow_none=True) for m in MEASURES}, name="ChangeSchema"
)
RatingsOutSchema = Schema.from_dict(
    {
        **{m: fields.Integer(allow_none=m not in REQUIRED_MEASURES) for m in MEASURES},
        "recorded_at": OutDateTime(),
    },
    name="RatingsOutSchema",
)


class SessionSchema(Schema):
    id = fields.Integer()
    client_id = fields.String()
    started_at = OutDateTime()
    duration_min = fields.Integer(allow_none=True)
    therapist_id = fields.Integer(allow_none=True)
    areas = fields.List(fields.String())
    adjuncts = fields.List(fields.String())
    before = fields.Nested(RatingsOutSchema)
    after = fields.Nested(RatingsOutSchema, allow_none=True)
    notes = fields.String(allow_none=True)
    change = fields.Nested(ChangeSchema, allow_none=True)
    entered_by = fields.Integer(allow_none=True)
    created_at = OutDateTime()
    updated_at = OutDateTime()


class SessionPageSchema(Schema):
    items = fields.List(fields.Nested(SessionSchema))
    next_cursor = fields.String(allow_none=True)


class CursorField(fields.String):
    """A cursor this API gave out (pnapp.pagination), checked here so that a forged one
    naming an impossible time or id is a 422 rather than a failing query."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.Length(max=200), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        cursor = super()._deserialize(value, attr, data, **kwargs)
        try:
            started, ident = decode_cursor(cursor)
            started.astimezone(UTC)
        except (Invalid, OverflowError):
            ident = 0
        if not 1 <= ident <= MAX_ID:
            raise ma.ValidationError(N_("Not a cursor this API gave out."))
        return cursor


class SessionQuerySchema(Schema):
    # Query strings may carry other keys (cache busters): they are ignored there.
    class Meta:
        unknown = ma.EXCLUDE

    from_ = fields.Date(
        data_key="from", validate=validate.Range(date(1900, 1, 1), date(9000, 1, 1))
    )
    to = fields.Date(validate=validate.Range(date(1900, 1, 1), date(9000, 1, 1)))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    cursor = CursorField()

    @validates_schema
    def _order(self, data, **kwargs):
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ma.ValidationError(N_("Must not be before 'from'."), "to")
