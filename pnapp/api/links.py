"""Links for a therapist or a doctor (SMART Health Links): the patient makes, lists and
revokes them; the manifest answers anyone holding a link, with no cookie and no CSRF token,
as the HL7 specification asks, so any conforming viewer can read it."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask.views import MethodView
from flask_babel import gettext
from flask_login import current_user

from pnapp.api import ERROR, limited, requires, resource
from pnapp.extensions import MANIFEST_LIMIT, csrf
from pnapp.links import make_link
from pnapp.models import Link, WrongPasscode
from pnapp.qr import qr_svg
from pnapp.schemas import (
    LinkCreatedSchema,
    LinkInSchema,
    LinkListSchema,
    ManifestInSchema,
    ManifestSchema,
    WrongPasscodeSchema,
)

bp = resource("links", "Links for a therapist or a doctor")


@bp.route("/links")
class Links(MethodView):
    decorators = [requires("patient")]

    @bp.response(200, LinkListSchema)
    def get(self):
        """Every link the patient made, newest first, with how often and when it was opened."""
        return {"items": Link.of_patient(current_user)}

    @bp.arguments(LinkInSchema)
    @bp.response(201, LinkCreatedSchema)
    def post(self, data):
        """Make a SMART Health Link: the address is shown once and never stored."""
        link, url = make_link(current_user, data)
        return {
            "id": link.id,
            "url": url,
            "shlink": url.split("#", 1)[1],
            "qr_svg": str(qr_svg(url, gettext("QR code of the link"))),
            "expires_at": link.expires_at,
        }


@bp.delete("/links/<int:link_id>")
@requires("patient")
@bp.response(204)
@bp.alt_response(404, schema=ERROR, description="Not one of your links")
def revoke(link_id):
    """Revoke a link: it stops working at once."""
    Link.revoke(current_user, link_id)


@bp.post("/shl/<manifest_id>")
@csrf.exempt
@limited(MANIFEST_LIMIT)
@bp.arguments(ManifestInSchema)
@bp.response(200, ManifestSchema)
@bp.alt_response(
    401, schema=WrongPasscodeSchema, description="Passcode missing or wrong; tries left"
)
@bp.alt_response(404, schema=ERROR, description="Unknown, expired, revoked or used up")
def manifest(data, manifest_id):
    """A link's manifest (SMART Health Links): its encrypted files, for anyone holding the
    link, with its passcode when it has one. Ten wrong passcodes end the link."""
    try:
        link = Link.open(manifest_id, data.get("passcode"))
    except WrongPasscode as wrong:
        response = jsonify(
            {
                "error": {
                    "status": 401,
                    "code": "unauthorized",
                    "message": gettext("That passcode is not right."),
                },
                "remainingAttempts": wrong.remaining,
            }
        )
        response.status_code = 401
        return response
    return {"files": [dict(f) for f in link.files]}


@bp.after_app_request
def open_to_viewers(response: Response) -> Response:
    """Any SMART Health Links viewer, wherever it is served from, may read a manifest: the
    link is the credential, never a cookie, so no origin is trusted with anything more."""
    if request.endpoint == "api_links.manifest":
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "POST"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    return response
