"""Log-in, sign-up and log-out pages, and getting back in: confirming the address from the
mailed link, asking for and using a password-reset link or a sign-in link."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from pnapp.auth import BAD_LOGIN, end_session, safe_next, start_session
from pnapp.errors import Conflict, Gone, NotFound, TooMany, http_status
from pnapp.extensions import (
    LOGIN_LIMIT,
    REGISTER_LIMIT,
    db,
    limiter,
    resend_limit,
    reset_limits,
    sign_in_link_limits,
)
from pnapp.forms import load, to_json_shape
from pnapp.models import User, recovery
from pnapp.pages import form_page, submit
from pnapp.schemas import (
    LoginSchema,
    PasswordResetConfirmSchema,
    PasswordResetSchema,
    RegisterSchema,
    SignInLinkSchema,
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
    then = safe_next(request.args.get("next")) or url_for("home.home")
    return form_page("auth/login.html", errors, status, form=form, then=then)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(REGISTER_LIMIT, methods=["POST"])
def register():
    """Create an account."""
    if current_user.is_authenticated:
        return redirect(url_for("home.home"))
    errors, form = {}, {"role": request.args.get("role", "patient")}
    if request.method == "POST":
        form = to_json_shape(request.form)
        offer = form.pop("passkey", None) == "offer"  # the device can make a passkey
        data, errors = load(RegisterSchema(), form)
        if data:
            try:
                user = User.register(data, verify=True)
            except Conflict as err:
                errors = err.fields or {"_form": [err.message]}
            else:
                start_session(user)
                # A new patient sets up reminders next (skippable; Settings offers it again),
                # after the offer of a passkey where the device can make one.
                then = safe_next(request.args.get("next"))
                if user.is_patient and not then:
                    then = url_for("reminders.setup")
                then = then or after_login_url(user)
                if offer:  # "Use a passkey next time"
                    return redirect(url_for("passkeys.offer", next=then))
                return redirect(then)
    return form_page("auth/register.html", errors, form=form, zones=COMMON_ZONES)


@bp.post("/logout")
def logout():
    """Log out of this device: the login ends on the server too."""
    end_session()
    return redirect(url_for("auth.login", logged_out=1))


@bp.route("/password-reset", methods=["GET", "POST"])
@reset_limits
def forgot_password():
    """Ask for a link to set a new password."""
    return ask_for_link(PasswordResetSchema(), recovery.request_password_reset, "password_reset")


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


@bp.route("/sign-in-link", methods=["GET", "POST"])
@sign_in_link_limits
def ask_sign_in_link():
    """Ask for a link that signs in (to a confirmed address only)."""
    return ask_for_link(SignInLinkSchema(), recovery.request_sign_in_link, "sign_in_link")


@bp.route("/sign-in/<token>", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def sign_in_by_link(token: str):
    """The mailed link's button signs in on this device, once."""

    def sign_in(token: str):
        start_session(recovery.sign_in_by_link(token), "email_link")
        return redirect(url_for("home.home"))

    again = url_for("auth.ask_sign_in_link")
    return button_link("sign-in", token, sign_in, "auth/sign_in.html", again)


@bp.route("/verify-email/<token>", methods=["GET", "POST"])
def verify_email(token: str):
    """Confirm the address with the mailed link's button."""

    def verify(token: str):
        recovery.verify_email(token)
        return render_template("auth/verify_email.html", done=True)

    again = url_for("settings.settings", _anchor="email")
    return button_link("verify-email", token, verify, "auth/verify_email.html", again)


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


def ask_for_link(schema, ask, template: str):
    """The page that mails a link to the address given. The answer is the same whether or
    not an account uses the address, so the page tells no one who has an account."""
    errors, form, sent = {}, {}, False
    if request.method == "POST":
        form = to_json_shape(request.form)
        data, errors = load(schema, form)
        if data:
            ask(data["email"])
            sent = True
    return form_page(f"auth/{template}.html", errors, form=form, sent=sent)


def button_link(purpose: str, token: str, act, template: str, again: str):
    """The page a mailed link opens: one button, so that a mail scanner opening the link
    changes nothing and does not use it up; the button does `act(token)`, once. `again` is
    where a dead link sends the person for a new one."""
    try:
        if request.method == "POST":
            return act(token)
        recovery.holder(purpose, token)
    except (Gone, NotFound) as err:
        return dead_link(err, again)
    return render_template(template, done=False)


def dead_link(err: Gone | NotFound, again: str):
    """A used, expired or unknown link: say so, and offer a new one."""
    status = http_status(err)
    return render_template("auth/link_dead.html", status=status, again=again), status
