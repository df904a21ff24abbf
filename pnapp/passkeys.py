"""The WebAuthn ceremonies, with py_webauthn: making a passkey for the logged-in person, and
signing in with one (a discoverable credential: the browser offers the passkeys it holds
for this site, so nobody types an address).

Passkeys are bound to the site's name: the relying party is PUBLIC_URL's host (never the
request's Host header, which the sender chooses) and the origin PUBLIC_URL's scheme, host and
port. The authenticator must verify the person (face, fingerprint or PIN), and its counter
must go forward, as the library checks; each challenge works once (PasskeyChallenge).

py_webauthn (with pyOpenSSL and cbor2) loads on first use, not with the app: a worker that
starts on a busy machine answers sooner, and most requests never need it.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, update

from pnapp.errors import Conflict, Invalid
from pnapp.extensions import db
from pnapp.i18n import N_
from pnapp.models import MAX_PASSKEYS, Passkey, User, hash_token
from pnapp.models.passkeys import NAME_LENGTH, PasskeyChallenge
from pnapp.timeutil import utcnow

# How long the browser may take, and how long a challenge waits for its answer.
TIMEOUT = timedelta(minutes=5)
REFUSED = N_("That passkey did not work here. Try again, or log in another way.")
NOT_MADE = N_("The passkey was not saved. Please try again.")
TOO_MANY = N_("You have as many passkeys as pnapp keeps. Remove one you no longer use first.")
ALREADY = N_("That passkey is saved already.")
LAST_ONE = N_("Enter your password to remove your last passkey.")
# The ways an authenticator may be reached (WebAuthn's AuthenticatorTransport), kept so a
# later prompt may hint at them; anything else a browser sends is dropped.
TRANSPORTS = ("usb", "nfc", "ble", "smart-card", "hybrid", "internal")


class Refused(Exception):
    """A sign-in the passkey does not prove: unknown credential, stale or reused challenge,
    bad signature, no user verification, a counter that went backwards, another person's
    user handle. One message for all, so nothing is learnt from which."""


def relying_party() -> tuple[str, str]:
    """(rp_id, origin) from PUBLIC_URL."""
    parts = urlsplit(current_app.config["PUBLIC_URL"])
    return parts.hostname or "localhost", f"{parts.scheme}://{parts.netloc}"


def _challenge(purpose: str, user: User | None = None, handle: bytes | None = None) -> bytes:
    now = utcnow()
    # Stale ones go as new ones come: the table holds a few minutes of challenges at most.
    db.session.execute(delete(PasskeyChallenge).where(PasskeyChallenge.created_at < now - TIMEOUT))
    challenge = os.urandom(32)
    db.session.add(
        PasskeyChallenge(
            challenge_hash=hash_token(challenge.hex()),
            purpose=purpose,
            user_id=user.id if user else None,
            user_handle=handle,
            created_at=now,
        )
    )
    db.session.commit()
    return challenge


def _use_challenge(client_data: bytes, purpose: str, user: User | None):
    """The row of the challenge the browser signed, deleted so that it never works again;
    Invalid when it is not one of ours, is stale, or was used already."""
    from webauthn.helpers import parse_client_data_json

    challenge = parse_client_data_json(client_data).challenge.hex()
    table = PasskeyChallenge.__table__
    found = db.session.execute(
        delete(table)
        .where(
            table.c.challenge_hash == hash_token(challenge),
            table.c.purpose == purpose,
            table.c.user_id == user.id if user else table.c.user_id.is_(None),
            table.c.created_at >= utcnow() - TIMEOUT,
        )
        .returning(table.c.user_handle)
    ).first()
    if found is None:
        raise Invalid(NOT_MADE)
    return found


def registration_options(user: User) -> str:
    """The options for navigator.credentials.create(), as JSON."""
    from webauthn import base64url_to_bytes, generate_registration_options, options_to_json
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    rp_id, _ = relying_party()
    own = Passkey.of(user)
    # One handle per person, so a phone replaces its old passkey for this account.
    handle = own[0].user_handle if own else os.urandom(32)
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name="pnapp",
        user_name=user.email,
        user_display_name=user.display_name,
        user_id=handle,
        challenge=_challenge("register", user, handle),
        timeout=int(TIMEOUT.total_seconds() * 1000),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,  # discoverable: a passkey
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id)) for p in own
        ],
    )
    return options_to_json(options)


def register(user: User, credential: dict[str, Any], name: str | None = None) -> Passkey:
    """Verify the browser's new credential and keep it for this person."""
    from webauthn import verify_registration_response
    from webauthn.helpers import (
        bytes_to_base64url,
        parse_client_data_json,
        parse_registration_credential_json,
    )

    rp_id, origin = relying_party()
    if len(Passkey.of(user)) >= MAX_PASSKEYS:
        raise Conflict(TOO_MANY)
    try:
        parsed = parse_registration_credential_json(credential)
        challenge = _use_challenge(parsed.response.client_data_json, "register", user)
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=parse_client_data_json(parsed.response.client_data_json).challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            require_user_verification=True,
        )
    except Invalid:
        raise
    except Exception as err:  # the library raises many kinds for what a browser may send
        raise Invalid(NOT_MADE) from err
    credential_id = bytes_to_base64url(verified.credential_id)
    if Passkey.by_credential(credential_id) is not None:
        raise Conflict(ALREADY)
    transports = credential.get("response", {}).get("transports")
    passkey = Passkey(
        user_id=user.id,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        user_handle=challenge.user_handle,
        name=(name or default_name(user))[:NAME_LENGTH],
        transports=",".join(t for t in transports if t in TRANSPORTS)
        if isinstance(transports, list)
        else None,
        created_at=utcnow(),
    )
    db.session.add(passkey)
    db.session.commit()
    return passkey


