"""One log line per request for operators to search: method, route template, status,
duration and a request id (also sent back as X-Request-Id), as JSON with PNAPP_LOG_JSON.

Never the path itself (it carries invitation tokens and record ids), the query, a body, a
cookie or who asked: nothing that names a person or what they recorded.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, Response, g, request

from pnapp.metrics import UNMATCHED

log = logging.getLogger("pnapp.request")

# An id from the proxy (nginx's $request_id is 32 hex digits) is kept when it looks sane.
SANE_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
FIELDS = ("request_id", "method", "route", "status", "duration_ms")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            # A request's fields stand on their own; the text line repeats them.
            "message": "request" if hasattr(record, "request_id") else record.getMessage(),
        }
        line.update({k: getattr(record, k) for k in FIELDS if hasattr(record, k)})
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, separators=(",", ":"))


JsonFormatter.converter = time.gmtime


def init_app(app: Flask) -> None:
    _configure_logging(bool(app.config.get("LOG_JSON")))
    app.before_request(_begin)
    app.after_request(_finish)


def _configure_logging(as_json: bool) -> None:
    """Log lines go to stderr (gunicorn's and systemd's journal), at INFO, when nothing else
    has set up logging in this process (a test runner, an embedding program, logging.conf)."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if as_json
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def _begin() -> None:
    given = request.headers.get("X-Request-Id", "")
    g.request_id = given if SANE_ID.fullmatch(given) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    request_id = g.get("request_id") or uuid.uuid4().hex
    response.headers["X-Request-Id"] = request_id
    started = g.get("request_started")
    fields = {
        "request_id": request_id,
        "method": request.method[:10],
        "route": request.url_rule.rule if request.url_rule is not None else UNMATCHED,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
    }
    log.info(" ".join(f"{k}={fields[k]}" for k in FIELDS), extra=fields)
    return response
