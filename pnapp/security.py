"""Security headers on every response, no session cookie on static files, and trusting a
proxy only when told to."""

from __future__ import annotations

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from pnapp.assets import LOADER_CSP

# Nothing from elsewhere: scripts, styles, fonts and images are ours. One script is inline,
# the loader of the others (templates/_loader.js), allowed by its hash alone.
CSP = "; ".join(
    (
        "default-src 'self'",
        f"script-src 'self' {LOADER_CSP}",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
    "interest-cohort=()",
}


# Endpoints whose answers are the same whoever asks (and what monitors and scrapers ask for):
# no session cookie is written on them.
COOKIELESS = (
    "static",
    "calendar.feed",
    "metrics.metrics",
    "health.healthz",
    "api_links.manifest",
    "api_links.link_file",
)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, kept off static files: they are the same for everyone and may be
    stored for a year, by proxies too. Otherwise each would carry a freshly signed copy of
    the logged-in person's cookie (a permanent session is signed again on every response)
    and "Vary: Cookie", which the next second's cookie no longer matches, so the browser
    asked for every cached file again when the service worker stored it. Calendar feeds
    neither: their secret address is their key, and calendar apps have no cookie to vary on."""

    def save_session(self, app: Flask, session, response: Response) -> None:
        if request.endpoint not in COOKIELESS:
            super().save_session(app, session, response)

    def should_set_cookie(self, app: Flask, session) -> bool:
        # A changed session is always saved. An unchanged one is signed again (its 60 days
        # start over) on reads, every page among them; not on an API write, the busiest
        # request of all: it costs a signature and ~200 bytes, and a person who writes
        # opens pages too.
        if session.modified:
            return True
        return super().should_set_cookie(app, session) and (
            request.method in ("GET", "HEAD") or not request.path.startswith("/api/")
        )


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    if app.config.get("TRUST_PROXY"):
        # Behind one reverse proxy that sets X-Forwarded-For/-Proto/-Host: believe it.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    @app.after_request
    def security_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        return response
