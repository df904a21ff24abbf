"""The base every schema builds on, and the fields the resources share: strict numbers and
booleans, times read with an offset and written in UTC, lists of choices."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import marshmallow as ma
from marshmallow import fields, validate

from pnapp.i18n import N_
from pnapp.timeutil import to_utc_iso, utcnow

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


class StrictInt(fields.Integer):
    """A whole number as JSON writes it: strings and booleans are refused (Python counts
    True as 1)."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


class Rating(StrictInt):
    """A whole number 0-10."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.Range(0, 10), **kwargs)


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


def choice_list(options, min_items: int = 0, **kwargs):
    """A list of choices from `options`; `uniqueItems` tells clients that each may appear
    once, which the schema or view loading it checks."""
    return fields.List(
        fields.String(validate=validate.OneOf(options)),
        validate=validate.Length(
            min=min_items or None,
            max=len(options),
            error=N_("Choose at least one, each once.") if min_items else None,
        ),
        metadata={"uniqueItems": True, **kwargs.pop("metadata", {})},
        **kwargs,
    )
