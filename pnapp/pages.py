"""The patient's pages: home, recording a session, history and settings.

Every page works as a plain HTML form; static/js adds offline entry on top.
"""

from __future__ import annotations

import uuid
from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask import session as browser_session  # "session" here means a massage session
from flask_babel import gettext
from flask_login import current_user, login_required, logout_user

from pnapp import i18n, labels
from pnapp.api.auth import change_own_password, check_own_password
from pnapp.assets import static_url
from pnapp.care import caregiver_view
from pnapp.errors import ApiError
from pnapp.forms import load, to_json_shape
from pnapp.insights import progress_page
from pnapp.models import (
    ADJUNCTS,
    AREAS,
    HEAT_ADJUNCTS,
    MEASURES,
    CareShare,
    Login,
    MassageSession,
)
from pnapp.pagination import session_page
from pnapp.schemas import (
    MePatchSchema,
    PasswordChangeSchema,
    SessionInSchema,
    SessionPatchSchema,
)
from pnapp.timeutil import COMMON_ZONES, utcnow, zone

bp = Blueprint("pages", __name__)

WEEK_CHOICES = (12, 26, 52)

SESSION_FORM = {
    "lists": ("areas", "adjuncts"),
    "ints": MEASURES + ("duration_min", "therapist_id"),
    "local_times": ("started_at",),
    "groups": ("before", "after"),
}


def patient_page(view):
    @login_required
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_patient:
            return redirect(url_for("pages.care"))
        return view(*args, **kwargs)

    return wrapper


def own_session_or_404(session_id: int) -> MassageSession:
    try:
        return current_user.own_session(session_id)
    except ApiError:
        abort(404)


@bp.get("/")
def home():
    """This week against the goal, and the one next step."""
    if not current_user.is_authenticated:
        return render_template("welcome.html")
    if not current_user.is_patient:
        return redirect(url_for("pages.care"))
    now = utcnow()
    return render_template(
        "home.html",
        done=current_user.sessions_in_week(now),
        goal=current_user.weekly_goal,
        unfinished=current_user.latest_unfinished_session(now),
    )


@bp.route("/sessions/new", methods=["GET", "POST"])
@patient_page
def new_session():
    """Before ratings: start a session."""
    errors, form = {}, {"client_id": str(uuid.uuid4())}
    if request.method == "POST":
        form = to_json_shape(request.form, **SESSION_FORM, tz=current_user.timezone)
        data, errors = load(SessionInSchema(), form)
        if data:
            try:
                session, _ = MassageSession.record(current_user, data, current_user)
            except ApiError as err:
                errors = err.fields or {"_form": [err.message]}
            else:
                flash(gettext("Saved. Enjoy your massage."))
                return redirect(url_for("pages.session_detail", session_id=session.id))
    return render_template(
        "sessions/new.html", form=form, errors=errors, **choices()
    ), 422 if errors else 200


@bp.route("/sessions/<int:session_id>", methods=["GET", "POST"])
@patient_page
def session_detail(session_id: int):
    """One session; the after ratings are added here."""
    session = own_session_or_404(session_id)
    errors, form = {}, {}
    if request.method == "POST":
        form = to_json_shape(request.form, **SESSION_FORM, tz=current_user.timezone)
        data, errors = load(SessionPatchSchema(only=("after",)), {"after": form.get("after", {})})
        if data:
            session.update(current_user, data)
            flash(gettext("Saved. Thank you."))
            return redirect(url_for("pages.session_detail", session_id=session.id))
    return render_template(
        "sessions/detail.html", session=session, form=form, errors=errors, heat=HEAT_ADJUNCTS
    ), 422 if errors else 200


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@patient_page
def edit_session(session_id: int):
    """Change any part of a session."""
    session = own_session_or_404(session_id)
    errors, form = {}, None
    if request.method == "POST":
        form = to_json_shape(request.form, **SESSION_FORM, tz=current_user.timezone)
        if "after" not in form:
            form["after"] = None
        form.setdefault("notes", None)
        form.setdefault("duration_min", None)
        form.setdefault("therapist_id", None)
        data, errors = load(SessionPatchSchema(), form)
        if data:
            try:
                session.update(current_user, data)
            except ApiError as err:
                errors = err.fields or {"_form": [err.message]}
            else:
                flash(gettext("Changes saved."))
                return redirect(url_for("pages.session_detail", session_id=session.id))
    return render_template(
        "sessions/edit.html", session=session, form=form, errors=errors, **choices()
    ), 422 if errors else 200


@bp.route("/sessions/<int:session_id>/delete", methods=["GET", "POST"])
@patient_page
def delete_session(session_id: int):
    """Ask, then delete."""
    session = own_session_or_404(session_id)
    if request.method == "POST":
        session.delete()
        flash(gettext("The session was deleted."))
        return redirect(url_for("pages.history"))
    return render_template("sessions/delete.html", session=session)


