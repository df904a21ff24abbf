"""Marshmallow schemas: every request is validated here once, and the OpenAPI document is
built from the same classes, so the two cannot drift."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

import marshmallow as ma
from marshmallow import fields, validate, validates, validates_schema

from pnapp.errors import Invalid
from pnapp.i18n import LANGUAGES, N_
from pnapp.models import ADJUNCTS, AREAS, DEFAULT_SCOPES, ROLES, SCOPES
from pnapp.pagination import decode_cursor
from pnapp.timeutil import is_valid_zone, to_utc_iso, utcnow

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
# Ids are PostgreSQL integers: a larger number names nothing, and must not reach a query.
MAX_ID = 2**31 - 1
# Phones' clocks drift; a little future is tolerated, a far future is a mistake.
FUTURE_SLACK = timedelta(hours=1)


def is_storable_text(value: str) -> bool:
    """Text a database can keep: no NUL (PostgreSQL refuses it) and no unpaired surrogate
    (which JSON's \\ud800 escapes can make, and which is not UTF-8)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Schema(ma.Schema):
    """Unknown fields are an error, so a typo never vanishes silently. Text that cannot be
    stored is an error too (422), found here before a database fails on it."""

    class Meta:
        unknown = ma.RAISE
        ordered = True

    @ma.pre_load
    def _storable_text(self, data, **kwargs):
        if not isinstance(data, Mapping):
            return data
        known = {field.data_key or name for name, field in self.load_fields.items()}
        bad = {}
        for key, value in data.items():
            if key not in known:
                continue  # refused as unknown, or ignored (query strings)
            texts = value if isinstance(value, list) else [value]
            if any(isinstance(t, str) and not is_storable_text(t) for t in texts):
                bad[key] = [N_("Must not contain NUL characters or unpaired surrogates.")]
        if bad:
            raise ma.ValidationError(bad)
        return data


class Rating(fields.Integer):
    """A whole number 0-10. Booleans and strings are refused (strict)."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, validate=validate.Range(0, 10), **kwargs)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


class StrictInt(fields.Integer):
    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


class StrictBool(fields.Boolean):
    """true or false as JSON has them; 0, 1, "yes" and "on" are refused (the HTML forms turn
    their values into booleans before loading)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class UTCDateTime(fields.AwareDateTime):
    """Reads ISO 8601 with an offset or Z (naive is an error); writes UTC with a Z."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else to_utc_iso(value)

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = super()._deserialize(value, attr, data, **kwargs)
        # Years far out first (converting 0001-01-01T00:00+01:00 to UTC would overflow); a
        # local year one off the bounds may still be within them in UTC: checked below.
        if parsed.year < EARLIEST.year - 1:
            raise ma.ValidationError(N_("Must be in the year 2000 or later."))
        if parsed.year > utcnow().year + 1:
            raise ma.ValidationError(N_("Cannot be in the future."))
        result = parsed.astimezone(UTC)
        if result < EARLIEST:
            raise ma.ValidationError(N_("Must be in the year 2000 or later."))
        if result > utcnow() + FUTURE_SLACK:
            raise ma.ValidationError(N_("Cannot be in the future."))
        return result


class OutDateTime(fields.DateTime):
    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else to_utc_iso(value)


def choice_list(options):
    return fields.List(
        fields.String(validate=validate.OneOf(options)),
        validate=validate.Length(max=len(options)),
        metadata={"uniqueItems": True},
    )


# Accounts


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

    @validates("time")
    def _time(self, value, **kwargs):
        if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", value):
            raise ma.ValidationError(N_("Use 24-hour HH:MM, e.g. 09:00."))


LANGUAGE = fields.String(
    allow_none=True,
    validate=validate.OneOf(LANGUAGES),
    metadata={"description": "en, fr-CA or es; null follows the browser's language"},
)


class UserSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    display_name = fields.String()
    role = fields.String(validate=validate.OneOf(ROLES))
    timezone = fields.String()
    language = LANGUAGE
    weekly_goal = fields.Integer()
    reminder = fields.Nested(ReminderSchema)
    created_at = OutDateTime()


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
    current = fields.Boolean()


class LoginListSchema(Schema):
    items = fields.List(fields.Nested(LoginItemSchema))


class MePatchSchema(Schema):
    display_name = fields.String(validate=DISPLAY_NAME)
    timezone = TimezoneField()
    weekly_goal = StrictInt(validate=validate.Range(1, 7))
    reminder = fields.Nested(ReminderSchema)
    language = LANGUAGE


class PasswordSchema(Schema):
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=1000))


class PasswordChangeSchema(Schema):
    current_password = fields.String(
        required=True, load_only=True, validate=validate.Length(max=1000)
    )
    new_password = NEW_PASSWORD


# Massage sessions


class RatingsSchema(Schema):
    pain = Rating(required=True)
    stress = Rating(required=True)
    numbness = Rating(allow_none=True)
    tingling = Rating(allow_none=True)
    weakness = Rating(allow_none=True)
    recorded_at = UTCDateTime(allow_none=True)


class SessionPatchSchema(Schema):
    started_at = UTCDateTime()
    duration_min = StrictInt(allow_none=True, validate=validate.Range(5, 240))
    therapist_id = StrictInt(allow_none=True, validate=validate.Range(1, MAX_ID))
    areas = choice_list(AREAS)
    adjuncts = choice_list(ADJUNCTS)
    before = fields.Nested(RatingsSchema)
    after = fields.Nested(RatingsSchema, allow_none=True)
    notes = fields.String(allow_none=True, validate=validate.Length(max=2000))

    @validates_schema
    def _unique_choices(self, data, **kwargs):
        for key in ("areas", "adjuncts"):
            if key in data and len(set(data[key])) != len(data[key]):
                raise ma.ValidationError(N_("Each choice may appear once."), key)


class SessionInSchema(SessionPatchSchema):
    client_id = fields.UUID(
        required=True, metadata={"description": "made by the client; the retry key"}
    )
    before = fields.Nested(RatingsSchema, required=True)


class ChangeSchema(Schema):
    pain = fields.Integer(allow_none=True)
    stress = fields.Integer(allow_none=True)
    numbness = fields.Integer(allow_none=True)
    tingling = fields.Integer(allow_none=True)
    weakness = fields.Integer(allow_none=True)


class RatingsOutSchema(Schema):
    pain = fields.Integer()
    stress = fields.Integer()
    numbness = fields.Integer(allow_none=True)
    tingling = fields.Integer(allow_none=True)
    weakness = fields.Integer(allow_none=True)
    recorded_at = OutDateTime()


class SessionSchema(Schema):
    id = fields.Integer()
    client_id = fields.String()
    started_at = OutDateTime()
    duration_min = fields.Integer(allow_none=True)
    therapist_id = fields.Integer(allow_none=True)
    areas = fields.List(fields.String())
    adjuncts = fields.List(fields.String())
    before = fields.Nested(RatingsOutSchema)
    after = fields.Nested(RatingsOutSchema, allow_none=True)
    notes = fields.String(allow_none=True)
    change = fields.Nested(ChangeSchema, allow_none=True)
    entered_by = fields.Integer(allow_none=True)
    created_at = OutDateTime()
    updated_at = OutDateTime()


class SessionPageSchema(Schema):
    items = fields.List(fields.Nested(SessionSchema))
    next_cursor = fields.String(allow_none=True)


class CursorField(fields.String):
    """A cursor this API gave out (pnapp.pagination), checked here so that a forged one
    naming an impossible time or id is a 422 rather than a failing query."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.Length(max=200), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        cursor = super()._deserialize(value, attr, data, **kwargs)
        try:
            started, ident = decode_cursor(cursor)
            started.astimezone(UTC)
        except (Invalid, OverflowError):
            ident = 0
        if not 1 <= ident <= MAX_ID:
            raise ma.ValidationError(N_("Not a cursor this API gave out."))
        return cursor


class SessionQuerySchema(Schema):
    # Query strings may carry other keys (cache busters): they are ignored there.
    class Meta:
        unknown = ma.EXCLUDE

    from_ = fields.Date(
        data_key="from", validate=validate.Range(date(1900, 1, 1), date(9000, 1, 1))
    )
    to = fields.Date(validate=validate.Range(date(1900, 1, 1), date(9000, 1, 1)))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    cursor = CursorField()

    @validates_schema
    def _order(self, data, **kwargs):
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ma.ValidationError(N_("Must not be before 'from'."), "to")


# Therapists (the patient's own notebook)


class ScreeningSchema(Schema):
    knows_pn = fields.String(allow_none=True, validate=validate.OneOf(("yes", "no", "unsure")))
    asked_symptom_areas = StrictBool(allow_none=True)
    approach = fields.String(allow_none=True, validate=validate.Length(max=2000))


class TherapistInSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    certified = StrictBool(allow_none=True)
    credential = fields.String(allow_none=True, validate=validate.Length(max=40))
    screening = fields.Nested(ScreeningSchema, allow_none=True)
    notes = fields.String(allow_none=True, validate=validate.Length(max=2000))

    @validates("name")
    def _name(self, value, **kwargs):
        if not value.strip():
            raise ma.ValidationError(N_("Please enter a name."))


class TherapistPatchSchema(TherapistInSchema):
    name = fields.String(validate=validate.Length(min=1, max=120))


class TherapistSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    phone = fields.String(allow_none=True)
    certified = fields.Boolean(allow_none=True)
    credential = fields.String(allow_none=True)
    screening = fields.Nested(ScreeningSchema, allow_none=True)
    notes = fields.String(allow_none=True)
    sessions_count = fields.Integer()
    mean_pain_change = fields.Float(allow_none=True)
    created_at = OutDateTime()
    updated_at = OutDateTime()


class TherapistListSchema(Schema):
    items = fields.List(fields.Nested(TherapistSchema))


# Push


class PublicKeySchema(Schema):
    public_key = fields.String()


BASE64URL = validate.Regexp(r"^[A-Za-z0-9_-]+={0,2}$", error=N_("Must be base64url."))


class PushKeysSchema(Schema):
    p256dh = fields.String(required=True, validate=[validate.Length(min=20, max=200), BASE64URL])
    auth = fields.String(required=True, validate=[validate.Length(min=8, max=100), BASE64URL])


class SubscriptionSchema(Schema):
    endpoint = fields.String(required=True, validate=validate.Length(max=2048))
    keys = fields.Nested(PushKeysSchema, required=True)
    # Browsers' PushSubscription.toJSON() includes it; we do not use it.
    expirationTime = fields.Float(load_only=True, allow_none=True)  # noqa: N815


class SubscriptionDeleteSchema(Schema):
    endpoint = fields.String(required=True, validate=validate.Length(max=2048))


class PushTestSchema(Schema):
    sent = fields.Integer()
    failed = fields.Integer()


# Progress


class CountOfSchema(Schema):
    count = fields.Integer()
    eligible = fields.Integer()


class ReliefSchema(Schema):
    n_paired = fields.Integer()
    mean_before = fields.Float(allow_none=True)
    mean_after = fields.Float(allow_none=True)
    mean_change = fields.Float(allow_none=True)
    sd_change = fields.Float(allow_none=True)
    effect_size_dz = fields.Float(allow_none=True)
    meaningful_30 = fields.Nested(CountOfSchema)
    substantial_50 = fields.Nested(CountOfSchema)
    worsened = fields.Integer()


class ReliefByMeasureSchema(Schema):
    pain = fields.Nested(ReliefSchema)
    stress = fields.Nested(ReliefSchema)
    numbness = fields.Nested(ReliefSchema)
    tingling = fields.Nested(ReliefSchema)
    weakness = fields.Nested(ReliefSchema)


class WeekSchema(Schema):
    week = fields.String(metadata={"example": "2026-W47"})
    start = fields.String(metadata={"example": "2026-11-16", "format": "date"})
    sessions = fields.Integer()
    goal_met = fields.Boolean()


class ProgressSchema(Schema):
    weekly_goal = fields.Integer()
    weeks = fields.List(fields.Nested(WeekSchema))
    current_streak_weeks = fields.Integer()
    longest_streak_weeks = fields.Integer()
    relief = fields.Nested(ReliefByMeasureSchema)


class ProgressQuerySchema(Schema):
    class Meta:
        unknown = ma.EXCLUDE

    weeks = fields.Integer(load_default=12, validate=validate.Range(1, 104))


# Caregivers


def scope_list(**kwargs):
    return fields.List(
        fields.String(validate=validate.OneOf(SCOPES)),
        validate=validate.Length(max=len(SCOPES)),
        metadata={"uniqueItems": True},
        **kwargs,
    )


class InviteInSchema(Schema):
    scopes = scope_list(load_default=lambda: list(DEFAULT_SCOPES))
    expires_in_days = fields.Integer(strict=True, load_default=7, validate=validate.Range(1, 30))


class InviteSchema(Schema):
    invite_url = fields.String()
    expires_at = OutDateTime()


class AcceptSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class PersonSchema(Schema):
    id = fields.Integer()
    display_name = fields.String()


class ShareSchema(Schema):
    id = fields.Integer()
    patient = fields.Nested(PersonSchema)
    caregiver = fields.Nested(PersonSchema)
    scopes = fields.List(fields.String())
    created_at = OutDateTime()


class ShareListSchema(Schema):
    items = fields.List(fields.Nested(ShareSchema))


class SharePatchSchema(Schema):
    scopes = scope_list(required=True)


class PendingInviteSchema(Schema):
    id = fields.Integer()
    scopes = fields.List(fields.String())
    created_at = OutDateTime()
    expires_at = OutDateTime()


class PendingInviteListSchema(Schema):
    items = fields.List(fields.Nested(PendingInviteSchema))
