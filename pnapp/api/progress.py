"""The patient's progress: weeks kept, streaks, relief per measure, the weekly trend, and
the global impression of change (PGIC) they give now and then."""

from __future__ import annotations

from flask_login import current_user

from pnapp.api import ERROR, requires, resource
from pnapp.models import PgicAnswer
from pnapp.schemas import PgicInSchema, PgicSchema, ProgressQuerySchema, ProgressSchema
from pnapp.timeutil import utcnow

bp = resource("progress", "Progress")


@bp.get("/progress")
@requires("patient")
@bp.arguments(ProgressQuerySchema, location="query")
@bp.response(200, ProgressSchema)
def progress(args):
    """Weeks kept, relief, the weekly trend and PGIC answers over the last `weeks` weeks,
    in the patient's own zone."""
    return current_user.progress(utcnow(), args["weeks"])


@bp.post("/pgic")
@requires("patient")
@bp.arguments(PgicInSchema)
@bp.response(201, PgicSchema)
@bp.alt_response(409, schema=ERROR, description="Already answered today")
@bp.alt_response(422, schema=ERROR)
def pgic(data):
    """Record the patient's global impression of change (1-7), at most once a day."""
    return PgicAnswer.record(current_user._get_current_object(), data["value"])
