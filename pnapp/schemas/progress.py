"""Progress: weeks kept, streaks, relief per measure, the weekly trend and the global
impression of change (PGIC)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from pnapp.schemas.common import OutDateTime, Schema, StrictInt


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


class TrendWeekSchema(Schema):
    week = fields.String(metadata={"example": "2026-W47"})
    start = fields.String(metadata={"example": "2026-11-16", "format": "date"})
    sessions = fields.Integer()
    pain_before_mean = fields.Float(allow_none=True)
    stress_before_mean = fields.Float(allow_none=True)
    pain_change_mean = fields.Float(
        allow_none=True, metadata={"description": "Over the week's sessions rated both times"}
    )
    pain_change_sessions = fields.Integer(
        metadata={"description": "How many sessions pain_change_mean averages"}
    )


class PgicSchema(Schema):
    answered_at = OutDateTime()
    value = fields.Integer(metadata={"description": "1 very much improved ... 7 very much worse"})
    label = fields.String(metadata={"description": "The answer's words, in the reader's language"})


class PgicInSchema(Schema):
    value = StrictInt(
        required=True,
        validate=validate.Range(1, 7),
        metadata={"description": "1 very much improved, 4 no change, 7 very much worse"},
    )


class ProgressSchema(Schema):
    weekly_goal = fields.Integer()
    weeks = fields.List(fields.Nested(WeekSchema))
    current_streak_weeks = fields.Integer()
    longest_streak_weeks = fields.Integer()
    relief = fields.Nested(ReliefByMeasureSchema)
    trend = fields.List(
        fields.Nested(TrendWeekSchema),
        metadata={"description": "One item per local ISO week of the window, oldest first"},
    )
    pgic = fields.List(
        fields.Nested(PgicSchema),
        metadata={"description": "The global impression of change answers in the window"},
    )


class ProgressQuerySchema(Schema):
    class Meta:
        unknown = ma.EXCLUDE

    weeks = fields.Integer(load_default=12, validate=validate.Range(1, 104))
