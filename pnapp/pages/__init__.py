"""The pages (HTML), one module per resource beside pnapp/api/: home, sessions, progress,
settings, auth, care, therapists, guide, pwa and health.

Every page works as a plain HTML form; static/js adds offline entry and push on top.
"""

from __future__ import annotations

from functools import wraps

from flask import Flask, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from pnapp import labels, measures
from pnapp.assets import static_url

WEEK_CHOICES = (12, 26, 52)


def patient_page(view):
    @login_required
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_patient:
            return redirect(url_for("care.care"))
        return view(*args, **kwargs)

    return wrapper


def form_page(template: str, errors: dict, status: int = 422, **context):
    """A page with a form: 200 when clean; with errors, their status (422, or 429 while
    passwords pause, so a script sees it is being slowed)."""
    if not errors:
        status = 200
    elif status != 429:
        status = 422
    return render_template(template, errors=errors, **context), status


def init_app(app: Flask) -> None:
    from pnapp.pages import (
        auth,
        care,
        guide,
        health,
        home,
        progress,
        pwa,
        sessions,
        settings,
        therapists,
    )

    for module in (auth, home, sessions, progress, settings, care, therapists, guide, pwa, health):
        app.register_blueprint(module.bp)
    # Globals (unlike context) reach imported macros too.
    app.jinja_env.globals.update(labels=labels, measures=measures, static_url=static_url)
    app.jinja_env.filters["decimal"] = labels.decimal
    app.jinja_env.filters["date_words"] = labels.date_words

    @app.context_processor
    def template_helpers() -> dict:
        tz = current_user.timezone if current_user.is_authenticated else "UTC"
        return {
            "local": lambda value, fmt="datetime": labels.local_time(value, tz, fmt),
            "mail_notice": mail_notice(),
        }


def mail_notice() -> str | None:
    """What the banner on every page asks of the logged-in person about their address:
    "bouncing" (mail to it came back: check it), "unconfirmed" (open the link, or have it
    sent again), or nothing."""
    if not current_user.is_authenticated or request.endpoint == "auth.verify_email":
        return None  # (that page is the answer to the banner)
    if current_user.email_bounced_at is not None:
        return "bouncing"
    return None if current_user.email_verified else "unconfirmed"
