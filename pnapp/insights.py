"""What a patient (or their caregiver, or their doctor) reads about progress: the numbers of
progress.py put into modest words, the charts, and the "what seems to help" comparisons.

The words follow CLINICAL.md: each sentence says how many sessions it rests on, says "too
early to tell" rather than guess, and never more than the numbers do ("lower", never
"because of massage"). Whole sentences per case, since word order differs by language;
name=None speaks to the patient, a name speaks about them (to a caregiver, a clinician)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from pnapp.charts import DateAxis, before_after_chart, session_points, trend_chart
from pnapp.extensions import db
from pnapp.labels import ADJUNCTS, AREAS, decimal
from pnapp.models import MassageSession, Therapist, User
from pnapp.progress import (
    MIN_PAIRED,
    MIN_PERIOD_SESSIONS,
    MIN_SIDE,
    PERIOD_WEEKS,
    pain_before_periods,
    window_mondays,
)
from pnapp.timeutil import local_midnight

CHART_TITLES = {
    "pain": _l("Pain before and after each session, oldest first"),
    "stress": _l("Stress before and after each session, oldest first"),
}
TREND_TITLE = _l("Pain and stress before massage, week by week, oldest first")
TREND_KEY = _l("Each point is a week's average; a gap is a week without a session.")


# Whole sentences for "what seems to help", by kind of comparison and direction.
COMPARISONS = {
    ("adjunct", "more"): _l(
        "Pain fell %(points)s points more on average in sessions with %(what)s: "
        "%(n_with)d sessions with, %(n_without)d without."
    ),
    ("adjunct", "less"): _l(
        "Pain fell %(points)s points less on average in sessions with %(what)s: "
        "%(n_with)d sessions with, %(n_without)d without."
    ),
    ("adjunct", "same"): _l(
        "Pain fell about as much in sessions with %(what)s as without: "
        "%(n_with)d sessions with, %(n_without)d without."
    ),
    ("area", "more"): _l(
        "Pain fell %(points)s points more on average in sessions for %(what)s than for other "
        "areas: %(n_with)d sessions for %(what)s, %(n_without)d for others."
    ),
    ("area", "less"): _l(
        "Pain fell %(points)s points less on average in sessions for %(what)s than for other "
        "areas: %(n_with)d sessions for %(what)s, %(n_without)d for others."
    ),
    ("area", "same"): _l(
        "Pain fell about as much in sessions for %(what)s as for other areas: "
        "%(n_with)d sessions for %(what)s, %(n_without)d for others."
    ),
    ("therapist", "more"): _l(
        "Pain fell %(points)s points more on average in sessions with %(what)s than with "
        "others: %(n_with)d sessions with %(what)s, %(n_without)d with others."
    ),
    ("therapist", "less"): _l(
        "Pain fell %(points)s points less on average in sessions with %(what)s than with "
        "others: %(n_with)d sessions with %(what)s, %(n_without)d with others."
    ),
    ("therapist", "same"): _l(
        "Pain fell about as much in sessions with %(what)s as with others: "
        "%(n_with)d sessions with %(what)s, %(n_without)d with others."
    ),
}


def window_start(user: User, now: datetime, weeks: int) -> datetime:
    """The UTC instant the window of the last `weeks` local ISO weeks begins."""
    return local_midnight(window_mondays(now, user.timezone, weeks)[0], user.timezone)


def progress_page(
    user: User, now: datetime, weeks: int, *, name: str | None = None, each_session: bool = True
) -> dict:
    """Everything the progress screens and the report show, in a bounded number of queries
    (User.progress's two, the sessions of the window or of 24 weeks if longer, therapists).

    name=None speaks to the patient; a name speaks about them. each_session=False leaves
    out what shows single sessions (the per-session charts and their table of dates, the
    comparisons by therapist, which name people): a caregiver without the `sessions` scope
    sees aggregates only (API.md, Caregivers, extended), so the weekly trend as a table and
    no chart at all."""
    progress = user.progress(now, weeks)
    recent = list(
        db.session.scalars(
            select(MassageSession)
            .where(
                MassageSession.patient_id == user.id,
                MassageSession.started_at >= window_start(user, now, max(weeks, 2 * PERIOD_WEEKS)),
                MassageSession.started_at <= now,
            )
            .order_by(MassageSession.started_at, MassageSession.id)
        )
    )
    since = window_start(user, now, weeks)
    sessions = [s for s in recent if s.started_at >= since]
    axis = DateAxis.for_weeks(window_mondays(now, user.timezone, weeks))
    pain = progress["relief"]["pain"]
    page = {
        "progress": progress,
        "weeks": weeks,
        "axis": axis,
        "sessions": sessions if each_session else [],
        "months": months_sentence(pain_before_periods(recent, user.timezone, now), name),
        "summary": relief_sentence(pain, weeks, name),
        "counts": counts_sentence(len(sessions), pain["n_paired"]),
        "min_paired": MIN_PAIRED,
        "trend_weeks": [w for w in progress["trend"] if w["sessions"]],
        "trend_caption": trend_caption(progress["trend"]),
        "trend_key": TREND_KEY,
        "pgic": pgic_summary(progress["pgic"]),
        "helps": what_helps(user, sessions, by_therapist=each_session),
        "trend_chart": None,
        "charts": {},
    }
    if each_session:
        page["trend_chart"] = trend_chart(progress["trend"], axis, str(TREND_TITLE), "chart-trend")
        page["charts"] = {
            m: before_after_chart(
                session_points(sessions, m, user.timezone), axis, str(CHART_TITLES[m]), f"chart-{m}"
            )
            for m in ("pain", "stress")
        }
    return page


def _mean_pain_change(sessions: list[MassageSession]) -> tuple[float, int] | None:
    changes = [s.before_pain - s.after_pain for s in sessions if s.after_pain is not None]
    return (sum(changes) / len(changes), len(changes)) if changes else None


def what_helps(
    user: User, sessions: list[MassageSession], *, by_therapist: bool = True
) -> list[dict]:
    """With and without each adjunct, per area and (by_therapist) per therapist: the
    average pain change on each side, shown only when both sides have at least MIN_SIDE
    paired sessions, the largest difference first."""
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
            rows.append(
                {
                    "sentence": comparison(kind, what, with_, without),
                    "with": with_,
                    "without": without,
                }
            )
    return sorted(rows, key=lambda r: -abs(r["with"][0] - r["without"][0]))


def comparison(kind: str, what: str, with_: tuple[float, int], without: tuple[float, int]) -> str:
    """One "what seems to help" sentence: the direction in words, the difference in mean
    pain change (rounded as shown, so "0.0 points more" is said as "about as much"), and
    the sessions on each side."""
    difference = with_[0] - without[0]
    points = decimal(abs(difference))
    direction = "same" if points == decimal(0) else "more" if difference > 0 else "less"
    return str(COMPARISONS[kind, direction]) % {
        "what": what,
        "points": points,
        "n_with": with_[1],
        "n_without": without[1],
    }


def months_sentence(periods: dict, name: str | None) -> str:
    """Pain before sessions in the latest 12 weeks against the 12 before, in CLINICAL.md's
    words, only when each period has MIN_PERIOD_SESSIONS; a difference is named only when
    it is a point or more, and then only as "lower" or "higher"."""
    recent, earlier = periods["recent"], periods["earlier"]
    if not periods["comparable"]:
        return gettext(
            "Comparing months needs at least %(min)d sessions in each of two %(weeks)d-week "
            "periods: so far %(recent)d in the last %(weeks)d weeks and %(earlier)d in the "
            "%(weeks)d weeks before.",
            min=MIN_PERIOD_SESSIONS,
            weeks=PERIOD_WEEKS,
            recent=recent["sessions"],
            earlier=earlier["sessions"],
        )
    values = {
        "weeks": PERIOD_WEEKS,
        "recent": decimal(recent["pain_before_mean"]),
        "earlier": decimal(earlier["pain_before_mean"]),
        "n_recent": recent["sessions"],
        "n_earlier": earlier["sessions"],
        "name": name,
    }
    if name is None:
        text = gettext(
            "Before your massages, your pain averaged %(recent)s over the last %(weeks)d "
            "weeks (%(n_recent)d sessions) and %(earlier)s over the %(weeks)d weeks before "
            "(%(n_earlier)d sessions).",
            **values,
        )
    else:
        text = gettext(
            "Before massages, %(name)s's pain averaged %(recent)s over the last %(weeks)d "
            "weeks (%(n_recent)d sessions) and %(earlier)s over the %(weeks)d weeks before "
            "(%(n_earlier)d sessions).",
            **values,
        )
    difference = decimal(abs(recent["pain_before_mean"] - earlier["pain_before_mean"]))
    if periods["direction"] == "lower":
        text += " " + gettext("That is %(points)s points lower.", points=difference)
    elif periods["direction"] == "higher":
        text += " " + gettext("That is %(points)s points higher.", points=difference)
    return text


def counts_sentence(sessions: int, paired: int) -> str:
    """Why the counts below differ: every session has a before rating, fewer an after."""
    if not sessions:
        return gettext("No sessions in these weeks yet.")
    return ngettext(
        "%(num)d session in these weeks had a before rating; %(paired)d also had an after rating.",
        "%(num)d sessions in these weeks had a before rating; %(paired)d also had an after rating.",
        sessions,
        paired=paired,
    )


def from_zero(count: int) -> str:
    """Why a relief count covers fewer sessions than were rated twice: from 0 nothing can fall
    by 30%."""
    return ngettext(
        "%(num)d session started at 0, so relief in percent does not apply to it.",
        "%(num)d sessions started at 0, so relief in percent does not apply to them.",
        count,
    )


def relief_sentence(pain: dict, weeks: int, name: str | None) -> str:
    """Pain relief over the window in one or two modest sentences; with fewer than
    MIN_PAIRED sessions rated both times, "too early to tell" and the count."""
    n = pain["n_paired"]
    if n < MIN_PAIRED:
        return ngettext(
            "Too early to tell: relief is summed up from %(min)d sessions rated before and "
            "after, and these weeks have %(num)d.",
            "Too early to tell: relief is summed up from %(min)d sessions rated before and "
            "after, and these weeks have %(num)d.",
            n,
            min=MIN_PAIRED,
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


def trend_caption(trend: list[dict]) -> str:
    """What the weekly trend rests on: its sessions, and the weeks that had one."""
    with_sessions = [w for w in trend if w["sessions"]]
    return ngettext(
        "%(num)d session in %(kept)d of these %(weeks)d weeks.",
        "%(num)d sessions in %(kept)d of these %(weeks)d weeks.",
        sum(w["sessions"] for w in with_sessions),
        kept=len(with_sessions),
        weeks=len(trend),
    )


def pgic_summary(answers: list) -> dict:
    """The answers of the window, the latest, and (from two answers on) how many were much
    or very much improved: the usual responder definition, and nothing stronger."""
    improved = sum(1 for a in answers if a.improved)
    sentence = None
    if len(answers) >= 2:
        sentence = ngettext(
            "%(count)d of the %(num)d answer was much or very much improved.",
            "%(count)d of the %(num)d answers were much or very much improved.",
            len(answers),
            count=improved,
        )
    return {"answers": answers, "latest": answers[-1] if answers else None, "sentence": sentence}
