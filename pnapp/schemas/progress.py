"""Progress: weeks kept, streaks, and relief per measure."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from pnapp.schemas.common import Schema


class CountOfSchema(Schema):
    count = fields.Integer()
    eligible = fields.Integer()


class ReliefSchema(Schema):
    n_paired = fields.Integer()
    mean_before = fields.Float(allow_none=True)
    mean_after = fields.Float(allow_none=True)
    mean_change = fields.Float(allow_none=True)
    sd_change = fields.Float(allow_none=True)
    effect_size_dz = fields.Float(allow_none=True)
    meaningful_30 = fields.Nested(CountOfSchema)
    substantial_50 = fields.Nested(CountOfSchema)
    worsened = fields.Integer()


class ReliefByMeasureSchema(Schema):
    pain = fields.Nested(ReliefSchema)
    stress = fields.Nested(ReliefSchema)
    numbness = fields.Nested(ReliefSchema)
    tingling = fields.Nested(ReliefSchema)
    weakness = fields.Nested(ReliefSchema)


class WeekSchema(Schema):
    week = fields.String(metadata={"example": "2026-W47"})
    start = fields.String(metadata={"example": "2026-11-16", "format": "date"})
    sessions = fields.Integer()
    goal_met = fields.Boolean()


class ProgressSchema(Schema):
    weekly_goal = fields.Integer()
    weeks = fields.List(fields.Nested(WeekSchema))
    current_streak_weeks = fields.Integer()
    longest_streak_weeks = fields.Integer()
    relief = fields.Nested(ReliefByMeasureSchema)


class ProgressQuerySchema(Schema):
    class Meta:
        unknown = ma.EXCLUDE

    weeks = fields.Integer(load_default=12, validate=validate.Range(1, 104))
