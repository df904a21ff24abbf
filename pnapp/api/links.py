"""Links for a therapist or a doctor (SMART Health Links): the patient makes, lists and
revokes them; the manifest answers anyone holding a link, with no cookie and no CSRF token,
as the HL7 specification asks, so any conforming viewer can read it."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask.views import MethodView
from flask_babel import gettext
from flask_login import current_user

from pnapp import tokens
from pnapp.api import ERROR, limited, requires, resource
from pnapp.assets import public_url
from pnapp.errors import ApiError, Gone, NotFound
from pnapp.extensions import MANIFEST_LIMIT, csrf, db
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
    limit = data.get("embeddedLengthMax")
    return {
        "files": [
            f
            if limit is None or len(f["embedded"]) <= limit
            else {"contentType": f["contentType"], "location": file_location(link, number)}
            for number, f in enumerate(link.files, start=1)
        ]
    }


def file_location(link: Link, number: int) -> str:
    """Where a file too long to embed is fetched: a signed address that works for an hour,
    and only while the link does."""
    token = tokens.make("shl-file", link.id, Link.file_state(link.id, number))
    return public_url("api_links.link_file", token=token, number=number)


@bp.get("/shl-files/<token>/<int:number>")
@limited(MANIFEST_LIMIT)
@bp.response(
    200,
    {"type": "string", "description": "A compact JWE under the link's key"},
    content_type="application/jose",
)
@bp.alt_response(404, schema=ERROR, description="Unknown, more than an hour old, or ended")
def link_file(token, number):
    """One file of a link, when the manifest gave a `location` instead of embedding it."""
    try:
        link_id = tokens.check("shl-file", token, lambda i: Link.file_state(i, number))
    except (Gone, NotFound):
        raise ApiError(404) from None
    link = db.session.get(Link, link_id)
    return Response(link.files[number - 1]["embedded"], mimetype="application/jose")


@bp.after_app_request
def open_to_viewers(response: Response) -> Response:
    """Any SMART Health Links viewer, wherever it is served from, may read a manifest and its
    files: the link is the credential, never a cookie, so no origin is trusted with more."""
    method = {"api_links.manifest": "POST", "api_links.link_file": "GET"}.get(request.endpoint)
    if method:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = method
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    return response
