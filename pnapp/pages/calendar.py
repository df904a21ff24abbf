"""Calendar reminders: the feed at its secret address (no login: calendar apps have no
cookie), and Settings' download and new-address form (API: pnapp/api/calendar.py)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext
from flask_login import current_user

from pnapp import calendar
from pnapp.errors import NotFound
from pnapp.pages import patient_page
from pnapp.timeutil import utcnow

bp = Blueprint("calendar", __name__)


@bp.get("/calendar/<token>.ics")
def feed(token: str):
    """The weekly reminder for calendar apps that subscribe; 404 for any other address."""
    owner = calendar.feed_owner(token)
    if owner is None:
        raise NotFound()
    calendar.note_read(owner, utcnow())
    return calendar.ics_response(owner)


@bp.get("/settings/calendar.ics")
@patient_page
def download():
    """The weekly reminder as a file to import once."""
    return calendar.ics_response(current_user, download=True)


@bp.post("/settings/calendar/new-address")
@patient_page
def new_address():
    """A new secret address for the feed; the old one stops working at once."""
    calendar.new_feed_token(current_user)
    flash(
        gettext(
            "Your calendar has a new address. The old one no longer works: subscribe again "
            "with the new one, under “Add to my calendar” below."
        )
    )
    # To the top of Settings, where the message shows (an #anchor would scroll past it).
    return redirect(url_for("settings.settings"))


@bp.app_template_global()
def calendar_addresses() -> dict[str, str]:
    """For Settings' calendar card: the logged-in patient's feed addresses (made on first use)."""
    return calendar.addresses(current_user)
