"""Several scheduler processes, and one killed mid-send: each patient gets one reminder, by
push or by mail."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from pnapp.extensions import db
from pnapp.models import Delivery
from pnapp.reminders import IN_FLIGHT, SEND_BATCH
from tests.conftest import add_due_patients
from tests.helpers import iso

PATIENTS = 500


@pytest.fixture
def due_patients(app, push_service):
    """500 patients whose Monday 09:00 reminder is due, each with a phone."""
    due = datetime(2026, 11, 16, 14, tzinfo=UTC)  # Monday 09:00 in Toronto
    add_due_patients(app, push_service, PATIENTS, due)
    return due


def scheduler(app, now: datetime) -> subprocess.Popen:
    """A separate `flask send-reminders` process on the suite's database."""
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "PNAPP_SECRET_KEY": "test-secret",
        # The suite's SMTP server (conftest.smtp_server).
        "PNAPP_MAIL_SERVER": app.config["MAIL_SERVER"],
        "PNAPP_MAIL_PORT": str(app.config["MAIL_PORT"]),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "pnapp", "send-reminders", "--now", iso(now)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def states(app) -> Counter:
    with app.app_context():
        return Counter(state for (state,) in db.session.query(Delivery.state))


def race(app, now: datetime, schedulers: int = 4) -> None:
    processes = [scheduler(app, now) for _ in range(schedulers)]
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err


def test_four_schedulers_racing_send_each_reminder_exactly_once(app, due_patients, push_service):
    race(app, due_patients + timedelta(minutes=1))
    per_patient = Counter(m.name for m in push_service.messages)
    assert len(per_patient) == PATIENTS
    assert set(per_patient.values()) == {1}
    assert all(m.payload and m.signature_ok for m in push_service.messages)
    assert states(app) == {"sent": PATIENTS}


def test_a_scheduler_killed_mid_send_leaves_no_patient_unreminded(app, due_patients, push_service):
    push_service.delay = 0.05  # slow enough to be killed part-way through
    now = due_patients + timedelta(minutes=1)
    victim = scheduler(app, now)
    deadline = time.monotonic() + 60
    while len(push_service.messages) < 100 and time.monotonic() < deadline:
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    reached = {m.name for m in push_service.messages}
    assert 100 <= len(reached) < PATIENTS
    assert states(app)["sending"] > 0  # claimed, never recorded

    push_service.delay = 0
    # A restart within the lease leaves the claimed rows alone...
    restarted = scheduler(app, now + timedelta(minutes=2))
    assert restarted.wait(timeout=120) == 0
    assert states(app)["sending"] > 0
    # ...and picks them up once the lease has run out.
    later = scheduler(app, now + timedelta(minutes=12))
    assert later.wait(timeout=120) == 0
    per_patient = Counter(m.name for m in push_service.messages)
    assert len(per_patient) == PATIENTS, "a patient was never reminded"
    repeats = sum(n - 1 for n in per_patient.values())
    # Only the batch claimed but not yet recorded at the kill can repeat (the push Topic
    # collapses those on the phone).
    assert repeats <= SEND_BATCH * IN_FLIGHT, repeats
    assert states(app) == {"sent": PATIENTS}


def test_four_schedulers_racing_send_each_mail_exactly_once(app, mailbox):
    """500 patients with no phone and a confirmed address: one mail each, whichever
    scheduler wins each row."""
    due = datetime(2026, 11, 16, 14, tzinfo=UTC)
    add_due_patients(app, None, PATIENTS, due, email_verified=True)
    race(app, due + timedelta(minutes=1))
    per_address = Counter(m["To"] for m in mailbox.messages)
    assert len(per_address) == PATIENTS
    assert set(per_address.values()) == {1}
    assert all(m["List-Unsubscribe"] for m in mailbox.messages)
    assert states(app) == {"sent": PATIENTS}


PAIRS = 150


def add_caregivers(app, service, scopes: list[str]) -> None:
    """PAIRS patients in Toronto (reminder on Mondays), each followed by a caregiver with
    `scopes`, a phone and a confirmed address."""
    from sqlalchemy import insert

    from pnapp.models import CareShare, PushSubscription, User
    from tests.conftest import accounts

    long_ago = datetime(2026, 10, 1, tzinfo=UTC)
    with app.app_context():
        hashed = accounts._hasher.hash("not used here")
        people = [
            {
                "email": f"{role}{i}@example.com",
                "password_hash": hashed,
                "display_name": f"{role.title()} {i}",
                "role": role,
                "timezone": "America/Toronto",
                "weekly_goal": 1,
                "reminder_weekday": 0,
                "email_verified": role == "caregiver",
                "created_at": long_ago,
            }
            for i in range(PAIRS)
            for role in ("patient", "caregiver")
        ]
        ids = list(db.session.scalars(insert(User).returning(User.id), people))
        pairs = list(zip(ids[::2], ids[1::2], strict=True))
        db.session.execute(
            insert(CareShare),
            [
                {"patient_id": p, "caregiver_id": c, "scopes": scopes, "created_at": long_ago}
                for p, c in pairs
            ],
        )
        db.session.execute(
            insert(PushSubscription),
            [
                {"user_id": c, "failures": 0, "created_at": long_ago}
                | service.subscriber(f"u{c}").subscription()["keys"]
                | {"endpoint": service.subscribers[f"u{c}"].endpoint}
                for _, c in pairs
            ],
        )
        db.session.commit()


def test_four_schedulers_racing_send_each_heads_up_and_digest_exactly_once(
    app, push_service, mailbox
):
    add_caregivers(app, push_service, ["progress", "digest", "heads_up"])
    # Wednesday 18:00 in Toronto: every patient's week still has no session.
    race(app, datetime(2026, 11, 18, 23, 1, tzinfo=UTC))
    per_caregiver = Counter(m.name for m in push_service.messages)
    assert len(per_caregiver) == PAIRS and set(per_caregiver.values()) == {1}
    assert all(
        m.payload["notification"]["body"].endswith(
            "has no massage recorded yet this week. Could you help?"
        )
        for m in push_service.messages
    )
    assert mailbox.messages == []
    # The next Monday at 10:00: one digest mail each, by e-mail only.
    race(app, datetime(2026, 11, 23, 15, 1, tzinfo=UTC))
    per_address = Counter(m["To"] for m in mailbox.messages)
    assert len(per_address) == PAIRS and set(per_address.values()) == {1}
    assert {m["Subject"].split(" with ")[0] for m in mailbox.messages} == {"This week"}
    assert len(push_service.messages) == PAIRS  # no second heads-up
    assert states(app) == {"sent": 2 * PAIRS}
