"""The home page: this week against the goal, and the one next step."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from pnapp.timeutil import utcnow

bp = Blueprint("home", __name__)


@bp.get("/")
def home():
    """This week against the goal, and the one next step."""
    if not current_user.is_authenticated:
        return render_template("welcome.html")
    if not current_user.is_patient:
        return redirect(url_for("care.care"))
    now = utcnow()
    return render_template(
        "home.html",
        done=current_user.sessions_in_week(now),
        goal=current_user.weekly_goal,
        unfinished=current_user.latest_unfinished_session(now),
    )