def default_name(user: User) -> str:
    """What the person will recognise in the list: the device it was made on."""
    login = user.login
    browser, system = login.device if login else (None, None)
    return system or browser or "Passkey"


def authentication_options() -> str:
    """The options for navigator.credentials.get(): no list of credentials, so the browser
    offers whichever passkeys it holds for this site."""
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import UserVerificationRequirement

    rp_id, _ = relying_party()
    options = generate_authentication_options(
        rp_id=rp_id,
        challenge=_challenge("sign-in"),
        timeout=int(TIMEOUT.total_seconds() * 1000),
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json(options)


def authenticate(credential: dict[str, Any], now: datetime | None = None) -> User:
    """The person the passkey proves, its counter moved on; Refused otherwise."""
    from webauthn import verify_authentication_response
    from webauthn.helpers import (
        bytes_to_base64url,
        parse_authentication_credential_json,
        parse_client_data_json,
    )

    rp_id, origin = relying_party()
    now = now or utcnow()
    try:
        parsed = parse_authentication_credential_json(credential)
        client_data = parsed.response.client_data_json
        _use_challenge(client_data, "sign-in", None)
        passkey = Passkey.by_credential(bytes_to_base64url(parsed.raw_id))
        if passkey is None:
            raise Refused()
        # The handle the authenticator gives back must be the owner's: a credential of one
        # account never signs in another.
        if parsed.response.user_handle != passkey.user_handle:
            raise Refused()
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=parse_client_data_json(client_data).challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except Refused:
        db.session.commit()  # the challenge stays used
        raise
    except Exception as err:  # bad signature, stale challenge, malformed JSON: all refused
        db.session.commit()
        raise Refused() from err
    # Compare and set: two sign-ins with the same counter cannot both pass.
    table = Passkey.__table__
    moved = db.session.execute(
        update(table)
        .where(table.c.id == passkey.id, table.c.sign_count == passkey.sign_count)
        .values(sign_count=verified.new_sign_count, last_used_at=now)
    ).rowcount
    if moved != 1:
        db.session.commit()
        raise Refused()
    db.session.flush()
    return passkey.user
