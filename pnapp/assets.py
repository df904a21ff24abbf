"""Addresses: fingerprinted static URLs (a file's URL changes when its content does, so
browsers may keep it for a year), and absolute links on the configured PUBLIC_URL; and the
one inline script, the loader of every page's scripts, with the hash the CSP allows it by."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from flask import current_app, has_request_context, url_for
from markupsafe import Markup

ROOT = Path(__file__).resolve().parent.parent
# templates/_loader.js: inlined, so that the first paint waits for no script (see its top).
LOADER = (ROOT / "templates" / "_loader.js").read_text()
_DIGEST = base64.b64encode(hashlib.sha256(LOADER.encode()).digest()).decode()
LOADER_CSP = f"'sha256-{_DIGEST}'"


# The tab's icon, in the page: as a file, browsers fetched it before the first paint.
LOGO_URI = "data:image/svg+xml," + quote((ROOT / "static/icons/logo.svg").read_text().strip())


def inline_loader() -> Markup:
    return Markup(f"<script>{LOADER}</script>")


def static_url(filename: str) -> str:
    return url_for("static", filename=filename, v=_digest(current_app.static_folder, filename))


def public_url(endpoint: str, **values) -> str:
    """A link to send elsewhere (invitation, notification, mail, FHIR), on PUBLIC_URL: the
    request's Host header is the sender's to choose, and a forged one would lead elsewhere.
    Outside a request (the scheduler's mail) the path comes from the URL map alone."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    if has_request_context():
        return base + url_for(endpoint, **values)
    anchor = values.pop("_anchor", None)
    path = current_app.url_map.bind("").build(endpoint, values)
    return base + path + (f"#{anchor}" if anchor else "")


@lru_cache(maxsize=256)
def _digest(folder: str, filename: str) -> str:
    return hashlib.sha256((Path(folder) / filename).read_bytes()).hexdigest()[:10]
