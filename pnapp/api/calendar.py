"""Calendar reminders (API.md, Calendar): the addresses of the patient's weekly reminder feed,
a new secret address, and the reminder as a file to import once. The feed itself is served
without a login, at its secret address (pnapp/pages/calendar.py)."""

from __future__ import annotations

from flask import url_for
from flask_login import current_user
from flask_smorest import Blueprint

from pnapp import calendar
from pnapp.api import PREFIX, requires
from pnapp.schemas import CalendarSchema

bp = Blueprint(
    "api_calendar", __name__, url_prefix=f"{PREFIX}/calendar", description="Calendar reminders"
)


def links() -> dict[str, str]:
    return calendar.addresses(current_user) | {"download_url": url_for("api_calendar.download")}


@bp.get("")
@requires("patient")
@bp.response(200, CalendarSchema)
def addresses():
    """The feed's secret address (made on first use), as https:// and webcal://."""
    return links()


@bp.post("/token")
@requires("patient")
@bp.response(201, CalendarSchema)
def new_token():
    """A new secret address; the old one answers 404 from now on."""
    calendar.new_feed_token(current_user)
    return links()


@bp.get("/reminder.ics")
@requires("patient")
@bp.response(
    200,
    {"type": "string"},
    content_type="text/calendar",
    description="The weekly reminder as an iCalendar file, to import once",
    headers={
        "Content-Disposition": {
            "description": 'attachment; filename="pnapp-reminder.ics"',
            "schema": {"type": "string"},
        }
    },
)
def download():
    """The weekly reminder as a file to import once (it will not follow later changes)."""
    return calendar.ics_response(current_user, download=True)
