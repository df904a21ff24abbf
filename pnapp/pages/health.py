"""The health check a load balancer asks: is the app up, can it reach its database?"""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from pnapp.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Is the app up, and can it reach its database?"""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
