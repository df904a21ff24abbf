"""Progress maths, exactly as CLINICAL.md defines it: relief per measure, weeks kept and
streaks, the trend over months, and when to ask the global impression of change (PGIC).
Plain functions of plain values: no Flask, no database."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from pnapp.measures import MEASURES
from pnapp.timeutil import iso_week_label, local_date, week_start, zone

# Fewer sessions rated both before and after than this in the window: too early to tell.
MIN_PAIRED = 5
# A comparison (with or without an adjunct, a therapist, an area) needs this many paired
# sessions on each side.
MIN_SIDE = 5
# The plain sentence compares the latest 12 weeks with the 12 before them, when each has at
# least 6 sessions with a before-pain rating; a difference of 1 point or more may be named.
PERIOD_WEEKS = 12
MIN_PERIOD_SESSIONS = 6
NOTICEABLE = 1
# PGIC: at most once every 28 days, after at least 4 sessions since the first one or since
# the last answer.
PGIC_EVERY = timedelta(days=28)
PGIC_AFTER_SESSIONS = 4


def relief(pairs: Sequence[tuple[int, int]]) -> dict:
    """Relief over (before, after) pairs of one measure. Values that cannot be computed
    are None, never 0; only display rounds."""
    n = len(pairs)
    changes = [pre - post for pre, post in pairs]
    eligible = [(pre, post) for pre, post in pairs if pre > 0]  # % change needs pre > 0
    sd = statistics.stdev(changes) if n >= 2 else None
    mean_change = statistics.fmean(changes) if n else None
    return {
        "n_paired": n,
        "mean_before": statistics.fmean(pre for pre, _ in pairs) if n else None,
        "mean_after": statistics.fmean(post for _, post in pairs) if n else None,
        "mean_change": mean_change,
        "sd_change": sd,
        "effect_size_dz": mean_change / sd if sd else None,
        # Integer arithmetic: exactly 30% counts, with no rounding error.
        "meaningful_30": {
            "count": sum(1 for pre, post in eligible if 10 * (pre - post) >= 3 * pre),
            "eligible": len(eligible),
        },
        "substantial_50": {
            "count": sum(1 for pre, post in eligible if 2 * (pre - post) >= pre),
            "eligible": len(eligible),
        },
        "worsened": sum(1 for pre, post in pairs if post > pre),
    }


def relief_by_measure(sessions: Iterable) -> dict[str, dict]:
    """Relief for every measure over sessions with before_<m> and after_<m> attributes."""
    sessions = list(sessions)
    out = {}
    for m in MEASURES:
        pairs = [
            (getattr(s, f"before_{m}"), getattr(s, f"after_{m}"))
            for s in sessions
            if getattr(s, f"before_{m}") is not None and getattr(s, f"after_{m}") is not None
        ]
        out[m] = relief(pairs)
    return out


def weeks_kept(
    starts: Iterable[datetime],
    tz: str,
    goal: int,
    now: datetime,
    weeks: int,
    earlier: Iterable[int] = (),
) -> dict:
    """The last `weeks` ISO weeks (oldest first, the current one last) in zone tz, with the
    session count and whether the goal was met, and the current and longest streaks.
    `earlier`: more sessions' start times, as whole seconds since 1970 (UTC).

    The streak is the run of consecutive met weeks ending with the last complete week, or
    with the current week once its goal is met; an unfinished current week never breaks it.
    """
    counts = Counter(week_start(local_date(s, tz)) for s in starts)
    where = zone(tz)
    days = Counter(datetime.fromtimestamp(seconds, where).date() for seconds in earlier)
    for day, n in days.items():
        counts[week_start(day)] += n
    window = window_mondays(now, tz, weeks)
    this_week = window[-1]
    rows = [
        {
            "week": iso_week_label(monday),
            "start": monday.isoformat(),
            "sessions": counts[monday],
            "goal_met": counts[monday] >= goal,
        }
        for monday in window
    ]
    return {
        "weeks": rows,
        "current_streak_weeks": current_streak(counts, goal, this_week),
        "longest_streak_weeks": longest_streak(counts, goal),
    }


def current_streak(counts: Counter, goal: int, this_week: date) -> int:
    monday = this_week if counts[this_week] >= goal else this_week - timedelta(weeks=1)
    streak = 0
    while counts[monday] >= goal:
        streak += 1
        monday -= timedelta(weeks=1)
    return streak


def longest_streak(counts: Counter, goal: int) -> int:
    met = sorted(monday.toordinal() for monday, n in counts.items() if n >= goal)
    best = run = 0
    previous = None
    for monday in met:  # day numbers: a week apart is 7
        run = run + 1 if previous is not None and monday - previous == 7 else 1
        best = max(best, run)
        previous = monday
    return best


def window_mondays(now: datetime, tz: str, weeks: int) -> list[date]:
    """The Mondays of the last `weeks` local ISO weeks, oldest first, the current one last."""
    this_week = week_start(local_date(now, tz))
    return [this_week - timedelta(weeks=i) for i in range(weeks - 1, -1, -1)]


def _mean(values: Iterable[int]) -> float | None:
    values = list(values)
    return statistics.fmean(values) if values else None


def trend(sessions: Iterable, tz: str, now: datetime, weeks: int) -> list[dict]:
    """Per local ISO week of the window (oldest first): the sessions started in it, the mean
    pain and stress before them, and the mean pain change over those rated both times
    (`pain_change_sessions` of them). None where there is nothing to average.

    Sessions need started_at, before_pain, before_stress and after_pain; a week counts
    sessions as weeks_kept does, so the two always agree."""
    by_week: dict[date, list] = defaultdict(list)
    for s in sessions:
        by_week[week_start(local_date(s.started_at, tz))].append(s)
    rows = []
    for monday in window_mondays(now, tz, weeks):
        group = by_week.get(monday, [])
        changes = [s.before_pain - s.after_pain for s in group if s.after_pain is not None]
        rows.append(
            {
                "week": iso_week_label(monday),
                "start": monday.isoformat(),
                "sessions": len(group),
                "pain_before_mean": _mean(s.before_pain for s in group),
                "stress_before_mean": _mean(s.before_stress for s in group),
                "pain_change_mean": _mean(changes),
                "pain_change_sessions": len(changes),
            }
        )
    return rows


def pain_before_periods(sessions: Iterable, tz: str, now: datetime) -> dict:
    """Pain before sessions in the latest PERIOD_WEEKS local weeks (the current one last)
    and in the PERIOD_WEEKS before them: for each, its first Monday, the sessions (every
    session has a before-pain rating), their sum and mean; and `direction`: "lower" or
    "higher" when both periods have MIN_PERIOD_SESSIONS and the recent mean differs by
    NOTICEABLE point or more, else None.

    The comparison is exact (integer arithmetic on sums and counts), so a difference of
    exactly one point counts, as exactly 30% does for relief."""
    mondays = window_mondays(now, tz, 2 * PERIOD_WEEKS)
    earlier_start, recent_start = mondays[0], mondays[PERIOD_WEEKS]
    values: dict[str, list[int]] = {"earlier": [], "recent": []}
    for s in sessions:
        monday = week_start(local_date(s.started_at, tz))
        if s.started_at <= now and monday >= earlier_start:
            values["recent" if monday >= recent_start else "earlier"].append(s.before_pain)
    periods = {
        name: {
            "start": start.isoformat(),
            "sessions": len(values[name]),
            "pain_before_sum": sum(values[name]),
            "pain_before_mean": _mean(values[name]),
        }
        for name, start in (("earlier", earlier_start), ("recent", recent_start))
    }
    recent, earlier = periods["recent"], periods["earlier"]
    comparable = min(recent["sessions"], earlier["sessions"]) >= MIN_PERIOD_SESSIONS
    direction = None
    if comparable:
        # (recent mean - earlier mean) times both counts: positive when higher lately.
        scaled = (
            recent["pain_before_sum"] * earlier["sessions"]
            - earlier["pain_before_sum"] * recent["sessions"]
        )
        noticeable = NOTICEABLE * recent["sessions"] * earlier["sessions"]
        if scaled <= -noticeable:
            direction = "lower"
        elif scaled >= noticeable:
            direction = "higher"
    return {**periods, "comparable": comparable, "direction": direction}


def pgic_due(
    now: datetime,
    sessions_since: int,
    latest_session: datetime | None,
    *,
    last_answer_at: datetime | None = None,
    last_asked_at: datetime | None = None,
) -> bool:
    """Whether to offer the PGIC question on this visit (CLINICAL.md):
    1. never within PGIC_EVERY (28 days) of the last answer or "Not now";
    2. only once PGIC_AFTER_SESSIONS (4) sessions have started since the first one, or since
       the last answer when there is one (`sessions_since`, counted up to `now`);
    3. only on a visit after a session: the latest one (`latest_session`) must have started
       since the question was last answered or set aside."""
    if latest_session is None:
        return False
    asked = max((t for t in (last_answer_at, last_asked_at) if t is not None), default=None)
    if asked is not None and now - asked < PGIC_EVERY:
        return False
    if sessions_since < PGIC_AFTER_SESSIONS:
        return False
    return asked is None or latest_session > asked
