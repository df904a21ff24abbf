"""Sharing with caregivers: the patient's /share, the invitation link, and the caregiver's
/care pages."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from pnapp.assets import public_url
from pnapp.errors import DomainError, TooMany, http_status
from pnapp.extensions import ACCEPT_LIMIT, db, limiter
from pnapp.forms import to_json_shape
from pnapp.insights import progress_page
from pnapp.models import (
    DEFAULT_SCOPES,
    MEASURES,
    PRESETS,
    SCOPES,
    CareShare,
    Encouragement,
    EndedShare,
    Invite,
    MassageSession,
    access,
)
from pnapp.pages import WEEK_CHOICES, form_page, submit
from pnapp.pagination import session_page
from pnapp.qr import qr_svg
from pnapp.schemas import SessionInSchema
from pnapp.timeutil import utcnow

bp = Blueprint("care", __name__)

# The patient's words, on their Sharing page.
SCOPE_WORDS = {
    "progress": _l("Weeks kept and relief"),
    "sessions": _l("Each session's ratings"),
    "notes": _l("My notes"),
    "alerts": _l("Tell them when I miss a week"),
    "heads_up": _l("Nudge them near the end of a week with no massage yet"),
    "digest": _l("A short summary e-mail each week"),
    "record": _l("Let them record sessions for me"),
}
# The same scopes in words for the caregiver, on the invitation they open.
CARE_WORDS = {
    "progress": _l("how many weeks they kept, and how they felt after their massages"),
    "sessions": _l("each session's ratings"),
    "notes": _l("the notes they write"),
    "alerts": _l("an alert when they miss a week"),
    "heads_up": _l("a nudge near the end of a week with no massage yet, so you can help"),
    "digest": _l("a short summary e-mail each week"),
    "record": _l("you may record a session for them, with the ratings they tell you"),
}

# One line of the access log on the Sharing page.
ACCESS_WORDS = {
    "progress": _l("%(name)s looked at your progress"),
    "sessions": _l("%(name)s looked at your sessions"),
    "export": _l("%(name)s downloaded your sessions file"),
    "report": _l("%(name)s downloaded your report"),
    "link": _l("%(name)s opened your link"),
}


def chosen_scopes() -> list[str]:
    return [s for s in SCOPES if s in request.form.getlist("scopes")]


@bp.route("/share", methods=["GET", "POST"])
@login_required
def share():
    """The patient invites caregivers and manages who sees what."""
    if not current_user.is_patient:
        return redirect(url_for("care.care"))
    invite_url = qr = None
    if request.method == "POST":
        days = request.form.get("days", "7")
        invite, token = Invite.create(
            current_user, chosen_scopes(), int(days) if days in ("1", "7", "30") else 7
        )
        invite_url = public_url("care.invite", token=token)
        qr = qr_svg(invite_url, gettext("QR code of the invitation link"))
    return render_template(
        "care/share.html",
        shares=CareShare.visible_to(current_user),
        invites=Invite.pending(current_user),
        invite_url=invite_url,
        qr=qr,
        scope_words=SCOPE_WORDS,
        defaults=DEFAULT_SCOPES,
        looked=access.last_looked(current_user.id),
        links=access.links_last_opened(current_user.id),
        log=access.recent(current_user.id, 20),
        access_words=ACCESS_WORDS,
    ), 201 if invite_url else 200


@bp.post("/share/encouragements")
@login_required
def encouragements():
    """The patient turns caregivers' encouragements on or off."""
    if not current_user.is_patient:
        abort(403)
    current_user.encouragements = request.form.get("encouragements") == "on"
    db.session.commit()
    flash(
        gettext("Encouragements are on.")
        if current_user.encouragements
        else gettext("Encouragements are off.")
    )
    return redirect(url_for("care.share", _anchor="encouragements"))


@bp.post("/share/<int:share_id>")
@login_required
def change_share(share_id: int):
    """Change a caregiver's scopes, or end the share."""
    found = CareShare.of(current_user, share_id)
    if request.form.get("action") == "end":
        name = other_side(found).display_name
        found.end(by=current_user)
        flash(gettext("Sharing with %(name)s has ended.", name=name))
    elif found.patient_id == current_user.id:
        found.set_scopes(chosen_scopes())
        flash(gettext("Saved what %(name)s can see.", name=found.caregiver.display_name))
    else:
        abort(403)
    return redirect(url_for("care.share" if current_user.is_patient else "care.care"))


@bp.get("/share/<int:share_id>/end")
@login_required
def end_share(share_id: int):
    """Ask before ending a share, and say what happens."""
    found = CareShare.of(current_user, share_id)
    return render_template("care/end.html", share=found, other=other_side(found))


