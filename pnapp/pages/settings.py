"""Settings: name, zone, goal and reminders (and how they will reach you); password; where
you are logged in; deleting the account; and the one-click unsubscribe from reminder mail."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask import session as browser_session  # "session" here means a massage session
from flask_babel import gettext
from flask_login import current_user, login_required, logout_user

from pnapp import i18n, labels
from pnapp.auth import change_own_password, check_own_password, end_session
from pnapp.errors import Forbidden, TooMany, http_status
from pnapp.extensions import csrf, db
from pnapp.forms import load, to_json_shape
from pnapp.models import REPORT, Login, Passkey, recovery
from pnapp.pages import form_page, submit
from pnapp.schemas import MePatchSchema, PasswordChangeSchema
from pnapp.timeutil import COMMON_ZONES

bp = Blueprint("settings", __name__)


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
        # The tiles: none ticked leaves the choice as it was (a reminder needs a road; the
        # page shows what stays chosen).
        if channels := request.form.getlist("reminder.channels"):
            form.setdefault("reminder", {})["channels"] = channels
            if "email" in channels:
                # The E-mail tile shows whether reminder mail comes; ticking it after an
                # unsubscribe means "send it again".
                form["email_reminders"] = True
        if request.form.get("language") == "":
            form["language"] = None  # follow the browser
        for key in REPORT:  # emptied: not printed on the report (paper: the zone's usual one)
            if key in request.form and not request.form[key].strip():
                form[key] = None
        done, errors = submit(
            MePatchSchema(),
            form,
            current_user.update,
            gettext("Settings saved."),
            url_for("settings.settings"),
        )
        if done:
            return done
    return form_page(
        "settings.html",
        errors,
        common_zones=COMMON_ZONES,
        languages=i18n.NAMES,
        logins=Login.of(current_user),
        passkeys=Passkey.of(current_user),
        route=labels.reminder_route(current_user),
        summary=labels.reminder_summary(current_user) if current_user.is_patient else None,
    )


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
            except (Forbidden, TooMany) as err:
                errors, status = {"current_password": [err.message]}, http_status(err)
            else:
                flash(gettext("Your password was changed. Other devices were logged out."))
                return redirect(url_for("settings.settings"))
    return form_page("settings_password.html", errors, status)


@bp.route("/settings/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    """Ask for the password again, then delete the account and everything in it."""
    errors, status = {}, 422
    if request.method == "POST":
        try:
            check_own_password(request.form.get("password", ""))
        except (Forbidden, TooMany) as err:
            errors, status = {"password": [err.message]}, http_status(err)
        else:
            user = current_user._get_current_object()
            logout_user()
            browser_session.clear()
            user.delete_account()
            # Flashed after clear(), so it survives to the next page.
            flash(gettext("Your account and all its data were deleted."))
            return redirect(url_for("home.home"))
    return form_page("settings_delete.html", errors, status)


@bp.post("/settings/logins/<int:login_id>/end")
@login_required
def end_login(login_id: int):
    """Log one device out (listed in Settings under "Where you are logged in")."""
    found = next((x for x in Login.of(current_user) if x.id == login_id), None)
    if found is None:
        abort(404)
    if found.current:
        end_session()
        return redirect(url_for("auth.login", logged_out=1))
    found.end()
    db.session.commit()
    flash(gettext("That device was logged out."))
    return redirect(url_for("settings.settings", _anchor="logins"))


@bp.post("/settings/logout-everywhere")
@login_required
def logout_everywhere():
    """Log out of every device, this one included."""
    end_session(everywhere=True)
    return redirect(url_for("auth.login", logged_out=1))


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: a mail provider posts it, with no cookie and no form of ours
def unsubscribe(token: str):
    """One click from a reminder mail turns reminder mail off (POST, from the mail client's
    button or this page's); GET asks first, so a link scanner changes nothing. Again is
    fine: the answer stays the same."""
    if request.method == "POST":
        recovery.unsubscribe(token)
        return render_template("settings_unsubscribe.html", done=True)
    recovery.holder("unsubscribe", token)
    return render_template("settings_unsubscribe.html", done=False)
