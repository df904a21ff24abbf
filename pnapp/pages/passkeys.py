"""Passkeys in pages: the offer right after sign-up, and renaming or removing one from
Settings (making one, and signing in with one, is static/js/passkeys.js on the API)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from pnapp.auth import check_own_password, safe_next
from pnapp.errors import Conflict, Forbidden, TooMany, http_status
from pnapp.extensions import LOGIN_LIMIT, db, limiter, passkey_mail_limit
from pnapp.models import Passkey, recovery
from pnapp.pages import form_page, submit
from pnapp.pages.auth import button_link
from pnapp.passkeys import LAST_ONE
from pnapp.schemas import PasskeyRenameSchema

bp = Blueprint("passkeys", __name__)


def settings_url() -> str:
    return url_for("settings.settings", _anchor="passkeys")


@bp.get("/passkeys/new")
@login_required
def offer():
    """ "Use a passkey next time": offered once, right after sign-up. Where the device has
    no passkey of its own to offer, the script goes straight on to `next`."""
    then = safe_next(request.args.get("next")) or url_for("home.home")
    return render_template("passkeys/offer.html", then=then)


@bp.get("/settings/passkeys/<int:passkey_id>")
@login_required
def edit(passkey_id: int):
    """One passkey: rename it, or remove it."""
    passkey = Passkey.own(current_user, passkey_id)
    return form_page("passkeys/edit.html", {}, passkey=passkey, last=passkey.is_last)


@bp.post("/settings/passkeys/<int:passkey_id>/rename")
@login_required
def rename(passkey_id: int):
    passkey = Passkey.own(current_user, passkey_id)
    done, errors = submit(
        PasskeyRenameSchema(),
        {"name": request.form.get("name", "").strip()},
        lambda data: passkey.rename(data["name"]),
        gettext("The passkey is renamed."),
        settings_url(),
    )
    return done or form_page("passkeys/edit.html", errors, passkey=passkey, last=passkey.is_last)


@bp.post("/settings/passkeys/<int:passkey_id>/remove")
@login_required
@limiter.limit(LOGIN_LIMIT)
def remove(passkey_id: int):
    """The last passkey also asks for the password, so that someone who picks up a
    logged-in phone cannot take away its owner's way in."""
    passkey = Passkey.own(current_user, passkey_id)
    last = passkey.is_last
    try:
        if last:
            password = request.form.get("password", "")
            if not password:
                raise Forbidden(LAST_ONE)
            check_own_password(password)
    except (Forbidden, TooMany) as err:
        errors = {"password": [err.message]}
        return form_page("passkeys/edit.html", errors, http_status(err), passkey=passkey, last=last)
    passkey.remove()
    flash(gettext("The passkey is removed. You can still log in with your password."))
    return redirect(settings_url())


@bp.post("/settings/passkeys/<int:passkey_id>/remove-by-mail")
@login_required
@passkey_mail_limit
def ask_to_remove(passkey_id: int):
    """Without the password: a link by mail confirms removing the last passkey."""
    passkey = Passkey.own(current_user, passkey_id)
    try:
        recovery.ask_to_remove_last_passkey(passkey)
    except Conflict as err:
        flash(gettext(err.message))
        return redirect(url_for("passkeys.edit", passkey_id=passkey.id))
    db.session.commit()
    flash(
        gettext(
            "We sent a link to %(email)s. Open it to remove the passkey.", email=current_user.email
        )
    )
    return redirect(settings_url())


@bp.route("/passkeys/remove/<token>", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def remove_by_link(token: str):
    """The mailed link's button removes the last passkey."""

    def remove(token: str):
        recovery.remove_passkey_by_link(token)
        return render_template("passkeys/removed.html", done=True)

    return button_link("remove-passkey", token, remove, "passkeys/removed.html", settings_url())
