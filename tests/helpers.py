"""Builders shared by the tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def session_body(**overrides) -> dict:
    body = {
        "client_id": str(uuid.uuid4()),
        "started_at": iso(datetime.now(UTC) - timedelta(hours=1)),
        "before": {"pain": 6, "stress": 5},
    }
    body.update(overrides)
    return body


def add_passkey(app, user_id: int, name: str = "Phone") -> int:
    """A stored passkey of the user's, as if made on a phone (tests/browser/test_passkeys.py
    makes real ones); its key signs nothing, so it never signs anyone in. Its id."""
    import os

    from pnapp.extensions import db
    from pnapp.models import Passkey

    with app.app_context():
        passkey = Passkey(
            user_id=user_id,
            credential_id=uuid.uuid4().hex,
            public_key=os.urandom(77),
            sign_count=0,
            user_handle=os.urandom(32),
            name=name,
        )
        db.session.add(passkey)
        db.session.commit()
        return passkey.id
