"""Fixtures: a real database (SQLite, or PostgreSQL with PNAPP_TEST_DB=postgresql), clean
for every test, and three people: alice (a patient), bob (a caregiver) and charlie (a
stranger who must see nothing of alice's)."""

from __future__ import annotations

import os
import tempfile
import threading
from contextlib import contextmanager
from datetime import datetime

import pytest
from sqlalchemy import event, insert, text

os.environ.setdefault("PNAPP_INSTANCE_PATH", tempfile.mkdtemp(prefix="pnapp-instance-"))

from pnapp import create_app  # noqa: E402
from pnapp.config import database_url  # noqa: E402
from pnapp.extensions import db  # noqa: E402
from pnapp.models import PushSubscription, User, accounts  # noqa: E402

DB = os.environ.get("PNAPP_TEST_DB", "sqlite")
PG_URL = os.environ.get("PNAPP_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "correct horse battery"
# The real push services, plus the local one the tests run (tests/pushservice.py).
PUSH_HOSTS = (
    "fcm.googleapis.com,*.push.apple.com,updates.push.services.mozilla.com,*.notify.windows.com,"
    "127.0.0.1"
)
os.environ["PNAPP_PUSH_ALLOWED_HOSTS"] = PUSH_HOSTS  # for scheduler processes the tests start
os.environ["PNAPP_VAPID_SUBJECT"] = "mailto:care@pnapp.example"


def pytest_report_header(config):
    return f"pnapp database: {DB}"


@pytest.fixture(scope="session")
def db_url(tmp_path_factory) -> str:
    if DB == "postgresql":
        os.environ["DATABASE_URL"] = PG_URL
        return database_url("")
    if DB != "sqlite":
        raise pytest.UsageError(f"PNAPP_TEST_DB must be sqlite or postgresql, not {DB!r}")
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashes():
    """Argon2 at its production cost takes about 0.1 s a hash: tests use the cheapest
    parameters of the same algorithm (test_accounts checks the production ones)."""
    from argon2 import PasswordHasher, profiles

    from pnapp.models import accounts

    saved = accounts._hasher, accounts._DUMMY_HASH
    accounts._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    accounts._DUMMY_HASH = accounts._hasher.hash("timing shield")
    yield
    accounts._hasher, accounts._DUMMY_HASH = saved


@pytest.fixture(scope="session")
def smtp_server():
    """One real SMTP server for the whole run; `mailbox` empties it for each test."""
    from tests.smtpserver import SmtpServer

    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(smtp_server):
    smtp_server.mailbox.clear()
    if smtp_server._controller is None:  # a test took it down
        smtp_server.start()
    yield smtp_server.mailbox
    smtp_server.mailbox.clear()


@pytest.fixture(scope="session")
def app(db_url, smtp_server):
    engine_options = {}
    if DB == "postgresql":
        # Tests need no durability across power cuts, and fsync per commit dominates here.
        engine_options["connect_args"] = {"options": "-c synchronous_commit=off"}
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": db_url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
            "SECRET_KEY": "test-secret",
            "SERVER_NAME": None,
            "PUSH_ALLOWED_HOSTS": PUSH_HOSTS,
            "VAPID_SUBJECT": "mailto:care@pnapp.example",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp_server.port,
            # Limits are tested on an app of their own (test_security.py).
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        reset_schema()
    return app


def reset_schema() -> None:
    """An empty database built by the migrations (so every test also runs on them)."""
    from flask_migrate import upgrade

    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade()


@pytest.fixture(autouse=True)
def _clean_tables(app):
    yield
    from pnapp.reminders.instant import wait_idle

    wait_idle(app)  # mail a test asked for leaves before the next test starts
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in db.metadata.sorted_tables]
        with db.engine.begin() as conn:
            # DELETE beats TRUNCATE on tables this small.
            for name in reversed(tables):
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


class Api:
    """A logged-in (or anonymous) API client that sends the CSRF header like a browser."""

    def __init__(self, client):
        self.client = client

    def csrf_token(self) -> str:
        return self.client.get("/api/v1/auth/csrf").get_json()["csrf_token"]

    def request(self, method, path, json=None, *, csrf=True, headers=None, **kwargs):
        headers = dict(headers or {})
        if method not in ("GET", "HEAD", "OPTIONS") and csrf:
            headers.setdefault("X-CSRFToken", self.csrf_token())
        return self.client.open(
            f"/api/v1{path}", method=method, json=json, headers=headers, **kwargs
        )

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.request("POST", path, json, **kwargs)

    def patch(self, path, json=None, **kwargs):
        return self.request("PATCH", path, json, **kwargs)

    def delete(self, path, json=None, **kwargs):
        return self.request("DELETE", path, json, **kwargs)

    def login(self, email: str, password: str = PASSWORD):
        response = self.post("/auth/login", {"email": email, "password": password})
        assert response.status_code == 200, response.get_json()
        return self


