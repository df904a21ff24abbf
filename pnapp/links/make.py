"""Making a link: the files are built and encrypted now, under a key that is then only in
the link the patient hands over; the server keeps the encrypted files and forgets the key."""

from __future__ import annotations

import json
from datetime import datetime

from flask import current_app

from pnapp.assets import public_url
from pnapp.links import protocol
from pnapp.links.bundles import BUILDERS
from pnapp.models import LINK_CONTENTS, Link, User
from pnapp.timeutil import utcnow


def make_link(patient: User, data: dict, now: datetime | None = None) -> tuple[Link, str]:
    """A new link and its address (`{public_url}/s#shlink:/...`), shown once. `data` is
    what LinkInSchema loaded: label, contents, expires_in_days, passcode (optional), notes."""
    now = now or utcnow()
    contents, with_notes = data["contents"], data["notes"]
    base = current_app.config["PUBLIC_URL"]
    key = protocol.new_key()
    manifest_id = Link.new_manifest_id()
    files = [
        {
            "contentType": protocol.FHIR_JSON,
            "embedded": protocol.encrypt(
                key, json.dumps(BUILDERS[c](patient, base, now, with_notes)).encode()
            ),
        }
        for c in LINK_CONTENTS
        if c in contents
    ]
    link = Link.create(
        patient,
        manifest_id=manifest_id,
        label=data["label"],
        contents=contents,
        with_notes=with_notes,
        files=files,
        days=data["expires_in_days"],
        passcode=data.get("passcode"),
        now=now,
    )
    payload = protocol.shlink(
        public_url("api_links.manifest", manifest_id=manifest_id),
        key,
        exp=int(link.expires_at.timestamp()),
        passcode=link.passcode,
        label=link.label,
    )
    return link, public_url("links.viewer", _anchor=payload)
