"""Fingerprinted static URLs: a file's URL changes when its content does, so browsers may
keep it for a year."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import current_app, url_for


def static_url(filename: str) -> str:
    return url_for("static", filename=filename, v=_digest(current_app.static_folder, filename))


@lru_cache(maxsize=256)
def _digest(folder: str, filename: str) -> str:
    return hashlib.sha256((Path(folder) / filename).read_bytes()).hexdigest()[:10]
