"""What a patient (or their caregiver) reads about progress: the numbers of progress.py put
into modest words, the charts, and the "what seems to help" comparisons."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from pnapp.charts import Point, before_after_chart
from pnapp.extensions import db
from pnapp.labels import ADJUNCTS, AREAS
from pnapp.models import MassageSession, Therapist, User
from pnapp.timeutil import local_date, local_midnight, week_start, zone

MIN_SIDE = 3  # a comparison is shown only when each side has this many paired sessions


def window_start(user: User, now: datetime, weeks: int) -> datetime:
    monday = week_start(local_date(now, user.timezone)) - timedelta(weeks=weeks - 1)
    return local_midnight(monday, user.timezone)


def progress_page(user: User, now: datetime, weeks: int, *, whose: str = "your") -> dict:
    """Everything the progress screens show, in a bounded number of queries."""
    progress = user.progress(now, weeks)
    sessions = list(
        db.session.scalars(
            select(MassageSession)
            .where(
                MassageSession.patient_id == user.id,
                MassageSession.started_at >= window_start(user, now, weeks),
                MassageSession.started_at <= now,
            )
            .order_by(MassageSession.started_at, MassageSession.id)
        )
    )
    tz = zone(user.timezone)
    charts = {}
    for measure in ("pain", "stress"):
        points = [
            Point(
                s.started_at.astimezone(tz),
                getattr(s, f"before_{measure}"),
                getattr(s, f"after_{measure}"),
            )
            for s in sessions
        ]
        charts[measure] = before_after_chart(
            points,
            f"{measure.title()} before and after each session, oldest first",
            f"chart-{measure}",
        )
    return {
        "progress": progress,
        "weeks": weeks,
        "sessions": sessions,
        "charts": charts,
        "summary": summary_sentence(progress["relief"]["pain"], weeks, whose),
        "helps": what_helps(user, sessions),
    }


def summary_sentence(pain: dict, weeks: int, whose: str) -> str:
    n = pain["n_paired"]
    if n == 0:
        return f"No sessions with both before and after ratings in the last {weeks} weeks yet."
    change = pain["mean_change"]
    if change > 0:
        moved = f"{whose} pain fell by {change:.1f} points on average after a session"
    elif change < 0:
        moved = f"{whose} pain rose by {-change:.1f} points on average after a session"
    else:
        moved = f"{whose} pain was on average the same after a session"
    meaningful = pain["meaningful_30"]
    tail = ""
    if meaningful["eligible"]:
        tail = (
            f"; {meaningful['count']} of {meaningful['eligible']} sessions brought "
            "meaningful relief (30% or more)"
        )
    return f"Over the last {weeks} weeks {moved}{tail}."


def _mean_pain_change(sessions: list[MassageSession]) -> tuple[float, int] | None:
    changes = [s.before_pain - s.after_pain for s in sessions if s.after_pain is not None]
    return (sum(changes) / len(changes), len(changes)) if changes else None


def what_helps(user: User, sessions: list[MassageSession]) -> list[dict]:
    """With and without each adjunct, per area and per therapist: average pain change on
    each side, shown only when both sides have at least MIN_SIDE paired sessions."""
    paired = [s for s in sessions if s.after_pain is not None]
    groups = [
        (f"sessions with {label.lower()}", "without", lambda s, c=code: c in s.adjuncts)
        for code, label in ADJUNCTS.items()
    ]
    groups += [
        (f"sessions for {label.lower()}", "for other areas", lambda s, c=code: c in s.areas)
        for code, label in AREAS.items()
    ]
    names = {
        t.id: t.name
        for t in db.session.scalars(select(Therapist).where(Therapist.patient_id == user.id))
    }
    groups += [
        (f"sessions with {name}", "with others", lambda s, t=tid: s.therapist_id == t)
        for tid, name in names.items()
    ]
    rows = []
    for label, other, test in groups:
        with_ = _mean_pain_change([s for s in paired if test(s)])
        without = _mean_pain_change([s for s in paired if not test(s)])
        if with_ and without and with_[1] >= MIN_SIDE and without[1] >= MIN_SIDE:
            rows.append({"label": label, "other": other, "with": with_, "without": without})
    return rows
