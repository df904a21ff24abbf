"""Progress maths, exactly as CLINICAL.md defines it: relief per measure, weeks kept and
streaks. Plain functions of plain values: no Flask, no database."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from pnapp.measures import MEASURES
from pnapp.timeutil import iso_week_label, local_date, week_start


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


def weeks_kept(starts: Iterable[datetime], tz: str, goal: int, now: datetime, weeks: int) -> dict:
    """The last `weeks` ISO weeks (oldest first, the current one last) in zone tz, with the
    session count and whether the goal was met, and the current and longest streaks.

    The streak is the run of consecutive met weeks ending with the last complete week, or
    with the current week once its goal is met; an unfinished current week never breaks it.
    """
    counts = Counter(week_start(local_date(s, tz)) for s in starts)
    this_week = week_start(local_date(now, tz))
    window = [this_week - timedelta(weeks=i) for i in range(weeks - 1, -1, -1)]
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
    met = sorted(monday for monday, n in counts.items() if n >= goal)
    best = run = 0
    previous = None
    for monday in met:
        run = run + 1 if previous and monday - previous == timedelta(weeks=1) else 1
        best = max(best, run)
        previous = monday
    return best
