"""Marshmallow schemas: every request is validated here once, and the OpenAPI document is
built from the same classes, so the two cannot drift. One module per resource; the base
schema and the fields they share are in common.py."""

from __future__ import annotations

from pnapp.schemas.accounts import (
    CsrfSchema,
    LoginItemSchema,
    LoginListSchema,
    LoginSchema,
    MePatchSchema,
    PasswordChangeSchema,
    PasswordSchema,
    RegisterSchema,
    ReminderSchema,
    UserEnvelope,
    UserSchema,
)
from pnapp.schemas.common import MAX_ID, Schema
from pnapp.schemas.exports import ExportQuerySchema, ReportQuerySchema
from pnapp.schemas.progress import (
    CountOfSchema,
    ProgressQuerySchema,
    ProgressSchema,
    ReliefByMeasureSchema,
    ReliefSchema,
    WeekSchema,
)
from pnapp.schemas.push import (
    PublicKeySchema,
    PushKeysSchema,
    PushTestSchema,
    SubscriptionDeleteSchema,
    SubscriptionSchema,
)
from pnapp.schemas.sessions import (
    ChangeSchema,
    RatingsOutSchema,
    RatingsSchema,
    SessionInSchema,
    SessionPageSchema,
    SessionPatchSchema,
    SessionQuerySchema,
    SessionSchema,
)
from pnapp.schemas.sharing import (
    AcceptSchema,
    InviteInSchema,
    InviteSchema,
    PendingInviteListSchema,
    PendingInviteSchema,
    PersonSchema,
    ShareListSchema,
    SharePatchSchema,
    ShareSchema,
)
from pnapp.schemas.therapists import (
    ScreeningSchema,
    TherapistInSchema,
    TherapistListSchema,
    TherapistPatchSchema,
    TherapistSchema,
)

__all__ = [
    "AcceptSchema",
    "ChangeSchema",
    "CountOfSchema",
    "CsrfSchema",
    "ExportQuerySchema",
    "InviteInSchema",
    "InviteSchema",
    "LoginItemSchema",
    "LoginListSchema",
    "LoginSchema",
    "MAX_ID",
    "MePatchSchema",
    "PasswordChangeSchema",
    "PasswordSchema",
    "PendingInviteListSchema",
    "PendingInviteSchema",
    "PersonSchema",
    "ProgressQuerySchema",
    "ProgressSchema",
    "PublicKeySchema",
    "PushKeysSchema",
    "PushTestSchema",
    "RatingsOutSchema",
    "RatingsSchema",
    "RegisterSchema",
    "ReliefByMeasureSchema",
    "ReliefSchema",
    "ReminderSchema",
    "ReportQuerySchema",
    "Schema",
    "ScreeningSchema",
    "SessionInSchema",
    "SessionPageSchema",
    "SessionPatchSchema",
    "SessionQuerySchema",
    "SessionSchema",
    "ShareListSchema",
    "SharePatchSchema",
    "ShareSchema",
    "SubscriptionDeleteSchema",
    "SubscriptionSchema",
    "TherapistInSchema",
    "TherapistListSchema",
    "TherapistPatchSchema",
    "TherapistSchema",
    "UserEnvelope",
    "UserSchema",
    "WeekSchema",
]
