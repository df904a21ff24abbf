"""The patient's progress: weeks kept, streaks and relief per measure."""

from __future__ import annotations

from flask_login import current_user

from pnapp.api import requires, resource
from pnapp.schemas import ProgressQuerySchema, ProgressSchema
from pnapp.timeutil import utcnow

bp = resource("progress", "Progress")


@bp.get("/progress")
@requires("patient")
@bp.arguments(ProgressQuerySchema, location="query")
@bp.response(200, ProgressSchema)
def progress(args):
    """Weeks kept and relief over the last `weeks` weeks, in the patient's own zone."""
    return current_user.progress(utcnow(), args["weeks"])
