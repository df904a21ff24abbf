"""The JSON API under /api/v1 (API.md), one module per resource."""

from __future__ import annotations

from functools import wraps

from flask import Flask, render_template, request
from flask_login import current_user

from pnapp.errors import ApiError, ErrorSchema
from pnapp.extensions import api

PREFIX = "/api/v1"
ERROR = ErrorSchema


def init_app(app: Flask) -> None:
    from pnapp.api import auth, exports, progress, push, sessions, shares, therapists

    for module in (auth, sessions, progress, shares, therapists, push, exports):
        api.register_blueprint(module.bp)
    api.spec.components.security_scheme(
        "session", {"type": "apiKey", "in": "cookie", "name": app.config["SESSION_COOKIE_NAME"]}
    )

    @app.get("/api/docs")
    def api_docs():
        """A readable page of the OpenAPI document, with nothing loaded from elsewhere."""
        spec = api.spec.to_dict()
        return render_template("api_docs.html", spec=spec)

    @app.before_request
    def require_json_bodies():
        """A body on an API write must be JSON: a form post or plain text is a 400."""
        if (
            request.path.startswith(PREFIX)
            and request.method in ("POST", "PUT", "PATCH", "DELETE")
            and request.content_length
            and not request.is_json
        ):
            raise ApiError(400, "Send JSON with Content-Type: application/json.")


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            raise ApiError(401)
        return view(*args, **kwargs)

    return wrapper


def patient_required(view):
    """Only a logged-in patient may use this endpoint (on their own records)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            raise ApiError(401)
        if not current_user.is_patient:
            raise ApiError(403, "Only a patient can do this.")
        return view(*args, **kwargs)

    return wrapper
