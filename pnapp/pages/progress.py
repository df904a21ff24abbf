"""Progress: the trend over months, relief, weeks kept, charts and what seems to help; and
the global impression of change (PGIC) question the home page offers now and then."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from pnapp.forms import to_json_shape
from pnapp.insights import progress_page
from pnapp.models import PgicAnswer
from pnapp.pages import WEEK_CHOICES, form_page, patient_page, submit
from pnapp.pages.home import home_context
from pnapp.schemas import PgicInSchema
from pnapp.timeutil import utcnow

bp = Blueprint("progress", __name__)


@bp.get("/progress")
@patient_page
def progress():
    """The trend over months, relief, PGIC answers, charts, what seems to help, weeks kept."""
    weeks = request.args.get("weeks", 12, type=int)
    weeks = weeks if weeks in WEEK_CHOICES else 12
    return render_template(
        "progress.html", choices=WEEK_CHOICES, **progress_page(current_user, utcnow(), weeks)
    )


@bp.post("/pgic")
@patient_page
def pgic():
    """One tap answers the PGIC question (home page); "Not now" sets it aside for 28 days.
    Neither blocks anything: both lead home."""
    patient = current_user._get_current_object()
    if "skip" in request.form:
        PgicAnswer.skip(patient)
        return redirect(url_for("home.home"))
    done, errors = submit(
        PgicInSchema(),
        to_json_shape(request.form, ints=("value",)),
        lambda data: PgicAnswer.record(patient, data["value"]),
        gettext("Thank you. Your answer is on your progress page."),
        url_for("home.home"),
    )
    return done or form_page("home.html", errors, **home_context())
