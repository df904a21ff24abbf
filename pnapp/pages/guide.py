"""The guide: getting the most from massage for neuropathy."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("guide", __name__)


@bp.get("/guide")
def guide():
    """Getting the most from massage for neuropathy."""
    return render_template("guide.html")
