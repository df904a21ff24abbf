"""Extensions, created unbound and bound to the app in create_app()."""

from __future__ import annotations

import hashlib

from flask import request
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

from pnapp.errors import ErrorSchema

# Named constraints so Alembic migrations are identical on SQLite and PostgreSQL.
db = SQLAlchemy(
    metadata=MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
compress = Compress()
# Storage comes from RATELIMIT_STORAGE_URI: memory by default (per process), Redis to share.
limiter = Limiter(key_func=get_remote_address)

# Limits on the doors attackers knock on; generous for a person, tight for a script.
LOGIN_LIMIT = "10 per minute;100 per day"
REGISTER_LIMIT = "5 per minute;50 per day"
ACCEPT_LIMIT = "10 per minute"
# A link's manifest, per address: a viewer asks once per open; passcodes have their own cap.
MANIFEST_LIMIT = "30 per minute"
PUSH_TEST_LIMIT = "5 per minute"
# Every log-in page asks for a challenge (the browser's passkey suggestion): more than logins.
PASSKEY_OPTIONS_LIMIT = "30 per minute;300 per day"
# Mail we send on request: enough for a person who mistyped or waited, too few for a script
# to flood someone's inbox. Each is shared by the page and the API (one `scope`).
RESET_PER_ADDRESS = "3 per 15 minutes;10 per day"
RESET_PER_IP = "10 per hour;50 per day"
RESEND_LIMIT = "3 per 15 minutes;10 per day"
SIGN_IN_LINK_PER_ADDRESS = "3 per 15 minutes;10 per day"
SIGN_IN_LINK_PER_IP = "10 per hour;50 per day"


def address_key() -> str:
    """The e-mail address a request names (JSON or form), hashed: Flask-Limiter logs the
    key of a request it refuses, and no address may reach a log."""
    data = request.get_json(silent=True) if request.is_json else request.form
    email = data.get("email") if hasattr(data, "get") else None
    text = email.strip().lower() if isinstance(email, str) else ""
    return "address:" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:24]


def user_key() -> str:
    """Per person when logged in, else per address."""
    from flask_login import current_user

    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return get_remote_address()


class PnApi(Api):
    """flask-smorest's Api with our error shape; pnapp.errors handles every error itself."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        pass


api = PnApi()


def mail_limits(scope: str, per_address: str, per_ip: str):
    """Asking for a mailed link: limited per address and per network address, counted once
    for the page and the API (`scope`)."""

    def decorator(view):
        by_ip = limiter.shared_limit(per_ip, scope=f"{scope}-ip", methods=["POST"])
        by_address = limiter.shared_limit(
            per_address, scope=scope, key_func=address_key, methods=["POST"]
        )
        return by_ip(by_address(view))

    return decorator


reset_limits = mail_limits("password-reset", RESET_PER_ADDRESS, RESET_PER_IP)
sign_in_link_limits = mail_limits("sign-in-link", SIGN_IN_LINK_PER_ADDRESS, SIGN_IN_LINK_PER_IP)


def resend_limit(view):
    """Asking for a new link to confirm one's address: limited per person."""
    return limiter.shared_limit(RESEND_LIMIT, scope="verify-resend", key_func=user_key)(view)


def passkey_mail_limit(view):
    """Asking for a link to remove one's last passkey: limited per person."""
    return limiter.shared_limit(RESEND_LIMIT, scope="passkey-mail", key_func=user_key)(view)
