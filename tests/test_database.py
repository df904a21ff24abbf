"""The database road of a request: a rating's write is two statements, and a connection the
server dropped while it sat idle is replaced before anyone meets it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pnapp.database import IDLE_PING_S
from pnapp.extensions import db
from pnapp.models import MassageSession
from tests.conftest import DB, counting_queries
from tests.helpers import session_body


def test_a_rating_is_written_in_two_statements_and_answered_without_reading_it_back(
    app, as_alice, alice
):
    body = session_body(after={"pain": 2, "stress": 1}, notes="Felt lighter")
    token = as_alice.csrf_token()
    with counting_queries(app) as statements:
        response = as_alice.post("/sessions", body, headers={"X-CSRFToken": token})
    assert response.status_code == 201
    # The login, then INSERT ... ON CONFLICT DO NOTHING RETURNING id: nothing else.
    assert len(statements) == 2, statements
    assert "INSERT INTO massage_sessions" in statements[1] and "RETURNING" in statements[1]
    made = response.get_json()
    with app.app_context():
        stored = db.session.scalar(select(MassageSession).where(MassageSession.id == made["id"]))
        # What the answer says is what was stored.
        assert (stored.client_id, stored.notes, stored.after_pain) == (
            body["client_id"],
            "Felt lighter",
            2,
        )
        assert made["created_at"] == stored.created_at.isoformat().replace("+00:00", "Z")
        db.session.remove()
    # And the retry is still answered with the same session, once.
    again = as_alice.post("/sessions", body)
    assert again.status_code == 200 and again.get_json()["id"] == made["id"]


@pytest.mark.skipif(DB != "postgresql", reason="a SQLite file has no server to drop it")
def test_connections_the_server_dropped_while_idle_are_replaced_unseen(app, as_alice):
    import psycopg

    assert as_alice.get("/sessions").status_code == 200
    with app.app_context():
        engine = db.engine
    idle = list(engine.pool._pool.queue)  # the pool's idle connections
    assert idle
    pids = [record.dbapi_connection.info.backend_pid for record in idle]
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (pids,))
    for record in idle:  # as if they had sat idle a while
        record.info["idle_since"] -= IDLE_PING_S + 1
    # Every one of them would fail its first query; each request gets a live one.
    for _ in range(len(idle) + 1):
        assert as_alice.get("/sessions").status_code == 200
