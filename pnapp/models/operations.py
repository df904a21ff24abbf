"""What operators watch: each scheduler process's passes, kept in the database so that any
web instance can answer /healthz?deep=1 and /metrics about schedulers on other machines."""

from __future__ import annotations

import os
import socket
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import JSON, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from pnapp.extensions import db
from pnapp.models.types import UTCDateTime

# A run not heard from for this long is a process long gone: its row is dropped.
FORGET_RUNS_AFTER = timedelta(days=30)


def process_name() -> str:
    """This process, as its rows name it: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


class SchedulerRun(db.Model):
    """One scheduler process from its start: when it last tried and last finished a pass,
    and the answers its channels gave, counted by channel and result (sent, gone, retry,
    error) since it started."""

    __tablename__ = "scheduler_runs"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_pass_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The exception's class only: its text may carry a person's data.
    last_error: Mapped[str | None] = mapped_column(String(200))
    passes: Mapped[int] = mapped_column(Integer, default=0)
    failed_passes: Mapped[int] = mapped_column(Integer, default=0)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)

    @classmethod
    def record(
        cls,
        name: str,
        started_at: datetime,
        began: datetime,
        finished: datetime,
        answers: dict[str, dict[str, int]] | None = None,
        error: BaseException | None = None,
    ) -> None:
        """Write down one pass (a failed one when `error` is given) and commit."""
        run = db.session.get(cls, name)
        if run is None:
            run = cls(name=name, started_at=started_at, passes=0, failed_passes=0, answers={})
            db.session.add(run)
        run.last_pass_at = began
        run.passes += 1
        if error is None:
            run.last_success_at = finished
        else:
            run.failed_passes += 1
            run.last_error = type(error).__name__
        if answers:
            total = {channel: dict(counts) for channel, counts in (run.answers or {}).items()}
            for channel, counts in answers.items():
                for result, n in counts.items():
                    total.setdefault(channel, {})
                    total[channel][result] = total[channel].get(result, 0) + n
            run.answers = total
        db.session.execute(delete(cls).where(cls.last_pass_at < began - FORGET_RUNS_AFTER))
        db.session.commit()

    @classmethod
    def last_success(cls) -> datetime | None:
        """The end of the latest pass that succeeded, in any scheduler process."""
        return db.session.scalar(select(func.max(cls.last_success_at)))

    @classmethod
    def totals(cls) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
        """Passes by result, and channel answers by (channel, result), over every run kept."""
        passes = {"ok": 0, "error": 0}
        answers: dict[tuple[str, str], int] = defaultdict(int)
        for run in db.session.execute(select(cls.passes, cls.failed_passes, cls.answers)):
            passes["ok"] += run.passes - run.failed_passes
            passes["error"] += run.failed_passes
            for channel, counts in (run.answers or {}).items():
                for result, n in counts.items():
                    answers[(channel, result)] += n
        return passes, dict(answers)
