"""Progress: weeks kept, relief, charts and what seems to help."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from pnapp.insights import progress_page
from pnapp.pages import WEEK_CHOICES, patient_page
from pnapp.timeutil import utcnow

bp = Blueprint("progress", __name__)


@bp.get("/progress")
@patient_page
def progress():
    """Weeks kept, relief, charts and what seems to help."""
    weeks = request.args.get("weeks", 12, type=int)
    weeks = weeks if weeks in WEEK_CHOICES else 12
    return render_template(
        "progress.html", choices=WEEK_CHOICES, **progress_page(current_user, utcnow(), weeks)
    )
