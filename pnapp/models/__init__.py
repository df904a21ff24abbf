"""The data model. Rules about the data live here as methods, so views stay thin.

Each module holds one concern; importing them all here registers every mapped class, so
relationships named by string resolve across modules, and `pnapp.models.X` keeps working
for the names the app, the tests and the migrations (`pnapp.models.UTCDateTime`) use.
"""

from __future__ import annotations

from pnapp.measures import MEASURES
from pnapp.models.access import AccessEntry, record_access
from pnapp.models.accounts import LOCK_AFTER, LOCK_FOR, REPORT, ROLES, User, locked_error
from pnapp.models.delivery import MAX_DEVICES, Delivery, PushSubscription
from pnapp.models.encouragement import PRESETS, Encouragement
from pnapp.models.links import CONTENTS as LINK_CONTENTS
from pnapp.models.links import Link, WrongPasscode
from pnapp.models.logins import Login
from pnapp.models.operations import SchedulerRun
from pnapp.models.passkeys import MAX_PASSKEYS, Passkey
from pnapp.models.pgic import PGIC_VALUES, PgicAnswer
from pnapp.models.sessions import (
    ADJUNCTS,
    AREAS,
    HEAT_ADJUNCTS,
    RATING_COLUMNS,
    MassageSession,
    Therapist,
    request_digest,
)
from pnapp.models.sharing import (
    ALREADY_SHARING,
    DEFAULT_SCOPES,
    SCOPES,
    CareShare,
    EndedShare,
    Invite,
)
from pnapp.models.types import UTCDateTime, hash_token

__all__ = [
    "ADJUNCTS",
    "ALREADY_SHARING",
    "AREAS",
    "DEFAULT_SCOPES",
    "HEAT_ADJUNCTS",
    "LOCK_AFTER",
    "LOCK_FOR",
    "MAX_DEVICES",
    "MAX_PASSKEYS",
    "MEASURES",
    "PGIC_VALUES",
    "PRESETS",
    "RATING_COLUMNS",
    "REPORT",
    "ROLES",
    "SCOPES",
    "AccessEntry",
    "CareShare",
    "Delivery",
    "Encouragement",
    "EndedShare",
    "Invite",
    "LINK_CONTENTS",
    "Link",
    "Login",
    "MassageSession",
    "Passkey",
    "PgicAnswer",
    "PushSubscription",
    "SchedulerRun",
    "Therapist",
    "User",
    "UTCDateTime",
    "hash_token",
    "locked_error",
    "record_access",
    "request_digest",
    "WrongPasscode",
]
