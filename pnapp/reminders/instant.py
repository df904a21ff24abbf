"""Mail a person is waiting for (a verification or reset link) leaves right after the
request that asked for it commits, in the background, so the answer is not delayed and the
mail is not left for the scheduler's next pass.

Delivery.queue writes the row in the request's transaction and notes its id on the
session; once that transaction commits, a small thread pool claims the row, sends it and
records the answer, like any pass of the scheduler (delivery.send_pending, for that row
only). When that fails, the row stays pending and the scheduler retries it. A rolled-back
transaction wrote no row and sends nothing.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from pnapp.extensions import db
from pnapp.models.delivery import SEND_AFTER_COMMIT
from pnapp.timeutil import utcnow

log = logging.getLogger(__name__)

WORKERS = 4
EXTENSION = "pnapp.instant_mail"


class Sender:
    """One app's pool of background senders, and the sends not yet finished."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="pnapp-mail")
        self.running: set[Future] = set()
        self.lock = threading.Lock()

    def submit(self, ids: list[int]) -> None:
        future = self.pool.submit(self._send, ids)
        with self.lock:
            self.running.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future) -> None:
        with self.lock:
            self.running.discard(future)

    def _send(self, ids: list[int]) -> None:
        from pnapp.reminders import Report
        from pnapp.reminders.delivery import send_pending

        with self.app.app_context():
            try:
                send_pending(utcnow(), Report(), workers=1, only=ids)
            except Exception as err:  # the scheduler retries the row; say what, not whom
                log.error("sending mail in the background failed: %s", type(err).__name__)
            finally:
                db.session.remove()

    def wait(self, timeout: float | None = None) -> None:
        """Until every send started so far has finished (tests, and a clean shutdown)."""
        with self.lock:
            running = list(self.running)
        wait(running, timeout=timeout)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = Sender(app)


def wait_idle(app: Flask, timeout: float | None = 30) -> None:
    app.extensions[EXTENSION].wait(timeout)


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    ids = session.info.pop(SEND_AFTER_COMMIT, None)
    if ids:
        current_app.extensions[EXTENSION].submit(ids)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(SEND_AFTER_COMMIT, None)
