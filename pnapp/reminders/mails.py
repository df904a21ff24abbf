"""The mails: for each claimed e-mail delivery, the message as it is to be sent, made at send
time from the person's state then (address, language, the link's token), so that nothing
secret waits in the deliveries table.

Every mail is short, in the recipient's language, with a plain-text part, a simple HTML
part and one big link to the page it is about, on PUBLIC_URL. A page behind a login asks
for it first and comes back (the login page's `next`). No health data: e-mail is not end to
end encrypted, so no ratings, notes or diagnoses, nothing beyond "your massage".
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import select

from pnapp.assets import public_url
from pnapp.extensions import db
from pnapp.i18n import DEFAULT, LANGUAGES, N_, user_language
from pnapp.models import User
from pnapp.models.delivery import PASSWORD_RESET, REMOVE_PASSKEY, SIGN_IN_LINK, VERIFY_EMAIL
from pnapp.models.encouragement import PRESETS, Encouragement
from pnapp.models.recovery import (
    link_token,
    needs_verifying,
    passkeys_state,
    reset_period,
    sign_in_period,
)
from pnapp.reminders.caring import digest_lines
from pnapp.reminders.channels import email
from pnapp.reminders.payloads import (
    AFTER_NUDGE,
    DIGEST,
    ENCOURAGEMENT,
    HEADS_UP,
    MISSED_WEEK,
    WEEKLY,
)


@dataclass(frozen=True)
class Words:
    subject: str
    lines: tuple[str, ...]
    button: str


WORDS = {
    WEEKLY: Words(
        N_("Time for your weekly massage check-in"),
        (N_("It is time to record this week's massage: how you feel before it, then after."),),
        N_("Record my massage"),
    ),
    AFTER_NUDGE: Words(
        N_("How do you feel after your massage?"),
        (N_("Your massage is over. Take a minute to rate how you feel now."),),
        N_("Rate how I feel now"),
    ),
    MISSED_WEEK: Words(
        N_("%(name)s has no session recorded for last week."),
        (N_("You can see how %(name)s is doing in pnapp."),),
        N_("Open %(name)s's page"),
    ),
    HEADS_UP: Words(
        N_("%(name)s has no massage recorded yet this week"),
        (
            N_(
                "The week is not over yet. If you can, help %(name)s book a massage or "
                "offer a ride."
            ),
        ),
        N_("Open %(name)s's page"),
    ),
    DIGEST: Words(N_("This week with %(name)s"), (), N_("Open %(name)s's page")),
    ENCOURAGEMENT: Words(
        N_("%(name)s sent you a kind word"), (N_("%(name)s says:"),), N_("Open pnapp")
    ),
    VERIFY_EMAIL: Words(
        N_("Confirm your e-mail address for pnapp"),
        (
            N_(
                "Please confirm that this address is yours. Then pnapp can e-mail you "
                "reminders, and help you back in if you forget your password."
            ),
            N_(
                "The link works for 48 hours. If you did not sign up for pnapp, ignore this e-mail."
            ),
        ),
        N_("Confirm my address"),
    ),
    PASSWORD_RESET: Words(
        N_("Set a new password for pnapp"),
        (
            N_(
                "Someone asked to set a new password for your pnapp account. If it was you, "
                "use the link below."
            ),
            N_(
                "The link works once, for one hour. If it was not you, ignore this e-mail: "
                "your password stays as it is."
            ),
        ),
        N_("Set a new password"),
    ),
    SIGN_IN_LINK: Words(
        N_("Your link to sign in to pnapp"),
        (
            N_(
                "Someone asked to sign in to pnapp with this address. If it was you, use the "
                "link below: no password needed."
            ),
            N_(
                "The link works once, for 15 minutes. If it was not you, ignore this e-mail: "
                "nobody can sign in without it."
            ),
        ),
        N_("Sign me in"),
    ),
    REMOVE_PASSKEY: Words(
        N_("Remove your passkey from pnapp"),
        (
            N_(
                "Someone asked to remove your last passkey from pnapp. If it was you, use the "
                "link below; you will still log in with your password or an e-mailed link."
            ),
            N_(
                "The link works once, for one hour. If it was not you, ignore this e-mail: "
                "your passkey stays."
            ),
        ),
        N_("Remove my passkey"),
    ),
}
REMINDERS = (WEEKLY, AFTER_NUDGE, MISSED_WEEK, HEADS_UP, DIGEST, ENCOURAGEMENT)
# Mails about a patient, to a caregiver: the period starts with the patient's id.
ABOUT_PATIENT = (MISSED_WEEK, HEADS_UP, DIGEST)
GREETING = N_("Hello %(name)s,")
CHANGE_REMINDERS = N_("Change when reminders come:")
STOP_REMINDERS = N_("Stop reminder e-mails:")
SENT_BY = N_("Sent by pnapp because this address was used there:")


def jobs(rows: list) -> tuple[list[tuple[object, email.Message]], dict[int, str]]:
    """(row, message) for each claimed e-mail delivery that is still wanted, and why the
    others are not: reminders go only to a confirmed address that is not bouncing and was
    not unsubscribed; a verification link only while the address needs one; a reset link
    only for the newest request (a sign-in link, too, only to a confirmed address)."""
    users = {
        u.id: u
        for u in db.session.scalars(select(User).where(User.id.in_({r.user_id for r in rows})))
    }
    patient_ids = {int(r.period.split(":", 1)[0]) for r in rows if r.kind in ABOUT_PATIENT}
    names = {}
    if patient_ids:
        found = select(User.id, User.display_name).where(User.id.in_(patient_ids))
        names = {row.id: row.display_name for row in db.session.execute(found)}
    ready, unwanted = [], {}
    for row in rows:
        user = users.get(row.user_id)
        why = _unwanted(row, user)
        if why:
            unwanted[row.id] = why
            continue
        values = (
            {"name": names.get(int(row.period.split(":", 1)[0]), "")}
            if (row.kind in ABOUT_PATIENT)
            else {}
        )
        extra: list[tuple[str, dict]] = []
        if row.kind == DIGEST:
            with force_locale(LANGUAGES.get(user_language(user), LANGUAGES[DEFAULT])):
                extra = digest_lines(row, user)
            if extra is None:
                unwanted[row.id] = "share ended"
                continue
        elif row.kind == ENCOURAGEMENT:
            found = db.session.get(Encouragement, int(row.period.removeprefix("encouragement-")))
            if found is None:
                unwanted[row.id] = "share ended"
                continue
            values = {"name": found.caregiver.display_name}
            extra = [(PRESETS[found.message], {})]
        message = render(row.kind, user, _link(row, user), extra=extra, **values)
        ready.append((row, message))
    return ready, unwanted


def _unwanted(row, user: User | None) -> str | None:
    if user is None:
        return "account deleted"
    if row.kind in REMINDERS:
        if not user.email_reminders:
            return "unsubscribed"
        if not user.email_verified:
            return "address not confirmed"
        if user.email_bounced_at is not None:
            return "address bouncing"
    elif row.kind == VERIFY_EMAIL and not needs_verifying(user):
        return "already confirmed"
    elif row.kind == PASSWORD_RESET and row.period != reset_period(user):
        return "superseded"
    elif row.kind == REMOVE_PASSKEY and len(passkeys_state(user)) != 1:
        return "not the last passkey"
    elif row.kind == SIGN_IN_LINK:
        if row.period != sign_in_period(user):
            return "superseded"
        if needs_verifying(user):
            return "address not confirmed"
    return None


def _link(row, user: User) -> str:
    """The page the mail is about; reset and verification links carry a fresh token."""
    if row.kind == WEEKLY:
        return public_url("sessions.new_session")
    if row.kind == AFTER_NUDGE:
        session_id = int(row.period.removeprefix("session-"))
        return public_url("sessions.session_detail", session_id=session_id, _anchor="after")
    if row.kind in ABOUT_PATIENT:
        return public_url("care.care_patient", patient_id=int(row.period.split(":", 1)[0]))
    if row.kind == ENCOURAGEMENT:
        return public_url("home.home")
    if row.kind == VERIFY_EMAIL:
        return public_url("auth.verify_email", token=link_token("verify-email", user))
    if row.kind == SIGN_IN_LINK:
        return public_url("auth.sign_in_by_link", token=link_token("sign-in", user))
    if row.kind == REMOVE_PASSKEY:
        return public_url("passkeys.remove_by_link", token=link_token("remove-passkey", user))
    return public_url("auth.reset_password", token=link_token("password-reset", user))


def render(
    kind: str, user: User, link: str, extra: list[tuple[str, dict]] = (), **values
) -> email.Message:
    """The message, in the person's language; `extra` lines (msgid, values) follow the
    kind's own."""
    language = user_language(user)
    words = WORDS[kind]
    reminder = kind in REMINDERS
    unsubscribe = (
        public_url("settings.unsubscribe", token=link_token("unsubscribe", user))
        if reminder
        else None
    )
    with force_locale(LANGUAGES.get(language, LANGUAGES[DEFAULT])):
        subject = gettext(words.subject, **values)
        if reminder:
            settings = public_url("settings.settings", _anchor="reminder")
            footer = [(gettext(CHANGE_REMINDERS), settings), (gettext(STOP_REMINDERS), unsubscribe)]
        else:
            footer = [(gettext(SENT_BY), public_url("home.home"))]
        context = {
            "lang": language,
            "subject": subject,
            "greeting": gettext(GREETING, name=user.display_name),
            "lines": [gettext(line, **values) for line in words.lines]
            + [gettext(line, **line_values) for line, line_values in extra],
            "button": gettext(words.button, **values),
            "link": link,
            "footer": footer,
        }
        env = current_app.jinja_env
        text = env.get_template("mail/message.txt").render(context)
        html = env.get_template("mail/message.html").render(context)
    return email.message(
        to=user.email,
        subject=subject,
        text=text,
        html=html,
        unsubscribe_url=unsubscribe,
        language=language,
    )
