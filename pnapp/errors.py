"""One error shape for the whole API (API.md), and friendly error pages for everything else."""

from __future__ import annotations

import json
import logging
import traceback

import marshmallow as ma
from flask import Flask, jsonify, render_template, request
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, InvalidRequestError
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError
from werkzeug.exceptions import HTTPException

from pnapp.i18n import N_, translate

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "too_large",
    415: "bad_request",
    422: "validation_error",
    429: "rate_limited",
}

MESSAGES = {
    400: N_("The request could not be read."),
    401: N_("Please log in."),
    403: N_("You are not allowed to do that."),
    404: N_("Not found."),
    405: N_("That method is not allowed here."),
    409: N_("That conflicts with what is stored."),
    410: N_("That link has expired or was already used."),
    413: N_("The request is too large."),
    415: N_("Send JSON with Content-Type: application/json."),
    422: N_("Some fields are not valid."),
    429: N_("Too many requests. Please wait a moment and try again."),
}


class _ErrorBody(ma.Schema):
    status = ma.fields.Integer(required=True)
    code = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    fields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()))


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(_ErrorBody, required=True)


class ApiError(Exception):
    """An error a client can act on; rendered in API.md's shape."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        *,
        code: str | None = None,
        fields: dict | None = None,
        headers: dict | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message or MESSAGES.get(status, N_("Something went wrong."))
        self.fields = fields
        self.headers = headers or {}


class DomainError(Exception):
    """A rule of the domain said no. Models and plain functions raise these, never an
    ApiError: how each kind looks over HTTP is decided once, in HTTP_STATUS below."""

    def __init__(self, message: str | None = None, *, fields: dict | None = None):
        super().__init__(message)
        self.message = message or MESSAGES[http_status(self)]
        self.fields = fields


class NotFound(DomainError):
    """Not there, or someone else's: the two must look alike."""


class Forbidden(DomainError):
    pass


class Conflict(DomainError):
    pass


class Invalid(DomainError):
    pass


class Gone(DomainError):
    """Used up or expired, like a one-time link."""


