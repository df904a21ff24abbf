"""Who is logged in: Flask-Login bound to logins kept on the server, and the steps every
way of logging in or out shares (pages and API alike)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from pnapp.errors import ApiError, Forbidden, is_api_request
from pnapp.extensions import db, login_manager
from pnapp.i18n import N_, note_browser_language
from pnapp.models import Login, User

BAD_LOGIN = N_("That e-mail and password do not match an account.")
WRONG_PASSWORD = N_("That password is not right.")


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


def start_session(user: User, method: str = "password") -> None:
    """Log in with a fresh session (no state carried over from before login), as a new
    login kept on the server."""
    session.clear()
    Login.start(user, request.user_agent.string, method)
    login_user(user)
    session.permanent = True
    note_browser_language(user)
    db.session.commit()


def end_session(everywhere: bool = False) -> None:
    """Log this device out (or every device): its login ends on the server, so a copy of
    the cookie dies too."""
    if current_user.is_authenticated and current_user.login is not None:
        if everywhere:
            Login.end_all(current_user)
        else:
            current_user.login.end()
        db.session.commit()
    logout_user()
    session.clear()


def check_own_password(password: str) -> None:
    """The logged-in person's password again, for what only they may do (403 if wrong)."""
    if not current_user.verify_password(password):
        raise Forbidden(WRONG_PASSWORD)


def change_own_password(current: str, new: str) -> None:
    check_own_password(current)
    current_user.change_password(new)
