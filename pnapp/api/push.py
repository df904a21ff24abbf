"""Web Push subscriptions for reminders."""

from __future__ import annotations

from flask import current_app
from flask_login import current_user

from pnapp.api import limited, requires, resource
from pnapp.errors import ApiError
from pnapp.extensions import PUSH_TEST_LIMIT
from pnapp.i18n import N_, note_browser_language
from pnapp.models import PushSubscription
from pnapp.reminders import send_test
from pnapp.reminders.channels import push
from pnapp.schemas import (
    PublicKeySchema,
    PushTestSchema,
    SubscriptionDeleteSchema,
    SubscriptionSchema,
)

bp = resource("push", "Push reminders", "/push")


@bp.get("/key")
@bp.response(200, PublicKeySchema)
def key():
    """The VAPID application server key to subscribe with."""
    return {"public_key": push.public_key(push.load_vapid(current_app))}


@bp.post("/subscriptions")
@requires()
@bp.arguments(SubscriptionSchema)
@bp.response(201, SubscriptionSchema)
@bp.alt_response(200, schema=SubscriptionSchema, description="Already stored")
def subscribe(data):
    """Store this browser's push subscription for the logged-in user."""
    endpoint = push.normalize_endpoint(data["endpoint"], current_app.config["PUSH_ALLOWED_HOSTS"])
    if endpoint is None:
        raise ApiError(422, fields={"endpoint": [N_("Not a push service this app sends to.")]})
    data["endpoint"] = endpoint  # what was checked is what is stored and sent to
    note_browser_language(current_user)  # this device's notifications speak its language
    created = PushSubscription.store(current_user, data)
    return data, 201 if created else 200


@bp.delete("/subscriptions")
@requires()
@bp.arguments(SubscriptionDeleteSchema)
@bp.response(204)
def unsubscribe(data):
    """Forget this browser's subscription."""
    endpoint = push.normalize_endpoint(data["endpoint"], current_app.config["PUSH_ALLOWED_HOSTS"])
    PushSubscription.forget(current_user, endpoint or data["endpoint"])


@bp.post("/test")
@limited(PUSH_TEST_LIMIT, "Too many tests; see Retry-After")
@requires()
@bp.response(202, PushTestSchema)
def test():
    """Send a test notification to each of the caller's devices."""
    sent, failed = send_test(current_user)
    return {"sent": sent, "failed": failed}
