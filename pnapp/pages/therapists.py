"""The patient's therapist notebook and the visit summary."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from pnapp.errors import ApiError
from pnapp.extensions import db
from pnapp.forms import to_json_shape
from pnapp.insights import what_helps
from pnapp.models import MassageSession, Therapist
from pnapp.pages import form_page, patient_page, submit
from pnapp.schemas import TherapistInSchema
from pnapp.timeutil import utcnow

bp = Blueprint("therapists", __name__)

# The phone-screening checklist, in our words, from the advice to call a therapist first.
QUESTIONS = {
    "knows_pn": (
        _l("Did they know what peripheral neuropathy is?"),
        _l(
            "Many massage places do not. Someone who knows it will adjust pressure and "
            "avoid areas you cannot feel well."
        ),
    ),
    "approach": (
        _l("How would they treat it? (their answer, in your words)"),
        _l(
            "A good answer talks about gentle work on the areas with symptoms and about "
            "checking in with you as they go."
        ),
    ),
    "asked_symptom_areas": (
        _l("Did they ask where your symptoms are?"),
        _l(
            "A good therapist asks whether it is your feet and lower legs, "
            "your hands and lower arms, or most of your body."
        ),
    ),
}


def therapist_form(form) -> dict:
    data = to_json_shape(form, groups=("screening",))
    data["certified"] = yes_no(data.get("certified"))
    screening = data.get("screening", {})
    data["screening"] = {
        "knows_pn": screening.get("knows_pn") or None,
        "asked_symptom_areas": yes_no(screening.get("asked_symptom_areas")),
        "approach": screening.get("approach") or None,
    }
    for key in ("phone", "credential", "notes"):
        data.setdefault(key, None)
    return data


def yes_no(answer) -> bool | None:
    """A yes/no radio's value as a boolean, None when unanswered."""
    if isinstance(answer, dict):
        raise ApiError(400)  # "certified.x": fields under a radio's name, from no form of ours
    return {"yes": True, "no": False}.get(answer)


@bp.route("/therapists", methods=["GET", "POST"])
@patient_page
def index():
    """The notebook: each therapist with sessions so far and the average pain change."""
    errors, form = {}, {}
    if request.method == "POST":
        form = therapist_form(request.form)
        back = request.args.get("back")
        done, errors = submit(
            TherapistInSchema(),
            form,
            lambda data: Therapist.create(current_user, data),
            gettext("%(name)s was added.", name=str(form.get("name", "")).strip()),
            # Back to the session being recorded, with the new therapist chosen there.
            (lambda t: url_for("sessions.new_session", therapist=t.id))
            if back == "new-session"
            else url_for("therapists.index"),
        )
        if done:
            return done
    return form_page(
        "therapists/index.html",
        errors,
        therapists=Therapist.with_stats(current_user),
        questions=QUESTIONS,
        form=form,
    )


@bp.route("/therapists/<int:therapist_id>", methods=["GET", "POST"])
@patient_page
def edit(therapist_id: int):
    """Change a therapist's details and screening answers, or remove them."""
    therapist = current_user.own_therapist(therapist_id)
    if request.form.get("action") == "delete":  # the Remove button (a POST: GETs have no form)
        therapist.delete()
        flash(gettext("The therapist was removed. Their sessions stay."))
        return redirect(url_for("therapists.index"))
    errors, form = {}, None
    if request.method == "POST":
        form = therapist_form(request.form)
        done, errors = submit(
            TherapistInSchema(),
            form,
            therapist.update,
            gettext("Saved."),
            url_for("therapists.index"),
        )
        if done:
            return done
    return form_page(
        "therapists/edit.html",
        errors,
        therapist=therapist.with_own_stats(),
        questions=QUESTIONS,
        form=form,
    )


@bp.get("/therapists/<int:therapist_id>/summary")
@patient_page
def summary(therapist_id: int):
    """A one-page summary to show or print for the therapist."""
    therapist = current_user.own_therapist(therapist_id)
    recent = list(
        db.session.scalars(
            select(MassageSession)
            .where(MassageSession.patient_id == current_user.id)
            .order_by(MassageSession.started_at.desc(), MassageSession.id.desc())
            .limit(6)
        )
    )
    areas = sorted({a for s in recent for a in s.areas})
    all_recent = list(
        db.session.scalars(
            select(MassageSession)
            .where(MassageSession.patient_id == current_user.id)
            .order_by(MassageSession.started_at.desc())
            .limit(200)
        )
    )
    return render_template(
        "therapists/summary.html",
        therapist=therapist,
        recent=recent,
        areas=areas,
        helps=what_helps(current_user, all_recent),
        with_notes=request.args.get("notes") == "1",
        now=utcnow(),
    )
