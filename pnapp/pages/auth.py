"""Log-in, sign-up and log-out pages."""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from flask_login import current_user

from pnapp.auth import BAD_LOGIN, end_session, safe_next, start_session
from pnapp.errors import Conflict, TooMany, http_status
from pnapp.extensions import LOGIN_LIMIT, REGISTER_LIMIT, limiter
from pnapp.forms import load, to_json_shape
from pnapp.models import User
from pnapp.pages import form_page
from pnapp.schemas import LoginSchema, RegisterSchema
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
                user = User.register(data)
            except Conflict as err:
                errors = err.fields or {"_form": [err.message]}
            else:
                start_session(user)
                return redirect(after_login_url(user))
    return form_page("auth/register.html", errors, form=form, zones=COMMON_ZONES)


@bp.post("/logout")
def logout():
    """Log out of this device: the login ends on the server too."""
    end_session()
    return redirect(url_for("auth.login", logged_out=1))
