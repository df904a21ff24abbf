"""Signing in without a password: passkeys (made, listed, renamed and removed by their
owner; used to sign in by anyone holding one) and e-mailed sign-in links. Every way in ends
in the same server-side login as a password, with its kind noted."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_login import current_user

from pnapp import passkeys
from pnapp.api import ERROR, limited, requires, resource
from pnapp.auth import check_own_password, start_session
from pnapp.errors import ApiError
from pnapp.extensions import LOGIN_LIMIT, PASSKEY_OPTIONS_LIMIT, sign_in_link_limits
from pnapp.models import Passkey, recovery
from pnapp.schemas import (
    PasskeyListSchema,
    PasskeyNewSchema,
    PasskeyRemoveSchema,
    PasskeyRenameSchema,
    PasskeySchema,
    PasskeySignInSchema,
    SignInLinkConfirmSchema,
    SignInLinkSchema,
    UserEnvelope,
)

bp = resource("passkeys", "Passkeys and sign-in links")


def options(text: str):
    return current_app.response_class(text, mimetype="application/json")


@bp.post("/auth/passkeys/options")
@requires()
@limited(PASSKEY_OPTIONS_LIMIT)
@bp.response(200, description="PublicKeyCredentialCreationOptions as JSON")
def registration_options():
    """Start making a passkey: the options for navigator.credentials.create()."""
    return options(passkeys.registration_options(current_user))


@bp.post("/auth/passkeys")
@requires()
@limited(LOGIN_LIMIT)
@bp.arguments(PasskeyNewSchema)
@bp.response(201, PasskeySchema)
@bp.alt_response(409, schema=ERROR, description="Saved already, or too many passkeys")
@bp.alt_response(422, schema=ERROR, description="Not a credential made for these options")
def register(data):
    """Keep the passkey the browser made; `name` defaults to the device's."""
    return passkeys.register(current_user, data["credential"], data.get("name"))


@bp.get("/auth/passkeys")
@requires()
@bp.response(200, PasskeyListSchema)
def listing():
    """The caller's passkeys, oldest first."""
    return {"items": Passkey.of(current_user)}


@bp.route("/auth/passkeys/<int:passkey_id>")
class OnePasskey(MethodView):
    # One rule for both methods: with two, an id out of range answered 405, not 404.
    decorators = [requires()]

    @bp.arguments(PasskeyRenameSchema)
    @bp.response(200, PasskeySchema)
    def patch(self, data, passkey_id: int):
        """Give a passkey a name the person recognises."""
        passkey = Passkey.own(current_user, passkey_id)
        passkey.rename(data["name"])
        return passkey

    @limited(LOGIN_LIMIT)
    @bp.arguments(PasskeyRemoveSchema, required=False)
    @bp.response(204)
    @bp.alt_response(403, schema=ERROR, description="The last passkey needs the password")
    @bp.alt_response(429, schema=ERROR, description="Too many wrong passwords; see Retry-After")
    def delete(self, data, passkey_id: int):
        """Remove a passkey; removing the last one asks for the password again."""
        passkey = Passkey.own(current_user, passkey_id)
        if passkey.is_last:
            if not (data or {}).get("password"):
                raise ApiError(403, passkeys.LAST_ONE)
            check_own_password(data["password"])
        passkey.remove()


@bp.post("/auth/passkey-login/options")
@limited(PASSKEY_OPTIONS_LIMIT)
@bp.response(200, description="PublicKeyCredentialRequestOptions as JSON")
def sign_in_options():
    """Start signing in with a passkey: options for navigator.credentials.get(), with no
    list of credentials, so the browser offers the ones it holds for this site."""
    return options(passkeys.authentication_options())


@bp.post("/auth/passkey-login")
@limited(LOGIN_LIMIT, "Too many attempts")
@bp.arguments(PasskeySignInSchema)
@bp.response(200, UserEnvelope)
@bp.alt_response(401, schema=ERROR, description="The passkey did not prove an account")
def sign_in(data):
    """Sign in with the browser's answer; each challenge works once."""
    try:
        user = passkeys.authenticate(data["credential"])
    except passkeys.Refused:
        raise ApiError(401, passkeys.REFUSED) from None
    start_session(user, "passkey")
    return {"user": user}


@bp.post("/auth/sign-in-link")
@limited(sign_in_link_limits, "Too many; see Retry-After")
@bp.arguments(SignInLinkSchema)
@bp.response(202)
def sign_in_link(data):
    """Mail a one-time link that signs in, valid 15 minutes, to a confirmed address. The
    answer is the same whether or not an account uses the address."""
    recovery.request_sign_in_link(data["email"])


@bp.post("/auth/sign-in-link/confirm")
@limited(LOGIN_LIMIT)
@bp.arguments(SignInLinkConfirmSchema)
@bp.response(200, UserEnvelope)
@bp.alt_response(410, schema=ERROR, description="Used, expired or superseded")
@bp.alt_response(404, schema=ERROR, description="Not a link of ours")
def sign_in_link_confirm(data):
    """Sign in with the token from the mailed link."""
    user = recovery.sign_in_by_link(data["token"])
    start_session(user, "email_link")
    return {"user": user}
