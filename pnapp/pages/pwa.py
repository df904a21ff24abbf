"""The installable-app surface: manifest, service worker, offline shells and caching
headers."""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import gettext
from flask_login import current_user

from pnapp.assets import static_url
from pnapp.i18n import language_tag
from pnapp.security import CSP

bp = Blueprint("pwa", __name__)

# The page scripts, one per feature, grouped by the pages that use them. Every page loads
# "base"; a page may name one more group with {% set scripts = "session" %}. Deferred, they
# run in this order: outbox.js, then core.js, whose self.pn the others read.
PAGE_SCRIPTS = {
    "base": ("outbox", "core", "install", "outbox-view", "badge", "keep"),
    # The session pages, and the offline session shell that extends the new-session page.
    "session": ("heat", "rating-form", "recording"),
    "settings": ("push", "share", "passkeys"),
    # Log-in and the offer after sign-up: signing in with, or making, a passkey.
    "passkeys": ("passkeys",),
    # Pages that hand a link to someone: Copy, and the phone's share sheet.
    "share": ("share",),
    "sign-up": ("zone", "passkeys"),
    # The SMART Health Links viewer (/s): opens a link's encrypted files in the browser.
    "viewer": ("shl-viewer",),
}


def scripts_for(group: str | None = None) -> list[str]:
    """The static paths of every page's scripts, then those of `group`, in loading order."""
    names = PAGE_SCRIPTS["base"] + (PAGE_SCRIPTS[group] if group else ())
    return [f"js/{name}.js" for name in names]


# What the service worker keeps for a cold start without network: what /offline and
# /shell/session load. None of it is personal; push.js, zone.js and share.js only ever
# run online.
SHELL_ASSETS = ("css/app.css", *scripts_for("session"), "icons/logo.svg", "icons/icon-192.png")
PUBLIC_PAGES = ("/offline", "/shell/session")


@bp.after_app_request
def caching_headers(response: Response) -> Response:
    """Fingerprinted files live a year; pages with anyone's data are never stored."""
    if request.path.startswith("/static/") and request.args.get("v"):
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    elif request.path in PUBLIC_PAGES:
        response.headers["Cache-Control"] = "no-cache"
    elif response.mimetype in ("text/html", "application/json") and not request.path.startswith(
        ("/static/", "/api/openapi.json", "/manifest.webmanifest")
    ):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Vary"] = "Cookie"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest, in the reader's language: the name and description a phone
    shows when it offers to install pnapp, and the screenshots' labels."""
    icons = [
        {
            "src": f"/static/icons/{kind}-{size}.png",
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": purpose,
        }
        for kind, purpose in (("icon", "any"), ("maskable", "maskable"))
        for size in (192, 512)
    ]
    screenshots = [
        {
            "src": "/static/screenshots/narrow.png",
            "sizes": "780x1688",
            "type": "image/png",
            "form_factor": "narrow",
            "label": gettext("Rating pain before a massage"),
        },
        {
            "src": "/static/screenshots/wide.png",
            "sizes": "1280x800",
            "type": "image/png",
            "form_factor": "wide",
            "label": gettext("Sessions and the change they brought"),
        },
    ]
    body = {
        "id": "/",
        "name": gettext("pnapp: massage relief tracker"),
        "short_name": "pnapp",
        "description": gettext(
            "Rate pain and stress before and after each massage, keep one session a week, "
            "and see what helps your neuropathy."
        ),
        "start_url": "/?source=pwa",
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "background_color": "#f7f5f0",
        "theme_color": "#1d5c63",
        "lang": language_tag(),
        "categories": ["health", "medical", "lifestyle"],
        "icons": icons,
        "screenshots": screenshots,
        "shortcuts": shortcuts(),
    }
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json"
    )
    # Short-lived, and kept apart per language (the link sends the session cookie).
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response


def shortcuts() -> list[dict]:
    """What a long press on the installed app's icon offers, in the reader's language."""
    icon = [{"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png"}]
    return [
        {"name": name, "short_name": short, "url": url, "icons": icon}
        for name, short, url in (
            (gettext("Start a session"), gettext("Start"), "/sessions/new?source=shortcut"),
            (gettext("How do I feel now?"), gettext("Rate now"), "/sessions/after?source=shortcut"),
            (gettext("Progress"), gettext("Progress"), "/progress?source=shortcut"),
        )
    ]


@bp.get("/sw.js")
def service_worker():
    """The service worker, from the root so that it controls the whole app.

    Its text names the fingerprinted shell files and the language of the cached shell pages,
    so a change to either changes the worker and the browser offers the new version
    ("Update now"), which caches the shell again.
    """
    assets = [static_url(a) for a in SHELL_ASSETS]
    version = hashlib.sha256("|".join([*assets, language_tag()]).encode()).hexdigest()[:12]
    body = render_template(
        "sw.js",
        version=version,
        assets=assets + list(PUBLIC_PAGES),
        outbox_url=static_url("js/outbox.js"),
        csp=CSP,
    )
    return Response(body, mimetype="text/javascript", headers={"Cache-Control": "no-cache"})


@bp.get("/offline")
def offline():
    """Shown by the service worker when a page cannot be fetched."""
    return render_template("offline.html")


@bp.get("/shell/session")
def session_shell():
    """The rating form without anyone's data, for recording a session offline."""
    from pnapp.models import ADJUNCTS, AREAS, HEAT_ADJUNCTS

    return render_template(
        "sessions/shell.html",
        shell=True,
        form={"client_id": ""},
        errors={},
        areas=AREAS,
        adjuncts=ADJUNCTS,
        heat=HEAT_ADJUNCTS,
        therapists=(),
    )


@bp.app_context_processor
def shell_user():
    # Offline shells are the same for everyone: they must not carry the viewer's identity.
    # signed_out: a page only someone logged out sees (static/js/keep.js then forgets every
    # page kept on the phone); a shell says neither.
    public = request.path in PUBLIC_PAGES
    return {
        "signed_in": current_user.is_authenticated and not public,
        "signed_out": not current_user.is_authenticated and not public,
    }


@bp.app_context_processor
def page_scripts():
    return {"page_scripts": scripts_for}
