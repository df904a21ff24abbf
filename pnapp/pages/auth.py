"""Log-in, sign-up and log-out pages, and getting back in: confirming the address from the
mailed link, asking for and using a password-reset link."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from pnapp.auth import BAD_LOGIN, end_session, safe_next, start_session
from pnapp.errors import Conflict, Gone, NotFound, TooMany, http_status
from pnapp.extensions import LOGIN_LIMIT, REGISTER_LIMIT, db, limiter, resend_limit, reset_limits
from pnapp.forms import load, to_json_shape
from pnapp.models import User, recovery
from pnapp.pages import form_page, submit
from pnapp.schemas import (
    LoginSchema,
    PasswordResetConfirmSchema,
    PasswordResetSchema,
    RegisterSchema,
)
from pnapp.timeutil import COMMON_ZONES

bp = Blueprint("auth", __name__)


def after_login_url(user: User) -> str:
    return safe_next(request.args.get("next")) or url_for("home.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def login():
    """Log in."""
    if current_user.is_authenticated:
        return redirect(url_for("home.home"))
    errors, form, status = {}, {}, 422
    if request.method == "POST":
        form = to_json_shape(request.form)
        data, errors = load(LoginSchema(), form)
        if data:
            try:
                user = User.authenticate(data["email"], data["password"])
            except TooMany as err:  # too many wrong passwords: a pause
                errors, status = {"_form": [err.message]}, http_status(err)
            else:
                if user:
                    start_session(user)
                    return redirect(after_login_url(user))
                errors = {"_form": [BAD_LOGIN]}
    return form_page("auth/login.html", errors, status, form=form)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(REGISTER_LIMIT, methods=["POST"])
def register():
    """Create an account."""
    if current_user.is_authenticated:
        return redirect(url_for("home.home"))
    errors, form = {}, {"role": request.args.get("role", "patient")}
    if request.method == "POST":
        form = to_json_shape(request.form)
        data, errors = load(RegisterSchema(), form)
        if data:
            try:
                user = User.register(data, verify=True)
            except Conflict as err:
                errors = err.fields or {"_form": [err.message]}
            else:
                start_session(user)
                # A new patient sets up reminders next (skippable; Settings offers it again).
                then = safe_next(request.args.get("next"))
                if user.is_patient and not then:
                    then = url_for("reminders.setup")
                return redirect(then or after_login_url(user))
    return form_page("auth/register.html", errors, form=form, zones=COMMON_ZONES)


@bp.post("/logout")
def logout():
    """Log out of this device: the login ends on the server too."""
    end_session()
    return redirect(url_for("auth.login", logged_out=1))


@bp.route("/password-reset", methods=["GET", "POST"])
@reset_limits
def forgot_password():
    """Ask for a link to set a new password. The answer is the same whether or not an
    account uses the address, so the page tells no one who has an account."""
    errors, form, sent = {}, {}, False
    if request.method == "POST":
        form = to_json_shape(request.form)
        data, errors = load(PasswordResetSchema(), form)
        if data:
            recovery.request_password_reset(data["email"])
            sent = True
    return form_page("auth/password_reset.html", errors, form=form, sent=sent)


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def reset_password(token: str):
    """Set a new password from the mailed link, then land logged in on the home page."""
    try:
        recovery.holder("password-reset", token)
    except (Gone, NotFound) as err:
        return dead_link(err, url_for("auth.forgot_password"))
    errors = {}
    if request.method == "POST":
        form = {"token": token, "new_password": request.form.get("new_password", "")}
        done, errors = submit(
            PasswordResetConfirmSchema(),
            form,
            lambda data: start_session(recovery.reset_password(token, data["new_password"])),
            gettext("Your new password is set. Other devices were logged out."),
            url_for("home.home"),
        )
        if done:
            return done
    return form_page("auth/password_reset_confirm.html", errors)


@bp.route("/verify-email/<token>", methods=["GET", "POST"])
def verify_email(token: str):
    """Confirm the address with the mailed link: a page with one button, so that a mail
    scanner opening the link confirms nothing."""
    try:
        if request.method == "POST":
            recovery.verify_email(token)
            return render_template("auth/verify_email.html", done=True)
        recovery.holder("verify-email", token)
    except (Gone, NotFound) as err:
        return dead_link(err, url_for("settings.settings", _anchor="email"))
    return render_template("auth/verify_email.html", done=False)


@bp.post("/verify-email/resend")
@resend_limit
@login_required
def resend_verification():
    """Mail a new link to confirm the address (the banner's and Settings' button)."""
    try:
        recovery.ask_to_verify(current_user)
    except Conflict as err:
        flash(gettext(err.message))
    else:
        db.session.commit()
        flash(gettext("We sent a new link to %(email)s.", email=current_user.email))
    return redirect(safe_next(request.args.get("next")) or url_for("settings.settings"))


def dead_link(err: Gone | NotFound, again: str):
    """A used, expired or unknown link: say so, and offer a new one."""
    status = http_status(err)
    return render_template("auth/link_dead.html", status=status, again=again), status
