"""The health check a load balancer asks (is the app up, can it reach its database?), and
the deeper one a monitor asks (is a scheduler passing, are reminders going out on time?)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy import text

from pnapp.errors import ApiError, error_response
from pnapp.extensions import db
from pnapp.metrics import from_operator

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Up and reaching the database; with ?deep=1 (operators only) the scheduler and the
    reminder lag too, 503 when either is late."""
    deep = request.args.get("deep") == "1"
    if deep and not from_operator():
        return error_response(ApiError(404))
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    if not deep:
        return jsonify(status="ok", database="ok")
    from pnapp.operations import deep_health

    ok, details = deep_health()
    db.session.commit()
    return jsonify(status="ok" if ok else "error", database="ok", **details), 200 if ok else 503
