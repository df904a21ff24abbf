"""Proving an address and getting back in: e-mail verification, password reset, sign-in
links, removing the last passkey, and the one-click unsubscribe from reminder mail. Each
mails or honours a signed one-time link (pnapp/tokens.py) whose fingerprint is of the state
the link changes, so it works once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert, literal, select, update

from pnapp import tokens
from pnapp.errors import Conflict, Gone
from pnapp.extensions import db
from pnapp.i18n import N_
from pnapp.models.accounts import User
from pnapp.models.delivery import (
    PASSWORD_RESET,
    REMOVE_PASSKEY,
    SEND_AFTER_COMMIT,
    SIGN_IN_LINK,
    VERIFY_EMAIL,
    Delivery,
)
from pnapp.models.logins import Login
from pnapp.models.passkeys import Passkey
from pnapp.timeutil import utcnow

ALREADY_VERIFIED = N_("Your e-mail address is already confirmed.")
NOT_THE_LAST = N_("That is not your last passkey: it can be removed without a confirmation.")


def _period(now: datetime) -> str:
    # One row per request: a retry of the same mail keeps its row, a new request is new.
    return now.strftime("%Y%m%dT%H%M%S.%f")


# Verification: the link dies once the address is confirmed, and with a change of address
# or a bounce (a new link is then needed to prove the address works again).


def verify_state(user: User) -> tuple:
    return (user.email, user.email_verified, user.email_bounced_at)


def needs_verifying(user: User) -> bool:
    return not user.email_verified or user.email_bounced_at is not None


def ask_to_verify(user: User, now: datetime | None = None) -> None:
    """Mail a link to confirm the address (after the caller's commit)."""
    if not needs_verifying(user):
        raise Conflict(ALREADY_VERIFIED)
    now = now or utcnow()
    Delivery.queue(user.id, VERIFY_EMAIL, _period(now), now)


def verify_email(token: str) -> User:
    """Confirm the address the link was mailed to. Gone when used, expired or superseded."""
    user = holder("verify-email", token)
    user.email_verified = True
    user.email_bounced_at = None  # it works again: mail may go to it
    db.session.commit()
    return user


# Password reset: the link dies when the password changes (by this link or otherwise) and
# when a newer reset is asked for.


def reset_state(user: User) -> tuple:
    return (user.password_hash, user.reset_requested_at)


def reset_period(user: User) -> str | None:
    """The Delivery period of the newest reset request: older rows are superseded."""
    return _period(user.reset_requested_at) if user.reset_requested_at else None


# The same two statements and a commit whether or not the address has an account, so that
# the answer neither says nor takes measurably longer to say which (API.md).


def _mark(column, address_matches):
    """Note the time of a request on the account whose address matches (a verified one only,
    where `address_matches` says so), giving its id."""
    users = User.__table__
    return (
        update(users)
        .where(address_matches)
        .values({column: bindparam("now", type_=users.c[column].type)})
        .returning(users.c.id)
    )


_ADDRESS = User.__table__.c.email == bindparam("address")
_MARK_RESET = _mark("reset_requested_at", _ADDRESS)
# Only to a confirmed address that is not bouncing: a link that signs in must go where the
# person has proved they read their mail.
_MARK_SIGN_IN = _mark(
    "sign_in_requested_at",
    _ADDRESS
    & User.__table__.c.email_verified.is_(True)
    & User.__table__.c.email_bounced_at.is_(None),
)


def _mail_link(mark, kind: str, email: str, now: datetime) -> None:
    """Queue the mail of `kind` for the account `mark` found by `email`, if any, and commit;
    it leaves right after the commit (reminders/instant.py)."""
    found = db.session.scalar(mark, {"address": User.normalize_email(email), "now": now})
    table = Delivery.__table__
    users = User.__table__
    row = {
        "user_id": users.c.id,
        "kind": literal(kind),
        "period": literal(_period(now)),
        "channel": literal("email"),
        "state": literal("pending"),
        "attempts": literal(0),
        "due_at": literal(now, Delivery.due_at.type),
        "next_attempt_at": literal(now, Delivery.next_attempt_at.type),
        "payload": literal({}, Delivery.payload.type),
        "created_at": literal(now, Delivery.created_at.type),
    }
    inserted = db.session.scalar(
        insert(table)
        .from_select(list(row), select(*row.values()).where(users.c.id == (found or 0)))
        .returning(table.c.id)
    )
    if inserted is not None:
        db.session.info.setdefault(SEND_AFTER_COMMIT, []).append(inserted)
    db.session.commit()


def request_password_reset(email: str, now: datetime | None = None) -> None:
    """Mail a reset link to the account using `email`, if there is one.

    An unverified address gets it too: whoever lost their password may never have
    confirmed their address, and a reset link is their only way back in; the link
    itself proves they read mail there (reset_password marks the address confirmed).
    """
    _mail_link(_MARK_RESET, PASSWORD_RESET, email, now or utcnow())


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from a mailed link: every login of the account ends, the
    password lockout is lifted, and the address counts as confirmed. The caller then logs
    the person in (a fresh login, which survives)."""
    user = holder("password-reset", token)
    user.set_password(new_password)
    user.reset_requested_at = None
    user.failed_logins = 0
    user.locked_until = None
    user.email_verified = True  # the link came to this address: it is theirs, and it works
    user.email_bounced_at = None
    Login.end_all(user)
    db.session.flush()
    return user


# Sign-in links: one-time, 15 minutes (tokens.PURPOSES), only the newest works, and only
# while the address is still confirmed.


def sign_in_state(user: User) -> tuple:
    return (user.sign_in_requested_at, user.email, user.email_verified, user.email_bounced_at)


def sign_in_period(user: User) -> str | None:
    """The Delivery period of the newest sign-in link asked for: older rows are superseded."""
    return _period(user.sign_in_requested_at) if user.sign_in_requested_at else None


def request_sign_in_link(email: str, now: datetime | None = None) -> None:
    """Mail a sign-in link to the account using `email`, if there is one and its address is
    confirmed; the caller answers the same either way."""
    _mail_link(_MARK_SIGN_IN, SIGN_IN_LINK, email, now or utcnow())


def sign_in_by_link(token: str) -> User:
    """The account a sign-in link was mailed to; the link is used up (the caller then starts
    the login, which commits)."""
    user = holder("sign-in", token)
    if needs_verifying(user):  # the address stopped working since: the link goes with it
        raise Gone()
    user.sign_in_requested_at = None
    db.session.flush()
    return user


# Removing the last passkey by mail, for whoever no longer knows their password: the link
# dies once the person's passkeys change (this one removed, or another made).


def passkeys_state(user: User) -> tuple:
    return tuple(p.credential_id for p in Passkey.of(user))


def ask_to_remove_last_passkey(passkey: Passkey, now: datetime | None = None) -> None:
    """Mail a link that removes this, the person's last passkey (after the caller's commit)."""
    if not passkey.is_last:
        raise Conflict(NOT_THE_LAST)
    now = now or utcnow()
    Delivery.queue(passkey.user_id, REMOVE_PASSKEY, _period(now), now)


def remove_passkey_by_link(token: str) -> None:
    """Remove the passkey the link was mailed about; Gone once the passkeys changed."""
    user = holder("remove-passkey", token)
    for passkey in Passkey.of(user):  # the one there was when the link was made
        db.session.delete(passkey)
    db.session.commit()


# Unsubscribe (RFC 8058): no expiry and no state, so it stays idempotent.


def unsubscribe(token: str) -> None:
    """Turn reminder mail off for the person the link was mailed to."""
    holder("unsubscribe", token).email_reminders = False
    db.session.commit()


# What each kind of link fingerprints: the state that changes once it has done its job.
STATES = {
    "verify-email": verify_state,
    "password-reset": reset_state,
    "sign-in": sign_in_state,
    "remove-passkey": passkeys_state,
    "unsubscribe": lambda user: (),
}


def holder(purpose: str, token: str) -> User:
    """The account a link that is still good was mailed to; Gone when it was used, expired
    or superseded, NotFound when it is not one of ours or its account is gone."""

    def state_of(user_id: int):
        user = db.session.get(User, user_id)
        return STATES[purpose](user) if user is not None else None

    return db.session.get(User, tokens.check(purpose, token, state_of))


def link_token(purpose: str, user: User) -> str:
    """A fresh token for a mailed link, fingerprinting the user's state now."""
    return tokens.make(purpose, user.id, STATES[purpose](user))
