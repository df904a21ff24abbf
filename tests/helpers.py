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
