"""A patient's massage sessions with their before and after ratings."""

from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user

from pnapp.api import ERROR, requires, resource
from pnapp.database import writes_one_statement
from pnapp.models import MassageSession
from pnapp.pagination import session_page
from pnapp.schemas import (
    SessionInSchema,
    SessionPageSchema,
    SessionPatchSchema,
    SessionQuerySchema,
    SessionSchema,
)

bp = resource("sessions", "Massage sessions", "/sessions")


@bp.route("")
class Sessions(MethodView):
    decorators = [requires("patient")]

    @bp.arguments(SessionQuerySchema, location="query")
    @bp.response(200, SessionPageSchema)
    def get(self, args):
        """The patient's sessions, newest first, a page at a time."""
        items, next_cursor = session_page(current_user, **args)
        return {"items": items, "next_cursor": next_cursor}

    @bp.arguments(SessionInSchema)
    @bp.response(201, SessionSchema)
    @bp.alt_response(200, schema=SessionSchema, description="A retry: the stored session")
    @bp.alt_response(409, schema=ERROR, description="client_id reused with another body")
    @writes_one_statement
    def post(self, data):
        """Record a session. Safe to retry with the same client_id and body."""
        session, created = MassageSession.record(current_user, data, current_user)
        return session, 201 if created else 200


@bp.route("/<int:session_id>")
class SessionItem(MethodView):
    decorators = [requires("patient")]

    @bp.response(200, SessionSchema)
    def get(self, session_id):
        """One session."""
        return current_user.own_session(session_id)

    @bp.arguments(SessionPatchSchema, required=False)
    @bp.response(200, SessionSchema)
    def patch(self, data, session_id):
        """Change a session; typically to add the after ratings."""
        session = current_user.own_session(session_id)
        session.update(current_user, data)
        return session

    @bp.response(204)
    def delete(self, session_id):
        """Delete a session."""
        current_user.own_session(session_id).delete()
