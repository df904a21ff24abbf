"""Signed one-time links: e-mail verification, password reset, sign-in and one-click
unsubscribe.

itsdangerous signs {user id, fingerprint} with the app's secret key, salted per purpose so a
token for one purpose is refused by every other. One-time use without a table: the
fingerprint is of state that changes once the link has done its job (the address verified,
the password changed, a newer reset asked for), so a used or superseded link no longer
matches (RECIPES.md).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence

from flask import current_app
from itsdangerous import BadSignature, Serializer, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode

from pnapp.errors import Gone, NotFound

# purpose -> lifetime in seconds (None: no expiry)
PURPOSES = {
    "verify-email": 48 * 3600,
    "password-reset": 3600,
    "sign-in": 15 * 60,
    "remove-passkey": 3600,
    "unsubscribe": None,
    # A SMART Health Link's file fetched by `location`: the specification allows an hour.
    "shl-file": 3600,
}


class _Uncompressed(URLSafeTimedSerializer):
    """Without zlib: these payloads are some 40 bytes, and zlib.compress lets go of the
    interpreter lock, so a pass writing thousands of mails while its threads send them
    waited for the lock at every token. Compressed tokens (a leading ".") still load."""

    def dump_payload(self, obj) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return _Uncompressed(
        current_app.config["SECRET_KEY"],
        salt=f"pnapp.{purpose}",
        signer_kwargs={"digest_method": hashlib.sha256},
    )


def fingerprint(state: Sequence) -> str:
    return hashlib.sha256("\x1f".join(map(str, state)).encode()).hexdigest()[:16]


def make(purpose: str, user_id: int, state: Sequence = ()) -> str:
    return _serializer(purpose).dumps({"u": user_id, "f": fingerprint(state)})


def check(purpose: str, token: str, state_of: Callable[[int], Sequence | None]) -> int:
    """The user id a token was made for, when it is still good.

    Raises Gone when it expired, was used or was superseded, NotFound when it was never
    ours (tampered, truncated, another purpose) or its account no longer exists.
    state_of(user_id) gives the state now, or None when the account is gone.
    """
    try:
        data = _serializer(purpose).loads(token, max_age=PURPOSES[purpose])
    except SignatureExpired:  # a subclass of BadSignature: first
        raise Gone() from None
    except BadSignature:
        raise NotFound() from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise NotFound()
    state = state_of(data["u"])
    if state is None:
        raise NotFound()
    if not hmac.compare_digest(str(data.get("f")), fingerprint(state)):
        raise Gone()
    return data["u"]
