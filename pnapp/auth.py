"""Log-in, sign-up and log-out pages, and how Flask-Login finds the user."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from pnapp.api.auth import BAD_LOGIN, end_session, start_session
from pnapp.errors import ApiError, is_api_request
from pnapp.extensions import LOGIN_LIMIT, REGISTER_LIMIT, db, limiter, login_manager
from pnapp.forms import load, to_json_shape
from pnapp.models import Login, User
from pnapp.schemas import LoginSchema, RegisterSchema
from pnapp.timeutil import COMMON_ZONES

bp = Blueprint("auth", __name__)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    # The cookie is signed and names a login kept on the server, which logout ends.
    login_manager.session_protection = None

    @login_manager.user_loader
    def load_user(token: str):
        return Login.found(token)

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
    errors, form, status = {}, {}, 200
    if request.method == "POST":
        form = to_json_shape(request.form)
        data, errors = load(LoginSchema(), form)
        if data:
            try:
                user = User.authenticate(data["email"], data["password"])
            except ApiError as err:  # too many wrong passwords: a pause
                errors, status = {"_form": [err.message]}, err.status
            else:
                if user:
                    start_session(user)
                    return redirect(after_login_url(user))
                errors = {"_form": [BAD_LOGIN]}
        status = status if status != 200 else 422 if errors else 200
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
    """Log out of this device: the login ends on the server too."""
    end_session()
    return redirect(url_for("auth.login", logged_out=1))


@bp.post("/settings/logins/<int:login_id>/end")
@login_required
def end_login(login_id: int):
    """Log one device out (listed in Settings under "Where you are logged in")."""
    found = next((x for x in Login.of(current_user) if x.id == login_id), None)
    if found is None:
        abort(404)
    if found.current:
        return logout()
    found.end()
    db.session.commit()
    flash(gettext("That device was logged out."))
    return redirect(url_for("pages.settings", _anchor="logins"))


@bp.post("/settings/logout-everywhere")
@login_required
def logout_everywhere():
    """Log out of every device, this one included."""
    end_session(everywhere=True)
    return redirect(url_for("auth.login", logged_out=1))
