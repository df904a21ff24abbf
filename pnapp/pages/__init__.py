"""The pages (HTML), one module per resource beside pnapp/api/: home, sessions, progress,
settings, auth, care, therapists, guide, pwa and health.

Every page works as a plain HTML form; static/js adds offline entry and push on top.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from pnapp import insights, labels, measures
from pnapp.assets import LOGO_URI, inline_loader, static_url
from pnapp.errors import Conflict, Invalid
from pnapp.forms import load

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


def submit(
    schema, form: dict, save: Callable[[dict], Any], done: str, then: str | Callable[[Any], str]
) -> tuple[Response | None, dict]:
    """A posted form's one road: checked by the API's schema, saved, then `done` said and
    the page at `then` shown (a URL, or a function of what save returned). A rule the domain
    refuses (a conflict, an impossible value) becomes the form's error, as the API makes it
    a 409 or 422. Returns the redirect, or None and the errors to show with the form again."""
    data, errors = load(schema, form)
    if not data:
        return None, errors
    try:
        saved = save(data)
    except (Conflict, Invalid) as err:
        return None, err.fields or {"_form": [err.message]}
    flash(done)
    return redirect(then(saved) if callable(then) else then), {}


def init_app(app: Flask) -> None:
    from pnapp.pages import (
        auth,
        calendar,
        care,
        guide,
        health,
        home,
        links,
        passkeys,
        progress,
        pwa,
        reminders,
        sessions,
        settings,
        therapists,
    )

    for module in (
        *(auth, passkeys, home, sessions, progress, settings, reminders, care, therapists),
        *(links, calendar, guide, pwa, health),
    ):
        app.register_blueprint(module.bp)
    # Globals (unlike context) reach imported macros too.
    app.jinja_env.globals.update(
        labels=labels,
        measures=measures,
        static_url=static_url,
        inline_loader=inline_loader,
        logo_uri=LOGO_URI,
        from_zero=insights.from_zero,
    )
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
