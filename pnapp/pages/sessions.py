"""Recording a massage session (before and after ratings), changing or deleting one,
and the history.

Every page works as a plain HTML form; static/js adds offline entry on top.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from pnapp.errors import Invalid
from pnapp.exports.records import recorders
from pnapp.forms import missing_ratings, to_json_shape
from pnapp.models import ADJUNCTS, AREAS, HEAT_ADJUNCTS, MEASURES, MassageSession
from pnapp.pages import form_page, patient_page, submit
from pnapp.pagination import session_page
from pnapp.schemas import SessionInSchema, SessionPatchSchema
from pnapp.timeutil import LOG_BACK_DAYS, local_date, logged_start, utcnow, zone

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
    errors, form = {}, {"client_id": str(uuid.uuid4()), "when": "now"}
    chosen = request.args.get("therapist", "")
    if chosen.isdigit() and any(t.id == int(chosen) for t in current_user.therapists):
        form["therapist_id"] = int(chosen)  # just added from this form's "Add a therapist"
    if request.method == "POST":
        fields, when = logged_when(request.form)
        form = to_json_shape(fields, **SESSION_FORM, tz=current_user.timezone)
        try:
            started = logged_start(*when, current_user.timezone, utcnow())
        except ValueError:
            errors = {
                "when": [
                    gettext(
                        "Choose a day within the last %(days)s days and a time that has passed.",
                        days=LOG_BACK_DAYS,
                    )
                ]
            }
        else:
            if started is not None:
                form["started_at"] = started.isoformat()
            else:
                form.pop("after", None)  # rated now: the after ratings come later
            done, errors = submit(
                SessionInSchema(),
                form,
                lambda data: MassageSession.record(current_user, data, current_user)[0],
                gettext("Saved. Enjoy your massage.")
                if started is None
                else gettext("Saved. Thank you."),
                lambda session: url_for("sessions.session_detail", session_id=session.id),
            )
            if done:
                return done
            # The after ratings of a past session are shown under their own names.
            errors = {
                k.replace("after.", "past_after.", 1): v for k, v in missing_ratings(errors).items()
            }
        form.update(when=when[0], when_date=when[1], when_time=when[2])
        if "after" in form:
            form["past_after"] = form.pop("after")
    return form_page("sessions/new.html", errors, form=form, **choices())


def logged_when(posted) -> tuple[MultiDict, tuple[str, str, str]]:
    """The before form's fields without its "When?" choice, and that choice (when, date,
    time). A past session's after ratings are posted as past_after.* (the page also holds
    the offline after form) and are read as after.*."""
    fields = MultiDict()
    for key, value in posted.items(multi=True):
        if key.startswith("past_after."):
            fields.add("after." + key.removeprefix("past_after."), value)
        elif key not in ("when", "when_date", "when_time"):
            fields.add(key, value)
    when = (
        posted.get("when", "now"),
        posted.get("when_date", "").strip(),
        posted.get("when_time", "").strip(),
    )
    return fields, when


@bp.get("/sessions/after")
@patient_page
def rate_now():
    """ "How do I feel now?": the after form of the newest session waiting for one, else the
    before form of a new session (the app's shortcut opens this)."""
    waiting = current_user.latest_unfinished_session(utcnow())
    if waiting is None:
        return redirect(url_for("sessions.new_session"))
    return redirect(url_for("sessions.session_detail", session_id=waiting.id, _anchor="after"))


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
    return form_page(
        "sessions/detail.html",
        errors,
        session=session,
        form=form,
        heat=HEAT_ADJUNCTS,
        entered=entered_names([session]),
    )


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
        entered=entered_names(items),
        months=by_month(items, current_user.timezone),
        next_cursor=next_cursor,
        first_page=cursor is None,
    )


def entered_names(sessions: list[MassageSession]) -> dict[int, str]:
    """Who entered which of these sessions, when not the patient: a caregiver's name."""
    return {uid: u.display_name for uid, u in recorders(current_user, sessions).items()}


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
        "log_back_days": LOG_BACK_DAYS,
        "log_from": local_date(utcnow(), current_user.timezone) - timedelta(days=LOG_BACK_DAYS),
    }
