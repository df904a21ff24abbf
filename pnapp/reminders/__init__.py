"""send_due_reminders(now): the whole reminder job, called by the scheduler, the CLI and the
tests alike.

Exactly once is the database's job (PLATFORM.md): a Delivery row per (person, kind, period,
channel) with a unique constraint is written before anything is sent (planning.py), and each pass
claims the rows it sends with a conditional UPDATE (FOR UPDATE SKIP LOCKED on PostgreSQL),
so several scheduler processes, retries and restarts never send a reminder twice on their
own (delivery.py). A process killed between claiming and recording leaves its rows in
`sending`; once their lease runs out another pass sends them again (the push Topic
collapses the rare repeat). Messages leave through the small transports in channels/:
push to every live device, or a mail (mails.py writes it) when the ladder says so.
Mail a person waits for (a verification or reset link) is sent the moment it is asked for
(instant.py), by the same claimed rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask, current_app

from pnapp.models.access import prune as prune_access_log
from pnapp.reminders import instant
from pnapp.reminders.caring import plan_caring
from pnapp.reminders.delivery import IN_FLIGHT, SEND_BATCH, send_pending, send_test
from pnapp.reminders.planning import (
    AFTER_NUDGE,
    BATCH,
    MISSED_WEEK,
    TTL,
    WEEKLY,
    payload,
    plan_after_nudges,
    plan_missed_weeks,
    plan_weekly,
)

__all__ = [
    "AFTER_NUDGE",
    "BATCH",
    "IN_FLIGHT",
    "MISSED_WEEK",
    "SEND_BATCH",
    "TTL",
    "WEEKLY",
    "Report",
    "init_app",
    "payload",
    "send_due_reminders",
    "send_test",
]


@dataclass
class Report:
    planned: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    gone: int = 0
    subscriptions_removed: int = 0
    # Each channel's answers by result: {"email": {"sent": 3, "retry": 1}, ...}
    outcomes: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))


def send_due_reminders(now: datetime) -> Report:
    """Plan what is due at `now`, then send everything claimable."""
    report = Report()
    report.planned = plan_weekly(now) + plan_after_nudges(now) + plan_missed_weeks(now)
    report.planned += plan_caring(now)
    prune_access_log(now)
    send_pending(now, report, workers=current_app.config["SEND_THREADS"])
    return report


def init_app(app: Flask) -> None:
    instant.init_app(app)
