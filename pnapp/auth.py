"""Log-in, sign-up and log-out pages, and how Flask-Login finds the user."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from pnapp.api.auth import BAD_LOGIN, start_session
from pnapp.errors import ApiError, is_api_request
from pnapp.extensions import LOGIN_LIMIT, REGISTER_LIMIT, limiter, login_manager
from pnapp.forms import load, to_json_shape
from pnapp.models import User
from pnapp.schemas import LoginSchema, RegisterSchema
from pnapp.timeutil import COMMON_ZONES

bp = Blueprint("auth", __name__)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = None  # the cookie is signed; the epoch revokes it

    @login_manager.user_loader
    def load_user(login_id: str):
        return User.from_login_id(login_id)

    @login_manager.unauthorized_handler
    def unauthorized():
        if is_api_request():
            raise ApiError(401)
        return redirect(url_for("auth.login", next=safe_next(request.full_path)))


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: never an open redirect to another host."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target.rstrip("?") or None


def after_login_url(user: User) -> str:
    return safe_next(request.args.get("next")) or url_for("pages.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def login():
    """Log in."""
    if current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    errors, form = {}, {}
    if request.method == "POST":
        form = to_json_shape(request.form)
        data, errors = load(LoginSchema(), form)
        if data:
            user = User.authenticate(data["email"], data["password"])
            if user:
                start_session(user)
                return redirect(after_login_url(user))
            errors = {"_form": [BAD_LOGIN]}
    status = 422 if errors else 200
    return render_template("auth/login.html", errors=errors, form=form), status


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(REGISTER_LIMIT, methods=["POST"])
def register():
    """Create an account."""
    if current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    errors, form = {}, {"role": request.args.get("role", "patient")}
    if request.method == "POST":
        form = to_json_shape(request.form)
        data, errors = load(RegisterSchema(), form)
        if data:
            try:
                user = User.register(data)
            except ApiError as err:
                errors = err.fields or {"_form": [err.message]}
            else:
                start_session(user)
                return redirect(after_login_url(user))
    status = 422 if errors else 200
    return render_template(
        "auth/register.html", errors=errors, form=form, zones=COMMON_ZONES
    ), status


@bp.post("/logout")
def logout():
    """Log out of this device."""
    logout_user()
    session.clear()
    return redirect(url_for("auth.login", logged_out=1))
