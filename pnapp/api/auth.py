"""Accounts: register, log in and out, the CSRF token, the user's own settings, and getting
back in: confirming the address, resetting a forgotten password."""

from __future__ import annotations

from flask import session
from flask.views import MethodView
from flask_login import current_user, logout_user
from flask_wtf.csrf import generate_csrf

from pnapp.api import ERROR, limited, requires, resource
from pnapp.auth import (
    BAD_LOGIN,
    change_own_password,
    check_own_password,
    end_session,
    start_session,
)
from pnapp.errors import ApiError
from pnapp.extensions import LOGIN_LIMIT, REGISTER_LIMIT, db, resend_limit, reset_limits
from pnapp.models import Login, User, recovery
from pnapp.schemas import (
    CsrfSchema,
    LoginListSchema,
    LoginSchema,
    MePatchSchema,
    PasswordChangeSchema,
    PasswordResetConfirmSchema,
    PasswordResetSchema,
    PasswordSchema,
    RegisterSchema,
    TokenSchema,
    UserEnvelope,
    UserSchema,
)

bp = resource("auth", "Accounts")


@bp.post("/auth/register")
@limited(REGISTER_LIMIT)
@bp.arguments(RegisterSchema)
@bp.response(201, UserEnvelope)
@bp.alt_response(409, schema=ERROR, description="E-mail taken")
def register(data):
    """Create an account and log in; a link to confirm the address is mailed."""
    user = User.register(data, verify=True)
    start_session(user)
    return {"user": user}


def link_answers(view):
    """Documents what a mailed one-time link may get: 404 when it was never ours, 410 when
    it was used, expired or superseded."""
    view = bp.alt_response(410, schema=ERROR, description="Used, expired or superseded")(view)
    return bp.alt_response(404, schema=ERROR, description="Not a link of ours")(view)


@bp.post("/auth/verify-email")
@bp.arguments(TokenSchema)
@bp.response(200, UserSchema)
@link_answers
def verify_email(data):
    """Confirm the address with the token from the mailed link (no login needed)."""
    return recovery.verify_email(data["token"])


@bp.post("/auth/verify-email/resend")
@limited(resend_limit, "Too many; see Retry-After")
@requires()
@bp.response(202)
@bp.alt_response(409, schema=ERROR, description="Already confirmed")
def resend_verification():
    """Mail a new link to confirm the address."""
    recovery.ask_to_verify(current_user)
    db.session.commit()


@bp.post("/auth/password-reset")
@limited(reset_limits, "Too many; see Retry-After")
@bp.arguments(PasswordResetSchema)
@bp.response(202)
def password_reset(data):
    """Mail a one-time link to set a new password, valid 1 hour. The answer is the same
    whether or not an account uses the address."""
    recovery.request_password_reset(data["email"])


@bp.post("/auth/password-reset/confirm")
@limited(LOGIN_LIMIT)
@bp.arguments(PasswordResetConfirmSchema)
@bp.response(200, UserEnvelope)
@link_answers
def password_reset_confirm(data):
    """Set a new password with the mailed token; every other login ends, and this request
    is logged in."""
    user = recovery.reset_password(data["token"], data["new_password"])
    start_session(user)
    return {"user": user}


@bp.post("/auth/login")
@limited(LOGIN_LIMIT, "Too many attempts or wrong passwords")
@bp.arguments(LoginSchema)
@bp.response(200, UserEnvelope)
@bp.alt_response(401, schema=ERROR, description="Unknown e-mail or wrong password")
def login(data):
    """Log in. Call GET /auth/csrf afterwards: the session, and so the token, is new."""
    user = User.authenticate(data["email"], data["password"])
    if user is None:
        raise ApiError(401, BAD_LOGIN)
    start_session(user)
    return {"user": user}


@bp.post("/auth/logout")
@bp.response(204)
def logout():
    """Log out of this device: this login ends on the server."""
    end_session()


@bp.post("/auth/logout-everywhere")
@requires()
@bp.response(204)
def logout_everywhere():
    """End every login of this account, this one included."""
    end_session(everywhere=True)


@bp.get("/auth/logins")
@requires()
@bp.response(200, LoginListSchema)
def logins():
    """Where this account is logged in, most recently seen first."""
    return {"items": Login.of(current_user)}


@bp.delete("/auth/logins/<int:login_id>")
@requires()
@bp.response(204)
def end_login(login_id: int):
    """End one login at once (this device's own too)."""
    found = next((x for x in Login.of(current_user) if x.id == login_id), None)
    if found is None:
        raise ApiError(404)
    if found.current:
        end_session()
    else:
        found.end()
        db.session.commit()


@bp.post("/auth/password")
@requires()
@limited(LOGIN_LIMIT)
@bp.arguments(PasswordChangeSchema)
@bp.response(204)
@bp.alt_response(403, schema=ERROR, description="Wrong current password")
def change_password(data):
    """Change the password. Every other login ends; this one stays."""
    change_own_password(data["current_password"], data["new_password"])


@bp.get("/auth/csrf")
@bp.response(200, CsrfSchema)
def csrf_token():
    """The token to send as X-CSRFToken with every POST, PUT, PATCH and DELETE."""
    return {"csrf_token": generate_csrf()}


@bp.route("/me")
class Me(MethodView):
    decorators = [requires()]

    @bp.response(200, UserSchema)
    def get(self):
        """The logged-in user."""
        return current_user

    @bp.arguments(MePatchSchema, required=False)
    @bp.response(200, UserSchema)
    def patch(self, data):
        """Change the name, time zone, weekly goal, reminder (channels too), whether this
        browser blocks notifications, or turn reminder mail back on."""
        current_user.update(data)
        return current_user

    @bp.arguments(PasswordSchema)
    @bp.response(204)
    @bp.alt_response(403, schema=ERROR, description="Wrong password")
    @bp.alt_response(429, schema=ERROR, description="Too many wrong passwords; see Retry-After")
    def delete(self, data):
        """Delete the account and everything stored about it (the password is asked again)."""
        check_own_password(data["password"])
        user = current_user._get_current_object()
        logout_user()
        session.clear()
        user.delete_account()
