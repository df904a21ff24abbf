"""The installable-app surface: manifest, service worker, offline page, health check."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, send_from_directory
from sqlalchemy import text

from pnapp.extensions import db

bp = Blueprint("pwa", __name__)


@bp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest."""
    response = send_from_directory(
        current_app.static_folder,
        "manifest.webmanifest",
        mimetype="application/manifest+json",
        max_age=3600,
    )
    return response


@bp.get("/sw.js")
def service_worker():
    """The service worker, from the root so that it controls the whole app."""
    response = send_from_directory(
        current_app.static_folder, "js/sw.js", mimetype="text/javascript", max_age=0
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/offline")
def offline():
    """Shown by the service worker when a page cannot be fetched."""
    return render_template("offline.html")


@bp.get("/healthz")
def healthz():
    """Is the app up, and can it reach its database?"""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