def other_side(share: CareShare):
    return share.caregiver if share.patient_id == current_user.id else share.patient


@bp.post("/share/invites/<int:invite_id>/cancel")
@login_required
def cancel_invite(invite_id: int):
    """Cancel one of the patient's invitations; its link stops working at once."""
    Invite.cancel(current_user, invite_id)
    flash(gettext("The invitation was cancelled. Its link no longer works."))
    return redirect(url_for("care.share"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
@limiter.limit(ACCEPT_LIMIT, methods=["POST"])
def invite(token: str):
    """The link a caregiver opens: sign up or log in, then accept."""
    found = Invite.by_token(token)
    if found is None:
        return render_template("care/invite.html", problem="unknown"), 404
    if not found.usable(utcnow()):
        return render_template("care/invite.html", problem="gone"), 410
    if request.method == "POST" and current_user.is_authenticated:
        try:
            made = Invite.accept(token, current_user)
        except DomainError as err:
            return render_template(
                "care/invite.html", invite=found, problem=err.message, scope_words=CARE_WORDS
            ), http_status(err)
        flash(gettext("You can now follow %(name)s's progress.", name=made.patient.display_name))
        return redirect(url_for("care.care_patient", patient_id=made.patient_id))
    return render_template("care/invite.html", invite=found, token=token, scope_words=CARE_WORDS)


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
    return render_template("care/list.html", rows=rows, ended=EndedShare.of_caregiver(current_user))


@bp.get("/care/<int:patient_id>")
@login_required
def care_patient(patient_id: int):
    """One patient, read-only, as far as the share allows."""
    weeks = request.args.get("weeks", 12, type=int)
    weeks = weeks if weeks in WEEK_CHOICES else 12
    ended = EndedShare.find(current_user, patient_id) if current_user.is_caregiver else None
    if ended is not None:
        # Only a share that existed gets a name and a date; anything else stays a bare 404.
        return render_template("care/ended.html", ended=ended), 404
    view = caregiver_view(patient_id, weeks)
    found = view["share"]
    if found.has("progress") or found.has("sessions"):
        what = "sessions" if found.has("sessions") else "progress"
        access.record_access(patient_id, what, viewer=current_user)
    return render_template(
        "care/patient.html",
        choices=WEEK_CHOICES,
        presets=PRESETS,
        sent_today=Encouragement.sent_today(current_user, found.patient),
        **view,
    )


@bp.route("/care/<int:patient_id>/record", methods=["GET", "POST"])
@login_required
def record_for(patient_id: int):
    """A caregiver with `record` taps in the ratings the patient says aloud, before and
    after together, on the same big buttons; the session is entered by the caregiver."""
    found = CareShare.grant(current_user, patient_id, "record")
    patient = found.patient
    errors, form = {}, {"client_id": str(uuid.uuid4())}
    if request.method == "POST":
        form = to_json_shape(
            request.form, ints=MEASURES, groups=("before", "after"), tz=patient.timezone
        )
        done, errors = submit(
            SessionInSchema(only=("client_id", "before", "after")),
            form,
            lambda data: MassageSession.record(patient, data, current_user)[0],
            gettext("Saved for %(name)s.", name=patient.display_name),
            url_for("care.care_patient", patient_id=patient_id),
        )
        if done:
            return done
    return form_page("care/record.html", errors, patient=patient, form=form)


@bp.post("/care/<int:patient_id>/encourage")
@login_required
def encourage(patient_id: int):
    """Send one of the preset encouragements; one a day."""
    found = CareShare.grant(current_user, patient_id, None)
    message = request.form.get("message")
    if message not in PRESETS:
        flash(gettext("Please choose one of the messages."))
        return redirect(url_for("care.care_patient", patient_id=patient_id, _anchor="cheer"))
    try:
        Encouragement.send(current_user, found.patient, message)
    except TooMany as err:
        flash(gettext(err.message))
    else:
        flash(gettext("Sent. %(name)s will see it.", name=found.patient.display_name))
    return redirect(url_for("care.care_patient", patient_id=patient_id, _anchor="cheer"))


def caregiver_view(patient_id: int, weeks: int) -> dict:
    """What a caregiver's share lets them see of one patient; 404 without a share. Anything
    about single sessions needs `sessions`; `progress` alone gives aggregates only."""
    found = CareShare.grant(current_user, patient_id, None)
    view = {"share": found, "patient": found.patient, "weeks": weeks}
    if found.has("progress"):
        view.update(
            progress_page(
                found.patient,
                utcnow(),
                weeks,
                name=found.patient.display_name,
                each_session=found.has("sessions"),
            )
        )
    if found.has("sessions"):
        view["recent"], _ = session_page(found.patient, limit=10)
    return view
