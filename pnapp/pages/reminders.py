"""Reminders as pages: the two-step set-up offered right after sign-up (and again from
Settings), e-mail as the road in one tap, and "Remind me tomorrow" from a notification."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from pnapp import labels
from pnapp.auth import safe_next
from pnapp.forms import to_json_shape
from pnapp.pages import form_page, patient_page, submit
from pnapp.reminders.badge import due_count
from pnapp.reminders.snooze import snooze, snoozed
from pnapp.schemas import MePatchSchema
from pnapp.timeutil import utcnow

bp = Blueprint("reminders", __name__)


@bp.app_context_processor
def badge_helper() -> dict:
    """app_badge(): what the app badge should show now, for the pages that change it."""
    return {"app_badge": lambda: due_count(current_user, utcnow())}


# The big time tiles of the first step: when massages usually happen; any other time can be
# typed in below them.
SETUP_TIMES = ("09:00", "11:00", "13:00", "15:00", "17:00", "19:00")


@bp.route("/reminders/setup", methods=["GET", "POST"])
@patient_page
def setup():
    """Step 1: "When do you usually have your massage?" (a weekday and a time)."""
    errors = {}
    if request.method == "POST":
        form = to_json_shape(request.form, ints=("weekday",), groups=("reminder",))
        reminder = form.get("reminder", {})
        if reminder.get("time") == "other":
            reminder["time"] = request.form.get("other_time", "")
        done, errors = submit(
            MePatchSchema(only=("reminder",)),
            {"reminder": {k: v for k, v in reminder.items() if k in ("weekday", "time")}},
            current_user.update,
            gettext("Saved. Now choose how we remind you."),
            url_for("reminders.setup_how"),
        )
        if done:
            return done
    return form_page("reminders/setup.html", errors, times=SETUP_TIMES)


@bp.get("/reminders/setup/how")
@patient_page
def setup_how():
    """Step 2: "How should we remind you?" This phone, else e-mail or the calendar."""
    return render_template(
        "reminders/how.html",
        summary=labels.reminder_summary(current_user),
        route=labels.reminder_route(current_user),
    )


@bp.post("/reminders/email")
@patient_page
def by_email():
    """Weekly reminders on, by e-mail too (turning reminder mail back on after an
    unsubscribe). A phone already chosen stays chosen: where it cannot be reached the ladder
    sends the mail alone."""
    channels = sorted({*current_user.reminder_channel_list, "email"}, key=("push", "email").index)
    current_user.update(
        {"reminder": {"enabled": True, "channels": channels}, "email_reminders": True}
    )
    if current_user.email_verified and not current_user.email_bounced_at:
        flash(gettext("Reminders are on. They will come by e-mail."))
    else:
        flash(
            gettext(
                "Reminders will come by e-mail once you confirm your address: open the link "
                "we e-mailed you."
            )
        )
    return redirect(safe_next(request.args.get("next")) or url_for("settings.settings"))


@bp.route("/reminders/snooze", methods=["GET", "POST"])
@patient_page
def snooze_page():
    """One more reminder 24 hours from now, once a week. The notification's button posts
    here from the service worker; the page (GET) is for phones that open the link instead."""
    now = utcnow()
    if request.method == "POST":
        due = snooze(current_user, now)
        if due is not None:
            flash(
                gettext(
                    "We will remind you again on %(time)s.",
                    time=labels.local_time(due, current_user.timezone, "weekday_time"),
                )
            )
        elif snoozed(current_user, now):
            flash(gettext("You already asked for one more reminder this week."))
        elif not current_user.reminder_enabled:
            flash(gettext("Reminders are off, so there is nothing to send tomorrow."))
        else:
            flash(gettext("No reminder can reach you yet: see Reminders in Settings."))
        if request.headers.get("X-Requested-With") == "pnapp-sw":
            return {"snoozed": due is not None}, 200
        return redirect(url_for("home.home"))
    return render_template("reminders/snooze.html", used=snoozed(current_user, now))
