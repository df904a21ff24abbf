"""Accounts: registering, logging in, the user and their settings, passwords, logins."""

from __future__ import annotations

import re
from datetime import date

import marshmallow as ma
from marshmallow import fields, validate, validates

from pnapp.i18n import LANGUAGES, N_
from pnapp.models import ROLES
from pnapp.models.delivery import CHANNELS
from pnapp.models.logins import METHODS
from pnapp.schemas.common import OutDateTime, Schema, StrictBool, StrictInt, choice_list
from pnapp.timeutil import is_valid_zone, utcnow


class TimezoneField(fields.String):
    """An IANA time zone name."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "metadata", {"description": "An IANA time zone name", "example": "America/Toronto"}
        )
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        name = super()._deserialize(value, attr, data, **kwargs)
        if not is_valid_zone(name):
            raise ma.ValidationError(N_("Not a known IANA time zone, e.g. America/Toronto."))
        return name


class ReminderSchema(Schema):
    enabled = StrictBool()
    weekday = StrictInt(validate=validate.Range(0, 6), metadata={"description": "0 = Monday"})
    time = fields.String(
        metadata={"example": "09:00", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}
    )

    channels = choice_list(
        CHANNELS,
        min_items=1,
        metadata={
            "description": "What the person chose; the ladder decides what is sent "
            '(see reminder_route). Default ["push"].',
        },
    )

    @validates("time")
    def _time(self, value, **kwargs):
        if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", value):
            raise ma.ValidationError(N_("Use 24-hour HH:MM, e.g. 09:00."))

    @validates("channels")
    def _channels(self, value, **kwargs):
        if len(set(value)) != len(value):
            raise ma.ValidationError(N_("Each choice may appear once."))


ROUTE_REASONS = ("push_ok", "no_device", "devices_gone", "push_blocked", "email_unverified", "off")


class RouteSchema(Schema):
    channel = fields.String(validate=validate.OneOf(("push", "email", "none")))
    reason = fields.String(
        validate=validate.OneOf(ROUTE_REASONS),
        metadata={
            "description": "push_ok when push carries it; otherwise the state of push "
            "(no_device, devices_gone, push_blocked; push_ok when e-mail alone was chosen), "
            "or email_unverified when a confirmed address would let it go, or off"
        },
    )


LANGUAGE = fields.String(
    allow_none=True,
    validate=validate.OneOf(LANGUAGES),
    metadata={"description": "en, fr-CA or es; null follows the browser's language"},
)


class OptionalText(fields.String):
    """Text that may be left empty: surrounding spaces go, and empty text is null."""

    def __init__(self, max_length: int, **kwargs):
        super().__init__(allow_none=True, metadata={"maxLength": max_length}, **kwargs)
        self.max_length = max_length

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if len(text) > self.max_length:
            raise ma.ValidationError(
                N_("Longer than maximum length %(max)s.") % {"max": self.max_length}
            )
        return text or None


class BirthDate(fields.Date):
    """A date of birth: a real day from 1900 to today."""

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        if not date(1900, 1, 1) <= day <= utcnow().date():
            raise ma.ValidationError(N_("Enter a date between 1900 and today."))
        return day


PAPER_SIZES = ("letter", "a4")


class UserSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    display_name = fields.String()
    role = fields.String(validate=validate.OneOf(ROLES))
    timezone = fields.String()
    language = LANGUAGE
    weekly_goal = fields.Integer()
    reminder = fields.Nested(ReminderSchema)
    email_verified = fields.Boolean()
    email_reminders = fields.Boolean(
        metadata={"description": "false after a one-click unsubscribe from a reminder mail"}
    )
    push_blocked = fields.Boolean()
    reminder_route = fields.Nested(
        RouteSchema,
        dump_only=True,
        metadata={"description": "How this week's reminder will go, and why (read-only)"},
    )
    created_at = OutDateTime()
    full_name = fields.String(allow_none=True)
    birth_date = fields.Date(allow_none=True)
    paper_size = fields.String(allow_none=True)


class UserEnvelope(Schema):
    user = fields.Nested(UserSchema)


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError(N_("Please enter a name."))


# Blank first, so an empty name reads "Please enter a name." rather than a length rule.
DISPLAY_NAME = [_not_blank, validate.Length(max=80)]
NEW_PASSWORD = fields.String(
    required=True,
    load_only=True,
    validate=validate.Length(min=10, max=1000, error=N_("Use at least 10 characters.")),
)


class RegisterSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = NEW_PASSWORD
    display_name = fields.String(required=True, validate=DISPLAY_NAME)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    timezone = TimezoneField(required=True)
    language = LANGUAGE


class LoginSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=1000))


class CsrfSchema(Schema):
    csrf_token = fields.String()


class LoginItemSchema(Schema):
    id = fields.Integer()
    created_at = OutDateTime()
    last_seen_at = OutDateTime()
    user_agent = fields.String(allow_none=True)
    method = fields.String(
        validate=validate.OneOf(METHODS),
        metadata={"description": "How the person signed in on that device"},
    )
    current = fields.Boolean()


class LoginListSchema(Schema):
    items = fields.List(fields.Nested(LoginItemSchema))


class MePatchSchema(Schema):
    display_name = fields.String(validate=DISPLAY_NAME)
    timezone = TimezoneField()
    weekly_goal = StrictInt(validate=validate.Range(1, 7))
    reminder = fields.Nested(ReminderSchema)
    language = LANGUAGE
    push_blocked = StrictBool(
        metadata={"description": "true when this browser denies notifications (then e-mail)"}
    )
    email_reminders = StrictBool(metadata={"description": "true turns reminder mail back on"})
    # For the doctor's report and the FHIR Patient only: never shown to caregivers.
    full_name = OptionalText(max_length=120)
    birth_date = BirthDate(allow_none=True)
    paper_size = fields.String(
        allow_none=True,
        validate=validate.OneOf(PAPER_SIZES),
        metadata={
            "description": "The report's paper, letter or a4; null takes it from the time zone "
            "(Letter in the United States and Canada, A4 elsewhere)"
        },
    )


class PasswordSchema(Schema):
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=1000))


class PasswordChangeSchema(Schema):
    current_password = fields.String(
        required=True, load_only=True, validate=validate.Length(max=1000)
    )
    new_password = NEW_PASSWORD


TOKEN = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class TokenSchema(Schema):
    token = TOKEN


class TrimmedEmail(fields.Email):
    """An address as people type it on a phone: a space before or after is forgiven."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.strip()
        return super()._deserialize(value, attr, data, **kwargs)


class PasswordResetSchema(Schema):
    email = TrimmedEmail(required=True, validate=validate.Length(max=254))


class PasswordResetConfirmSchema(Schema):
    token = TOKEN
    new_password = NEW_PASSWORD
