"""Recording a massage session (before and after ratings), changing or deleting one,
and the history.

Every page works as a plain HTML form; static/js adds offline entry on top.
"""

from __future__ import annotations

import uuid
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from pnapp.errors import Invalid
from pnapp.forms import missing_ratings, to_json_shape
from pnapp.models import ADJUNCTS, AREAS, HEAT_ADJUNCTS, MEASURES, MassageSession
from pnapp.pages import form_page, patient_page, submit
from pnapp.pagination import session_page
from pnapp.schemas import SessionInSchema, SessionPatchSchema
from pnapp.timeutil import local_date, utcnow, zone

bp = Blueprint("sessions", __name__)

# A year of weekly sessions is one page: about three phone screens of one-line rows.
HISTORY_PAGE = 60

SESSION_FORM = {
    "lists": ("areas", "adjuncts"),
    "ints": MEASURES + ("duration_min", "therapist_id"),
    "local_times": ("started_at",),
    "groups": ("before", "after"),
}


@bp.route("/sessions/new", methods=["GET", "POST"])
@patient_page
def new_session():
    """Before ratings: start a session."""
    errors, form = {}, {"client_id": str(uuid.uuid4())}
    if request.method == "POST":
        form = to_json_shape(request.form, **SESSION_FORM, tz=current_user.timezone)
        done, errors = submit(
            SessionInSchema(),
            form,
            lambda data: MassageSession.record(current_user, data, current_user)[0],
            gettext("Saved. Enjoy your massage."),
            lambda session: url_for("sessions.session_detail", session_id=session.id),
        )
        if done:
            return done
        errors = missing_ratings(errors)
    return form_page("sessions/new.html", errors, form=form, **choices())


@bp.route("/sessions/<int:session_id>", methods=["GET", "POST"])
@patient_page
def session_detail(session_id: int):
    """One session; the after ratings are added here."""
    session = current_user.own_session(session_id)
    errors, form = {}, {}
    if request.method == "POST":
        form = to_json_shape(request.form, **SESSION_FORM, tz=current_user.timezone)
        done, errors = submit(
            SessionPatchSchema(only=("after",)),
            {"after": form.get("after", {})},
            lambda data: session.update(current_user, data),
            gettext("Saved. Thank you."),
            url_for("sessions.session_detail", session_id=session.id),
        )
        if done:
            return done
        errors = missing_ratings(errors)
    return form_page("sessions/detail.html", errors, session=session, form=form, heat=HEAT_ADJUNCTS)


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@patient_page
def edit_session(session_id: int):
    """Change any part of a session."""
    session = current_user.own_session(session_id)
    errors, form = {}, None
    if request.method == "POST":
        form = to_json_shape(request.form, **SESSION_FORM, tz=current_user.timezone)
        if "after" not in form:
            form["after"] = None
        form.setdefault("notes", None)
        form.setdefault("duration_min", None)
        form.setdefault("therapist_id", None)
        done, errors = submit(
            SessionPatchSchema(),
            form,
            lambda data: session.update(current_user, data),
            gettext("Changes saved."),
            url_for("sessions.session_detail", session_id=session.id),
        )
        if done:
            return done
        errors = missing_ratings(errors)
    return form_page("sessions/edit.html", errors, session=session, form=form, **choices())


@bp.route("/sessions/<int:session_id>/delete", methods=["GET", "POST"])
@patient_page
def delete_session(session_id: int):
    """Ask, then delete."""
    session = current_user.own_session(session_id)
    if request.method == "POST":
        session.delete()
        flash(gettext("The session was deleted."))
        return redirect(url_for("sessions.history"))
    return render_template("sessions/delete.html", session=session)


@bp.get("/history")
@patient_page
def history():
    """Sessions, newest first, one line each (pain and stress, before to after), grouped by
    month; each opens with everything about it."""
    cursor = request.args.get("cursor") or None
    try:
        items, next_cursor = session_page(current_user, limit=HISTORY_PAGE, cursor=cursor)
    except Invalid:
        return redirect(url_for("sessions.history"))
    return render_template(
        "history.html",
        months=by_month(items, current_user.timezone),
        next_cursor=next_cursor,
        first_page=cursor is None,
    )


def by_month(sessions: list[MassageSession], tz: str) -> list[tuple[date, list[MassageSession]]]:
    """Sessions (newest first) in runs of the same local month, each named by its first day."""
    months: list[tuple[date, list[MassageSession]]] = []
    for s in sessions:
        month = local_date(s.started_at, tz).replace(day=1)
        if not months or months[-1][0] != month:
            months.append((month, []))
        months[-1][1].append(s)
    return months


def choices() -> dict:
    return {
        "areas": AREAS,
        "adjuncts": ADJUNCTS,
        "heat": HEAT_ADJUNCTS,
        "therapists": current_user.therapists,
        "now_local": utcnow().astimezone(zone(current_user.timezone)),
    }
