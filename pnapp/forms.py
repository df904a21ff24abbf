"""HTML forms go through the same marshmallow schemas as the API: one set of rules.

A form posts flat names ("before.pain", "areas"); this turns them into the API's JSON shape.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import marshmallow as ma
from werkzeug.datastructures import MultiDict

from pnapp.errors import ApiError, flatten
from pnapp.measures import MEASURES, REQUIRED_MEASURES
from pnapp.timeutil import zone

MISSING = "Missing data for required field."

SKIP = {"csrf_token", "submit"}
# ASCII digits only, and few of them: str.isdigit() also admits '²' and '٣', and int() of
# thousands of digits raises. Anything else goes on as text, for the schema to refuse.
PLAIN_INT = re.compile(r"-?[0-9]{1,9}")


def to_json_shape(
    form: MultiDict,
    *,
    lists: tuple[str, ...] = (),
    ints: tuple[str, ...] = (),
    local_times: tuple[str, ...] = (),
    blanks: tuple[str, ...] = (),
    groups: tuple[str, ...] = (),
    tz: str = "UTC",
) -> dict[str, Any]:
    """Nest dotted names, drop empty values, read numbers and local date-times.

    Text that is not a number is passed on as text so the schema reports it, rather than
    being dropped here. Names in `blanks` keep an empty value, for fields that may be left
    out but not emptied (a name). `groups` are the form's dotted groups ("before" for
    "before.pain"), one level deep. Any other dotted name, or a group sent as a plain
    field, comes from no form of ours (a template would choke on it): a 400.
    """
    data: dict[str, Any] = {}
    for key in form:
        if key in SKIP:
            continue
        if key in lists:
            value: Any = [v for v in form.getlist(key) if v]
        else:
            value = form.get(key, "").strip()
            if value == "" and key not in blanks:
                continue
            leaf = key.rsplit(".", 1)[-1]
            if (leaf in ints or key in ints) and PLAIN_INT.fullmatch(value):
                value = int(value)
            elif key in local_times:
                value = _local_to_iso(value, tz)
        group, dot, leaf = key.partition(".")
        if dot:
            if group not in groups or "." in leaf:
                raise ApiError(400)
            data.setdefault(group, {})[leaf] = value
        elif key in groups:
            raise ApiError(400)
        else:
            data[key] = value
    for key in lists:
        data.setdefault(key, [])
    return data


def _local_to_iso(value: str, tz: str) -> str:
    """'2026-11-22T10:30' from a datetime-local input, read in the person's zone."""
    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        return value
    if naive.tzinfo is not None:
        return value
    return naive.replace(tzinfo=zone(tz)).isoformat()


def load(schema: ma.Schema, data: dict[str, Any]) -> tuple[dict[str, Any] | None, dict]:
    """(validated data, {}) or (None, {"before.pain": ["..."]})."""
    try:
        return schema.load(data), {}
    except ma.ValidationError as err:
        return None, flatten(err.messages)


def missing_ratings(errors: dict, groups: tuple[str, ...] = ("before", "after")) -> dict:
    """A form's errors with each missing rating named on its own ("before.pain": ["missing"]),
    also when the whole group was missing (nothing tapped), so that every question left out
    is marked beside it and said in the summary ("Choose a number for pain")."""
    out: dict = {}
    for name, messages in errors.items():
        if name in groups and MISSING in messages:
            for measure in REQUIRED_MEASURES:
                out[f"{name}.{measure}"] = ["missing"]
            continue
        group, _, measure = name.partition(".")
        if group in groups and measure in MEASURES and MISSING in messages:
            out[name] = ["missing"]
        else:
            out[name] = messages
    return out
