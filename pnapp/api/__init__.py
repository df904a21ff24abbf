"""The JSON API under /api/v1 (API.md), one module per resource."""

from __future__ import annotations

from functools import wraps
from http import HTTPStatus

from apispec import BasePlugin
from flask import Flask, render_template, request
from flask_login import current_user
from flask_smorest import Blueprint
from werkzeug.routing import IntegerConverter

from pnapp.errors import ApiError, ErrorSchema
from pnapp.extensions import api, limiter
from pnapp.i18n import N_
from pnapp.schemas import MAX_ID

PREFIX = "/api/v1"
ERROR = ErrorSchema
WRITES = ("post", "put", "patch", "delete")


class ApiBlueprint(Blueprint):
    def arguments(self, schema, *args, **kwargs):
        # An instance, made once: given a class, webargs makes a new schema (and its nested
        # ones, deep-copying their fields) for every request, a sixth of a small write's time.
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)


def resource(name: str, description: str, path: str = "") -> Blueprint:
    """The blueprint of one API module: endpoints named api_<name>.*, paths under /api/v1,
    and `description` as its heading in the OpenAPI document."""
    return ApiBlueprint(
        f"api_{name}", f"pnapp.api.{name}", url_prefix=PREFIX + path, description=description
    )


class IdConverter(IntegerConverter):
    """`<int:...>` in this app's paths is always a record's id, so it runs from 1 to MAX_ID:
    another number names no record, the route does not match and the answer is the usual 404,
    instead of a query the database fails on (PostgreSQL's integer ends at 2**31 - 1). The
    OpenAPI document shows the bounds, as it does for any integer converter."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class WriteErrors(BasePlugin):
    """Documents, once for every write, the two answers any POST, PUT, PATCH or DELETE may get
    before its view runs: 400 (CSRF token missing or wrong, body not JSON) and 413 (a body
    over MAX_CONTENT_LENGTH)."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            if method in WRITES:
                responses = operation.setdefault("responses", {})
                responses.setdefault(400, "BAD_REQUEST")
                responses.setdefault(413, "REQUEST_ENTITY_TOO_LARGE")


class AccessErrors(BasePlugin):
    """Documents the answers `requires` gives before its view runs: 401, 403 when a role is
    required, and 404 when the path names a record (another person's is never revealed, and
    an id out of range names nothing); and the 429 of a view that is `limited`. A view's own
    note on the same status is kept."""

    def __init__(self, app: Flask):
        self.app = app

    def operation_helper(self, path=None, operations=None, rule=None, **kwargs):
        view = self.app.view_functions.get(rule.endpoint)
        statuses = {}
        if hasattr(view, "required_role"):
            statuses = dict.fromkeys(
                [401] + [403] * (view.required_role is not None) + [404] * bool(rule.arguments)
            )
        if hasattr(view, "too_many"):
            statuses[429] = view.too_many
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            for status, description in statuses.items():
                responses.setdefault(
                    status,
                    {
                        "description": description or HTTPStatus(status).phrase,
                        "content": {"application/json": {"schema": ERROR}},
                    },
                )


def null_only_when_nullable(converter, field, ret, **kwargs) -> dict:
    """apispec writes a nullable nested schema for OpenAPI 3.0 as `anyOf: [{"type": "object",
    "nullable": true}, {"$ref": ...}]`, whose first branch admits any object at all, `{}`
    included; `enum: [null]` narrows that branch to what is meant: null."""
    for branch in ret.get("anyOf", []):
        if branch == {"type": "object", "nullable": True}:
            branch["enum"] = [None]
    return {}


def init_app(app: Flask) -> None:
    from pnapp.api import (
        auth,
        calendar,
        caring,
        exports,
        links,
        passkeys,
        progress,
        push,
        sessions,
        shares,
        therapists,
    )

    # Every status an operation can answer is listed with it; a catch-all "default" response
    # would let the document say nothing about the statuses clients must handle.
    api.DEFAULT_ERROR_RESPONSE_NAME = None
    # For every route, the pages' too: blueprints' rules are bound when registered, after this.
    app.url_map.converters["int"] = IdConverter
    plugin = WriteErrors()
    plugin.init_spec(api.spec)
    api.spec.plugins.append(plugin)
    # Before the marshmallow plugin, which turns the error schema into a reference.
    access = AccessErrors(app)
    access.init_spec(api.spec)
    api.spec.plugins.insert(api.spec.plugins.index(api.ma_plugin), access)
    api.ma_plugin.converter.add_attribute_function(null_only_when_nullable)
    for module in (
        auth,
        passkeys,
        sessions,
        progress,
        shares,
        caring,
        therapists,
        push,
        exports,
        calendar,
        links,
    ):
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
            raise ApiError(400, N_("Send JSON with Content-Type: application/json."))


def limited(limit, description: str = "Too many attempts; see Retry-After"):
    """A rate limit (counted in Redis when configured, so it holds across workers and
    machines), documented as the view's 429 by AccessErrors. `limit` is a limit string
    for the caller's address, or a decorator of extensions.py that limits otherwise."""

    def decorator(view):
        wrapper = (limit if callable(limit) else limiter.limit(limit))(view)
        wrapper.too_many = description
        return wrapper

    return decorator


ONLY = {
    "patient": N_("Only a patient can do this."),
    "caregiver": N_("Only a caregiver can do this."),
}


def requires(role: str | None = None):
    """Only a logged-in user (401), of this role when one is named (403), may use the view.
    AccessErrors documents both answers from the mark this leaves on the view, and
    functools.wraps carries the OpenAPI notes of the decorators below it to the wrapper."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                raise ApiError(401)
            if role is not None and current_user.role != role:
                raise ApiError(403, ONLY[role])
            return view(*args, **kwargs)

        wrapper.required_role = role
        return wrapper

    return decorator
