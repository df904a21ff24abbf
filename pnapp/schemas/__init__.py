"""Marshmallow schemas: every request is validated here once, and the OpenAPI document is
built from the same classes, so the two cannot drift. One module per resource; the base
schema and the fields they share are in common.py. Every schema is re-exported here (`X as
X` says so to linters), so an importer need not know which module holds it."""

from __future__ import annotations

from pnapp.schemas.accounts import CsrfSchema as CsrfSchema
from pnapp.schemas.accounts import LoginItemSchema as LoginItemSchema
from pnapp.schemas.accounts import LoginListSchema as LoginListSchema
from pnapp.schemas.accounts import LoginSchema as LoginSchema
from pnapp.schemas.accounts import MePatchSchema as MePatchSchema
from pnapp.schemas.accounts import PasswordChangeSchema as PasswordChangeSchema
from pnapp.schemas.accounts import PasswordResetConfirmSchema as PasswordResetConfirmSchema
from pnapp.schemas.accounts import PasswordResetSchema as PasswordResetSchema
from pnapp.schemas.accounts import PasswordSchema as PasswordSchema
from pnapp.schemas.accounts import RegisterSchema as RegisterSchema
from pnapp.schemas.accounts import ReminderSchema as ReminderSchema
from pnapp.schemas.accounts import RouteSchema as RouteSchema
from pnapp.schemas.accounts import TokenSchema as TokenSchema
from pnapp.schemas.accounts import UserEnvelope as UserEnvelope
from pnapp.schemas.accounts import UserSchema as UserSchema
from pnapp.schemas.calendar import CalendarSchema as CalendarSchema
from pnapp.schemas.common import MAX_ID as MAX_ID
from pnapp.schemas.common import Schema as Schema
from pnapp.schemas.exports import ExportQuerySchema as ExportQuerySchema
from pnapp.schemas.exports import ReportQuerySchema as ReportQuerySchema
from pnapp.schemas.links import LinkCreatedSchema as LinkCreatedSchema
from pnapp.schemas.links import LinkInSchema as LinkInSchema
from pnapp.schemas.links import LinkListSchema as LinkListSchema
from pnapp.schemas.links import LinkSchema as LinkSchema
from pnapp.schemas.links import ManifestInSchema as ManifestInSchema
from pnapp.schemas.links import ManifestSchema as ManifestSchema
from pnapp.schemas.links import WrongPasscodeSchema as WrongPasscodeSchema
from pnapp.schemas.passkeys import PasskeyListSchema as PasskeyListSchema
from pnapp.schemas.passkeys import PasskeyNewSchema as PasskeyNewSchema
from pnapp.schemas.passkeys import PasskeyRemoveSchema as PasskeyRemoveSchema
from pnapp.schemas.passkeys import PasskeyRenameSchema as PasskeyRenameSchema
from pnapp.schemas.passkeys import PasskeySchema as PasskeySchema
from pnapp.schemas.passkeys import PasskeySignInSchema as PasskeySignInSchema
from pnapp.schemas.passkeys import SignInLinkConfirmSchema as SignInLinkConfirmSchema
from pnapp.schemas.passkeys import SignInLinkSchema as SignInLinkSchema
from pnapp.schemas.progress import CountOfSchema as CountOfSchema
from pnapp.schemas.progress import PgicInSchema as PgicInSchema
from pnapp.schemas.progress import PgicSchema as PgicSchema
from pnapp.schemas.progress import ProgressQuerySchema as ProgressQuerySchema
from pnapp.schemas.progress import ProgressSchema as ProgressSchema
from pnapp.schemas.progress import ReliefByMeasureSchema as ReliefByMeasureSchema
from pnapp.schemas.progress import ReliefSchema as ReliefSchema
from pnapp.schemas.progress import TrendWeekSchema as TrendWeekSchema
from pnapp.schemas.progress import WeekSchema as WeekSchema
from pnapp.schemas.push import PublicKeySchema as PublicKeySchema
from pnapp.schemas.push import PushKeysSchema as PushKeysSchema
from pnapp.schemas.push import PushTestSchema as PushTestSchema
from pnapp.schemas.push import SubscriptionDeleteSchema as SubscriptionDeleteSchema
from pnapp.schemas.push import SubscriptionSchema as SubscriptionSchema
from pnapp.schemas.sessions import ChangeSchema as ChangeSchema
from pnapp.schemas.sessions import RatingsOutSchema as RatingsOutSchema
from pnapp.schemas.sessions import RatingsSchema as RatingsSchema
from pnapp.schemas.sessions import SessionInSchema as SessionInSchema
from pnapp.schemas.sessions import SessionPageSchema as SessionPageSchema
from pnapp.schemas.sessions import SessionPatchSchema as SessionPatchSchema
from pnapp.schemas.sessions import SessionQuerySchema as SessionQuerySchema
from pnapp.schemas.sessions import SessionSchema as SessionSchema
from pnapp.schemas.sharing import AcceptSchema as AcceptSchema
from pnapp.schemas.sharing import InviteInSchema as InviteInSchema
from pnapp.schemas.sharing import InviteSchema as InviteSchema
from pnapp.schemas.sharing import PendingInviteListSchema as PendingInviteListSchema
from pnapp.schemas.sharing import PendingInviteSchema as PendingInviteSchema
from pnapp.schemas.sharing import PersonSchema as PersonSchema
from pnapp.schemas.sharing import ShareListSchema as ShareListSchema
from pnapp.schemas.sharing import SharePatchSchema as SharePatchSchema
from pnapp.schemas.sharing import ShareSchema as ShareSchema
from pnapp.schemas.therapists import ScreeningSchema as ScreeningSchema
from pnapp.schemas.therapists import TherapistInSchema as TherapistInSchema
from pnapp.schemas.therapists import TherapistListSchema as TherapistListSchema
from pnapp.schemas.therapists import TherapistPatchSchema as TherapistPatchSchema
from pnapp.schemas.therapists import TherapistSchema as TherapistSchema