def invite(api: Api, **body) -> str:
    """The patient makes an invitation; its one-time token."""
    response = api.post("/shares/invites", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["invite_url"].rsplit("/", 1)[-1]


def share_with(alice_api: Api, bob_api: Api, scopes: list[str]) -> dict:
    """The one journey of sharing: the patient invites with these scopes, the caregiver
    accepts; the Share."""
    response = bob_api.post("/shares/accept", {"token": invite(alice_api, scopes=scopes)})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def limited_app(db_url, smtp_server):
    """An app with rate limits on. Flask-Limiter's limiter is one object for every app, so
    its switch and counters are put back afterwards."""
    from pnapp.extensions import limiter

    was = limiter.enabled
    yield create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": db_url,
            "SECRET_KEY": "x",
            "RATELIMIT_ENABLED": True,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp_server.port,
        }
    )
    limiter.reset()
    limiter.enabled = was


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def anon(app) -> Api:
    return Api(app.test_client())


def make_user(
    app,
    email: str,
    role: str = "patient",
    timezone: str = "America/Toronto",
    name: str | None = None,
) -> User:
    with app.app_context():
        user = User.register(
            {
                "email": email,
                "password": PASSWORD,
                "role": role,
                "display_name": name or email.split("@")[0].title(),
                "timezone": timezone,
            }
        )
        db.session.refresh(user)
        db.session.expunge(user)
        return user


def confirm_address(app, user_id: int) -> None:
    """The person opened the link we mailed them (tests/test_mail.py follows it for real)."""
    with app.app_context():
        db.session.get(User, user_id).email_verified = True
        db.session.commit()


@pytest.fixture
def alice(app) -> User:
    return make_user(app, "alice@example.com", "patient", "America/Toronto")


@pytest.fixture
def bob(app) -> User:
    return make_user(app, "bob@example.com", "caregiver", "America/Toronto")


@pytest.fixture
def charlie(app) -> User:
    return make_user(app, "charlie@example.com", "patient", "Europe/Berlin")


@pytest.fixture
def as_alice(app, alice) -> Api:
    return Api(app.test_client()).login(alice.email)


@pytest.fixture
def as_bob(app, bob) -> Api:
    return Api(app.test_client()).login(bob.email)


@pytest.fixture
def as_charlie(app, charlie) -> Api:
    return Api(app.test_client()).login(charlie.email)


@contextmanager
def counting_queries(app):
    """Counts the SQL statements sent while the block runs."""
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if not statement.startswith("BEGIN"):  # SQLite's explicit BEGIN is not a query
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.fixture(scope="session")
def live_server(app):
    """The app served over real HTTP on a free port, for browsers and HTTP clients."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()


@pytest.fixture
def push_service():
    from tests.pushservice import PushService

    service = PushService()
    yield service
    service.close()


def add_due_patients(
    app, service, count: int, due: datetime, *, email_verified: bool = False
) -> list[int]:
    """`count` patients whose weekly reminder is due at `due`, each with a phone (none when
    `service` is None: then the reminder goes by mail, to a confirmed address)."""
    with app.app_context():
        hashed = accounts._hasher.hash("not used here")
        ids = list(
            db.session.scalars(
                insert(User).returning(User.id),
                [
                    {
                        "email": f"p{i}@example.com",
                        "password_hash": hashed,
                        "display_name": f"P{i}",
                        "role": "patient",
                        "timezone": "America/Toronto",
                        "weekly_goal": 1,
                        "reminder_enabled": True,
                        "reminder_weekday": 0,
                        "reminder_time": "09:00",
                        "next_reminder_at": due,
                        "created_at": due,
                        "email_verified": email_verified,
                    }
                    for i in range(count)
                ],
            )
        )
        if service is not None:
            db.session.execute(
                insert(PushSubscription),
                [
                    {"user_id": uid, "failures": 0, "created_at": due}
                    | service.subscriber(f"u{uid}").subscription()["keys"]
                    | {"endpoint": service.subscribers[f"u{uid}"].endpoint}
                    for uid in ids
                ],
            )
        db.session.commit()
    return ids
