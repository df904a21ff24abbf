"""The reminder scheduler: a thin APScheduler shell around send_due_reminders(now).

It runs in exactly one process (`flask --app pnapp run-scheduler`), never inside web
workers: every worker that started one would run every job again. Its only state is in our
tables, so stopping, restarting or briefly running two is safe.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from pnapp.extensions import db
from pnapp.models import Login, SchedulerRun
from pnapp.models.operations import process_name
from pnapp.reminders import Report, send_due_reminders
from pnapp.timeutil import utcnow

log = logging.getLogger(__name__)

# This process, for the row that records its passes (/healthz?deep=1 and /metrics read it).
STARTED = utcnow()


def run_once(app: Flask) -> None:
    """One pass, recorded (success or failure) in scheduler_runs."""
    with app.app_context():
        now = utcnow()
        try:
            report = send_due_reminders(now)
            if report.planned or report.sent or report.retried or report.failed:
                log.info("reminders: %s", report)
            Login.forget_idle(now)
        except Exception as err:
            db.session.rollback()
            try:
                SchedulerRun.record(process_name(), STARTED, now, utcnow(), error=err)
            except Exception:  # the database itself may be what failed
                db.session.rollback()
                log.exception("the failed pass could not be recorded")
            raise
        SchedulerRun.record(process_name(), STARTED, now, utcnow(), answers(report))


def answers(report: Report) -> dict[str, dict[str, int]]:
    """The channels' answers by channel and result, as the pass counted them."""
    return {channel: dict(results) for channel, results in report.outcomes.items() if results}


def run_forever(app: Flask) -> None:
    interval = int(app.config["SCHEDULER_INTERVAL_SECONDS"])
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(
        run_once,
        "interval",
        args=[app],
        seconds=interval,
        next_run_time=utcnow(),
        id="reminders",
        coalesce=True,
        max_instances=1,
        # The default grace of 1 s silently skips a run that starts a little late.
        misfire_grace_time=interval,
    )
    log.info("reminder scheduler polling every %s s", interval)
    scheduler.start()