@bp.get("/history")
@patient_page
def history():
    """Sessions, newest first, with the change in each measure."""
    cursor = request.args.get("cursor") or None
    try:
        items, next_cursor = session_page(current_user, limit=30, cursor=cursor)
    except ApiError:
        return redirect(url_for("pages.history"))
    return render_template(
        "history.html", items=items, next_cursor=next_cursor, first_page=cursor is None
    )


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    """Name, time zone, weekly goal and reminders."""
    errors = {}
    if request.method == "POST":
        form = to_json_shape(
            request.form,
            ints=("weekly_goal", "weekday"),
            blanks=("display_name",),
            groups=("reminder",),
        )
        if "reminder" in form:
            form["reminder"]["enabled"] = form["reminder"].get("enabled") == "on"
        if request.form.get("language") == "":
            form["language"] = None  # follow the browser
        data, errors = load(MePatchSchema(), form)
        if data:
            current_user.update(data)
            flash(gettext("Settings saved."))
            return redirect(url_for("pages.settings"))
    return render_template(
        "settings.html",
        errors=errors,
        common_zones=COMMON_ZONES,
        languages=i18n.NAMES,
        logins=Login.of(current_user),
    ), 422 if errors else 200


@bp.route("/settings/password", methods=["GET", "POST"])
@login_required
def change_password():
    """A new password; every other device is logged out."""
    errors, status = {}, 422
    if request.method == "POST":
        data, errors = load(PasswordChangeSchema(), to_json_shape(request.form))
        if data:
            try:
                change_own_password(data["current_password"], data["new_password"])
            except ApiError as err:
                errors, status = {"current_password": [err.message]}, err.status
            else:
                flash(gettext("Your password was changed. Other devices were logged out."))
                return redirect(url_for("pages.settings"))
    return render_template("settings_password.html", errors=errors), status_of(errors, status)


@bp.route("/settings/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    """Ask for the password again, then delete the account and everything in it."""
    errors, status = {}, 422
    if request.method == "POST":
        try:
            check_own_password(request.form.get("password", ""))
        except ApiError as err:
            errors, status = {"password": [err.message]}, err.status
        else:
            user = current_user._get_current_object()
            logout_user()
            browser_session.clear()
            user.delete_account()
            # Flashed after clear(), so it survives to the next page.
            flash(gettext("Your account and all its data were deleted."))
            return redirect(url_for("pages.home"))
    return render_template("settings_delete.html", errors=errors), status_of(errors, status)


@bp.get("/progress")
@patient_page
def progress():
    """Weeks kept, relief, charts and what seems to help."""
    weeks = request.args.get("weeks", 12, type=int)
    weeks = weeks if weeks in WEEK_CHOICES else 12
    return render_template(
        "progress.html", choices=WEEK_CHOICES, **progress_page(current_user, utcnow(), weeks)
    )


@bp.get("/care")
@login_required
def care():
    """A caregiver's patients, with this week's status where progress is shared."""
    if current_user.is_patient:
        return redirect(url_for("care.share"))
    now = utcnow()
    rows = [
        {"share": s, "done": s.patient.sessions_in_week(now) if s.has("progress") else None}
        for s in CareShare.visible_to(current_user)
    ]
    return render_template("care/list.html", rows=rows)


@bp.get("/care/<int:patient_id>")
@login_required
def care_patient(patient_id: int):
    """One patient, read-only, as far as the share allows."""
    weeks = request.args.get("weeks", 12, type=int)
    weeks = weeks if weeks in WEEK_CHOICES else 12
    return render_template(
        "care/patient.html", choices=WEEK_CHOICES, **caregiver_view(patient_id, weeks)
    )


@bp.record_once
def _template_globals(state) -> None:
    # Globals (unlike context) reach imported macros too.
    state.app.jinja_env.globals.update(labels=labels, static_url=static_url)
    state.app.jinja_env.filters["decimal"] = labels.decimal
    state.app.jinja_env.filters["date_words"] = labels.date_words


@bp.app_context_processor
def template_helpers() -> dict:
    tz = current_user.timezone if current_user.is_authenticated else "UTC"
    return {"local": lambda value, fmt="datetime": labels.local_time(value, tz, fmt)}


def status_of(errors: dict, status: int) -> int:
    """200 for a clean form; else the error's status (422, or 429 while passwords pause)."""
    if not errors:
        return 200
    return 429 if status == 429 else 422


def choices() -> dict:
    return {
        "areas": AREAS,
        "adjuncts": ADJUNCTS,
        "heat": HEAT_ADJUNCTS,
        "therapists": current_user.therapists,
        "now_local": utcnow().astimezone(zone(current_user.timezone)),
    }
