"""What a patient (or their caregiver) reads about progress: the numbers of progress.py put
into modest words, the charts, and the "what seems to help" comparisons."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from pnapp.charts import Point, before_after_chart
from pnapp.extensions import db
from pnapp.labels import ADJUNCTS, AREAS, decimal
from pnapp.models import MassageSession, Therapist, User
from pnapp.timeutil import local_date, local_midnight, week_start, zone

MIN_SIDE = 3  # a comparison is shown only when each side has this many paired sessions
# Whole sentences per kind of comparison, since word order differs between languages.
COMPARISONS = {
    "adjunct": _l(
        "Sessions with %(what)s: average pain change %(with)s (%(n_with)s sessions); "
        "without: %(without)s (%(n_without)s sessions)."
    ),
    "area": _l(
        "Sessions for %(what)s: average pain change %(with)s (%(n_with)s sessions); "
        "for other areas: %(without)s (%(n_without)s sessions)."
    ),
    "therapist": _l(
        "Sessions with %(what)s: average pain change %(with)s (%(n_with)s sessions); "
        "with others: %(without)s (%(n_without)s sessions)."
    ),
}


def window_start(user: User, now: datetime, weeks: int) -> datetime:
    monday = week_start(local_date(now, user.timezone)) - timedelta(weeks=weeks - 1)
    return local_midnight(monday, user.timezone)


CHART_TITLES = {
    "pain": _l("Pain before and after each session, oldest first"),
    "stress": _l("Stress before and after each session, oldest first"),
}


def progress_page(
    user: User, now: datetime, weeks: int, *, name: str | None = None, each_session: bool = True
) -> dict:
    """Everything the progress screens show, in a bounded number of queries.

    each_session=False leaves out what shows single sessions (charts, their table of dates
    and ratings, and comparisons by therapist, which name people): a caregiver without the
    `sessions` scope sees aggregates only (API.md, Caregivers, extended)."""
    progress = user.progress(now, weeks)
    summary = summary_sentence(progress["relief"]["pain"], weeks, name)
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
    if not each_session:
        return {
            "progress": progress,
            "weeks": weeks,
            "sessions": [],
            "charts": {},
            "summary": summary,
            "helps": what_helps(user, sessions, by_therapist=False),
        }
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
            str(CHART_TITLES[measure]),
            f"chart-{measure}",
        )
    return {
        "progress": progress,
        "weeks": weeks,
        "sessions": sessions,
        "charts": charts,
        "summary": summary,
        "helps": what_helps(user, sessions),
    }


def summary_sentence(pain: dict, weeks: int, name: str | None) -> str:
    """Pain relief over the window in one or two modest sentences; name=None speaks to the
    patient, a name speaks about them (to a caregiver or a clinician)."""
    n = pain["n_paired"]
    if n == 0:
        return ngettext(
            "No sessions with both before and after ratings in the last week yet.",
            "No sessions with both before and after ratings in the last %(num)d weeks yet.",
            weeks,
        )
    change = pain["mean_change"]
    values = {"weeks": weeks, "points": decimal(abs(change)), "name": name}
    if name is None:
        if change > 0:
            text = gettext(
                "Over the last %(weeks)d weeks your pain fell by %(points)s points on average "
                "after a session.",
                **values,
            )
        elif change < 0:
            text = gettext(
                "Over the last %(weeks)d weeks your pain rose by %(points)s points on average "
                "after a session.",
                **values,
            )
        else:
            text = gettext(
                "Over the last %(weeks)d weeks your pain was on average the same after a session.",
                **values,
            )
    elif change > 0:
        text = gettext(
            "Over the last %(weeks)d weeks %(name)s's pain fell by %(points)s points on "
            "average after a session.",
            **values,
        )
    elif change < 0:
        text = gettext(
            "Over the last %(weeks)d weeks %(name)s's pain rose by %(points)s points on "
            "average after a session.",
            **values,
        )
    else:
        text = gettext(
            "Over the last %(weeks)d weeks %(name)s's pain was on average the same after a "
            "session.",
            **values,
        )
    meaningful = pain["meaningful_30"]
    if meaningful["eligible"]:
        text += " " + ngettext(
            "%(count)d of %(num)d session brought meaningful relief (30%% or more).",
            "%(count)d of %(num)d sessions brought meaningful relief (30%% or more).",
            meaningful["eligible"],
            count=meaningful["count"],
        )
    return text


def _mean_pain_change(sessions: list[MassageSession]) -> tuple[float, int] | None:
    changes = [s.before_pain - s.after_pain for s in sessions if s.after_pain is not None]
    return (sum(changes) / len(changes), len(changes)) if changes else None


def what_helps(
    user: User, sessions: list[MassageSession], *, by_therapist: bool = True
) -> list[dict]:
    """With and without each adjunct, per area and (by_therapist) per therapist: average
    pain change on each side, shown only when both sides have at least MIN_SIDE paired
    sessions."""
    paired = [s for s in sessions if s.after_pain is not None]
    groups = [
        ("adjunct", str(label).lower(), lambda s, c=code: c in s.adjuncts)
        for code, label in ADJUNCTS.items()
    ]
    groups += [
        ("area", str(label).lower(), lambda s, c=code: c in s.areas)
        for code, label in AREAS.items()
    ]
    if by_therapist:
        groups += [
            ("therapist", t.name, lambda s, tid=t.id: s.therapist_id == tid)
            for t in db.session.scalars(select(Therapist).where(Therapist.patient_id == user.id))
        ]
    rows = []
    for kind, what, test in groups:
        with_ = _mean_pain_change([s for s in paired if test(s)])
        without = _mean_pain_change([s for s in paired if not test(s)])
        if with_ and without and with_[1] >= MIN_SIDE and without[1] >= MIN_SIDE:
            text = str(COMPARISONS[kind]) % {
                "what": what,
                "with": decimal(with_[0]),
                "without": decimal(without[0]),
                "n_with": with_[1],
                "n_without": without[1],
            }
            rows.append({"sentence": text, "with": with_, "without": without})
    return rows
