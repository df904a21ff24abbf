"""The home page: this week against the goal, the one next step, and now and then the
global impression of change question (posted to /pgic, pnapp/pages/progress.py)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from pnapp.models import Encouragement, PgicAnswer
from pnapp.timeutil import utcnow

bp = Blueprint("home", __name__)


@bp.get("/")
def home():
    """This week against the goal, and the one next step."""
    if not current_user.is_authenticated:
        return render_template("welcome.html")
    if not current_user.is_patient:
        return redirect(url_for("care.care"))
    return render_template("home.html", errors={}, **home_context())


def home_context() -> dict:
    now = utcnow()
    return {
        "done": current_user.sessions_in_week(now),
        "goal": current_user.weekly_goal,
        "unfinished": current_user.latest_unfinished_session(now),
        "ask_pgic": PgicAnswer.due(current_user, now),
        "encouragements": Encouragement.for_home(current_user, now),
    }