class TooMany(DomainError):
    def __init__(self, message: str | None = None, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


HTTP_STATUS = {
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    Invalid: 422,
    Gone: 410,
    TooMany: 429,
}


def http_status(err: DomainError) -> int:
    return next(status for kind, status in HTTP_STATUS.items() if isinstance(err, kind))


def as_api_error(err: DomainError) -> ApiError:
    headers = {"Retry-After": str(err.retry_after)} if isinstance(err, TooMany) else None
    return ApiError(http_status(err), err.message, fields=err.fields, headers=headers)


def flatten(messages, prefix: str = "") -> dict[str, list[str]]:
    """{"before": {"pain": ["..."]}} -> {"before.pain": ["..."]}, the shape API.md shows."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten(value, name))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out[prefix or "_schema"] = list(messages)
    elif isinstance(messages, list):
        for item in messages:
            out.update(flatten(item, prefix))
    else:
        out[prefix or "_schema"] = [str(messages)]
    return out


def route() -> str:
    """The route's pattern (/calendar/<token>.ics), never the path: a path can carry a
    secret (a calendar address, an invitation) that has no place in a log."""
    return request.url_rule.rule if request.url_rule else "(no route)"


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def error_response(err: ApiError):
    body = {"status": err.status, "code": err.code, "message": translate(err.message)}
    if err.fields is not None:
        body["fields"] = {
            name: [translate(m) for m in messages] for name, messages in err.fields.items()
        }
    response = jsonify({"error": body})
    response.status_code = err.status
    response.headers.update(err.headers)
    return response


def from_http_exception(exc: HTTPException) -> ApiError:
    status = exc.code or 500
    if isinstance(exc, CSRFError):
        return ApiError(
            400,
            N_("The security token is missing or wrong. Reload and try again."),
            code="csrf_failed",
        )
    data = getattr(exc, "data", None) or {}
    if status == 422 and "messages" in data:
        # webargs puts messages under the location ("json", "query"); the location is noise.
        messages = data["messages"]
        if isinstance(messages, dict) and len(messages) == 1:
            ((location, inner),) = messages.items()
            if location in ("json", "query", "querystring", "form"):
                messages = inner
        return ApiError(422, fields=flatten(messages))
    if status == 400 and "messages" in data:
        return ApiError(400, N_("The request body is not valid JSON."))
    headers = dict(data.get("headers") or {})
    if status == 429 and exc.get_headers():
        headers.update({k: v for k, v in exc.get_headers() if k == "Retry-After"})
    return ApiError(status, data.get("message"), headers=headers)


def refuse_unreadable_json() -> None:
    """An API body that JSON cannot read is a 400 before any view reads it. Our parser
    (webargs) turns malformed JSON into a 400 itself, but not JSON nested thousands deep
    (RecursionError) or a number of more than 4300 digits (Python's int limit, ValueError):
    those became 500s, before login too. Bodies are bounded by MAX_CONTENT_LENGTH, so
    reading one twice costs little."""
    if not (is_api_request() and request.is_json):
        return
    body = request.get_data(cache=True)
    if not body:
        return  # no body at all: the view decides whether it needs one
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        raise ApiError(400, N_("The request body is not valid JSON.")) from None


def error_page(status: int, message):
    return render_template("error.html", status=status, message=translate(message)), status


def roll_back() -> None:
    """After a failed statement the database session refuses every query until rolled back,
    and the error page's own (the person's language, their name) would fail with it,
    turning a clear answer into Flask's bare HTML 500. An account deleted meanwhile is
    logged out, so the page is written for nobody rather than for a missing row."""
    from pnapp.extensions import db  # extensions imports this module

    db.session.rollback()
    user = current_user._get_current_object()
    if user.is_authenticated:
        try:
            db.session.refresh(user)
        except InvalidRequestError:
            logout_user()


def refers_to_a_missing_row(exc: IntegrityError) -> bool:
    """A foreign key refused: what the row points at was deleted by another request."""
    orig = exc.orig
    return getattr(orig, "sqlstate", None) == "23503" or "FOREIGN KEY constraint" in str(orig)


def where(exc: BaseException) -> str:
    """The traceback's frames without the exception's text: a database's message can quote
    the row it refused (PostgreSQL's "Failing row contains (...)", a note, a rating)."""
    return "".join(traceback.format_tb(exc.__traceback__)).rstrip()


def register(app: Flask) -> None:
    app.before_request(refuse_unreadable_json)

    @app.errorhandler(ApiError)
    def handle_api_error(err: ApiError):
        if is_api_request():
            return error_response(err)
        return error_page(err.status, err.message)

    @app.errorhandler(DomainError)
    def handle_domain_error(err: DomainError):
        if is_api_request():
            return error_response(as_api_error(err))
        return error_page(http_status(err), err.message)

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException):
        err = from_http_exception(exc)
        if is_api_request():
            return error_response(err)
        message = err.message
        if err.code == "csrf_failed":
            message = N_(
                "This page was open too long or came from elsewhere. "
                "Please go back, reload and try again."
            )
        return error_page(err.status, message)

    @app.errorhandler(StaleDataError)
    @app.errorhandler(ObjectDeletedError)
    def handle_deleted_meanwhile(exc: Exception):
        # A write raced a delete of the same row (PostgreSQL lets both start): the row is
        # gone, as it would be for a request that came a moment later.
        roll_back()
        log.info("row deleted meanwhile on %s %s", request.method, route())
        return handle_api_error(ApiError(404))

    @app.errorhandler(IntegrityError)
    def handle_integrity(exc: IntegrityError):
        if not refers_to_a_missing_row(exc):
            return handle_unexpected(exc)
        roll_back()
        log.info("insert refers to a row deleted meanwhile on %s %s", request.method, route())
        return handle_api_error(ApiError(409))

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return handle_http(exc)
        roll_back()
        log.error(
            "unhandled %s on %s %s\n%s",
            type(exc).__name__,
            request.method,
            route(),
            where(exc),
        )
        err = ApiError(
            500,
            N_("Something went wrong on our side. Your data is safe; please try again."),
            code="server_error",
        )
        if is_api_request():
            return error_response(err)
        return error_page(500, err.message)
