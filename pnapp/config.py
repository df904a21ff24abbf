"""Configuration: defaults in code, overrides from PNAPP_* environment variables."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask


class Defaults:
    # A database server may drop idle connections (a restart, a proxy): database.py tests
    # a connection that sat idle before lending it, not every one (pool_pre_ping's round
    # trip on every request).
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    MAX_CONTENT_LENGTH = 64 * 1024
    # Threads sending a scheduler pass's reminders. Sixteen keep 2 cores busy with a push
    # service nearby; far ones (a round trip of ~100 ms) want more: bench/README.md.
    SEND_THREADS = 16
    PERMANENT_SESSION_LIFETIME = timedelta(days=60)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "pnapp_session"
    # An offline entry may be sent hours after its page was loaded: the token lives as long
    # as the login session rather than expiring after an hour.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_SSL_STRICT = True

    API_TITLE = "pnapp"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"

    # Hosts a push subscription endpoint may point at (PLATFORM.md); "*." matches subdomains.
    PUSH_ALLOWED_HOSTS = (
        "fcm.googleapis.com,*.push.apple.com,updates.push.services.mozilla.com,*.notify.windows.com"
    )
    COMPRESS_MIMETYPES = [
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/manifest+json",
        "image/svg+xml",
    ]
    COMPRESS_MIN_SIZE = 256
    # Where notifications link to; scheduled jobs have no request to learn it from.
    PUBLIC_URL = "http://127.0.0.1:5000"
    # The contact push services may use about our messages (RFC 8292); must be real.
    VAPID_SUBJECT = "mailto:admin@pnapp.example"
    VAPID_PRIVATE_KEY = None
    # E-mail (API.md "Mail"): PNAPP_MAIL_SERVER unset writes .eml files to instance/mail/.
    MAIL_SERVER = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_FROM = "pnapp <reminders@pnapp.example>"
    AFTER_NUDGE_HOURS = 3
    SCHEDULER_INTERVAL_SECONDS = 60
    ENV = "development"
    BABEL_TRANSLATION_DIRECTORIES = str(Path(__file__).parent / "translations")
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_KEY_PREFIX = "pnapp"
    # If Redis goes away, count in each process until it is back rather than fail requests.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    # Set PNAPP_TRUST_PROXY=true behind exactly one reverse proxy (X-Forwarded-*).
    TRUST_PROXY = False
    # Addresses and networks that may read /metrics and /healthz?deep=1, comma-separated
    # ("127.0.0.1,10.0.0.0/8"); empty: nobody (404).
    METRICS_ALLOW = ""
    # /healthz?deep=1 answers 503 when no scheduler pass has succeeded for this long, or
    # when a due reminder has waited longer than the lag limit.
    HEALTH_SCHEDULER_LATE_SECONDS = 300
    HEALTH_LAG_SECONDS = 900
    # One JSON object per log line instead of plain text.
    LOG_JSON = False


def database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{Path(instance_path) / 'pnapp.sqlite3'}"
    # Accept the usual postgres:// spellings and use psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def configure(app: Flask, overrides: dict | None) -> None:
    app.config.from_object(Defaults)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(app.instance_path)
    app.config.from_prefixed_env("PNAPP")
    if overrides:
        app.config.update(overrides)
    explicit = "PNAPP_SESSION_COOKIE_SECURE" in os.environ or "SESSION_COOKIE_SECURE" in (
        overrides or {}
    )
    # SQL parameters (ratings, notes, e-mail addresses) never reach a log or an error text.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
        "hide_parameters": True,
    }
    if app.config["ENV"] == "production" and not (
        "PNAPP_PUBLIC_URL" in os.environ or "PUBLIC_URL" in (overrides or {})
    ):
        # Every link that leaves the server (invitations, notifications) is built on it.
        raise RuntimeError("PNAPP_PUBLIC_URL is not set: links would point at 127.0.0.1.")
    if app.config["ENV"] == "production" and not explicit:
        # Production runs behind HTTPS: the login cookie never travels in clear text.
        app.config["SESSION_COOKIE_SECURE"] = True
    app.json.sort_keys = False
    # The instance folder holds the keys and, by default, the database: this user's alone,
    # even when an older version or a tool made it with the umask's 0755.
    instance = Path(app.instance_path)
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    if instance.stat().st_uid == os.getuid():  # a folder an administrator owns is theirs
        instance.chmod(0o700)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app)


def _instance_secret(app: Flask) -> str:
    """Read the secret key kept in the instance folder, making it on first start.

    In production a missing key is an error: a key made per machine would log everyone out
    whenever a request lands on another machine.
    """
    path = Path(app.instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    if app.config["ENV"] == "production":
        raise RuntimeError("PNAPP_SECRET_KEY is not set and the instance folder holds no key.")
    tmp = path.with_name(f".secret_key.{os.getpid()}")
    tmp.write_text(secrets.token_urlsafe(48))
    tmp.chmod(0o600)
    try:
        # link() is atomic and fails when the key exists: when several workers start at
        # once, one key wins and every worker reads that one.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text().strip()
