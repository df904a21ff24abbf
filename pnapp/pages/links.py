"""Links for a therapist or a doctor: the patient's page to make, list and revoke them
(reached from a therapist's page and from Progress), and /s, the viewer anyone opens."""

from __future__ import annotations

import secrets

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from pnapp import labels
from pnapp.forms import load, to_json_shape
from pnapp.links import make_link
from pnapp.models import Link
from pnapp.pages import patient_page
from pnapp.qr import qr_svg
from pnapp.schemas import LinkInSchema

bp = Blueprint("links", __name__)

CONTENT_WORDS = {
    "summary": (
        _l("Visit summary"),
        _l("Where your symptoms are, and your last sessions' ratings before and after."),
    ),
    "report": (_l("Progress report (PDF)"), _l("The report of the last 12 weeks.")),
    "fhir": (
        _l("Full health record (FHIR)"),
        _l("Every session, for a clinic's computer system."),
    ),
}
DAY_CHOICES = (1, 7, 30, 90)


def suggested_passcode() -> str:
    """Six digits: easy to say aloud across a treatment table, and ten tries are too few
    to guess them."""
    return f"{secrets.randbelow(10**6):06d}"


def link_form(form) -> dict:
    data = to_json_shape(form, lists=("contents",), ints=("expires_in_days",))
    data["notes"] = data.get("notes") == "yes"
    return data


@bp.route("/links", methods=["GET", "POST"])
@patient_page
def index():
    """Make a link (shown once, as a QR code and an address), and the patient's links."""
    errors, made, form = {}, None, {}
    if request.method == "POST":
        form = link_form(request.form)
        data, errors = load(LinkInSchema(), form)
        if data:
            link, url = make_link(current_user, data)
            made = {
                "link": link,
                "url": url,
                "passcode": data.get("passcode"),
                "qr": qr_svg(url, gettext("QR code of the link")),
            }
            form = {}  # the next link starts afresh, with a new passcode
    elif "therapist" in request.args:
        therapist = current_user.own_therapist(request.args.get("therapist", 0, type=int))
        form["label"] = ", ".join(filter(None, (therapist.name, therapist.credential)))
    status = 201 if made else 422 if errors else 200
    return render_template(
        "links/index.html",
        made=made,
        errors=errors,
        form=form,
        links=Link.of_patient(current_user),
        contents=CONTENT_WORDS,
        days=DAY_CHOICES,
        passcode=suggested_passcode(),
    ), status


@bp.post("/links/<int:link_id>/revoke")
@patient_page
def revoke(link_id: int):
    """Revoke one of the patient's links; it stops working at once."""
    Link.revoke(current_user, link_id)
    flash(gettext("The link was revoked. It no longer opens."))
    return redirect(url_for("links.index"))


@bp.get("/s")
def viewer():
    """The viewer: the link is in the address's fragment, which browsers never send, so the
    key stays on the reader's phone; static/js/shl-viewer.js does the rest."""
    return render_template("links/viewer.html", words=viewer_words())


def viewer_words() -> dict:
    """What the viewer's script shows, in the reader's language: data in the page (the CSP
    allows no inline script). {n} is filled in by the script."""
    return {
        "measures": {m: str(w["name"]) for m, w in labels.MEASURES.items()},
        "areas": {a: str(w) for a, w in labels.AREAS.items()},
        "adjuncts": {a: str(w) for a, w in labels.ADJUNCTS.items()},
        "no_link": gettext(
            "This address holds no link. Scan the code again, or ask for a new link."
        ),
        "ended": gettext("This link has ended or was revoked. Ask for a new one."),
        **plural(
            "wrong",
            lambda n: ngettext(
                "That passcode is not right. %(count)s try is left.",
                "That passcode is not right. %(count)s tries are left.",
                n,
                count="{n}",
            ),
        ),
        "failed": gettext("The summary could not be opened. Check the connection and try again."),
        "opening": gettext("Opening…"),
        **plural(
            "sessions",
            lambda n: ngettext(
                "%(count)s session in all.", "%(count)s sessions in all.", n, count="{n}"
            ),
        ),
        "before": gettext("Before"),
        "after": gettext("After"),
        "rating": gettext("Ratings from 0 (none) to 10 (worst imaginable)"),
        "with": gettext("With %(name)s", name="{name}"),
        "used": gettext("Also used"),
        "note": gettext("Note"),
        "areas_title": gettext("Where the symptoms are"),
        "last_sessions": gettext("Last sessions"),
        "none": gettext("No sessions yet."),
        "report": gettext("Download the report (PDF)"),
        "record": gettext("Download the full record (FHIR)"),
        # Translators: {label} is who the patient made the link for, e.g. "Dana Lee, RMT".
        "for": gettext("For %(label)s", label="{label}"),
        "until": gettext("This link works until %(date)s.", date="{date}"),
    }


def plural(key: str, words) -> dict:
    """A plural message as the script picks it: key.one and key.other (Intl.PluralRules)."""
    return {f"{key}.one": words(1), f"{key}.other": words(2)}
