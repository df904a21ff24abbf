"""Progress over months (CLINICAL.md "Over months, not only within a session"): the weekly
trend in the patient's own zone, the 12-weeks-against-12 sentence and its thresholds, the
five-a-side rule of "what seems to help", and agreement with NumPy on a seeded year."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import numpy as np
import pytest

from pnapp.demo import session_rows
from pnapp.insights import months_sentence, relief_sentence, what_helps
from pnapp.progress import (
    MIN_PAIRED,
    MIN_SIDE,
    pain_before_periods,
    relief_by_measure,
    trend,
    weeks_kept,
)
from pnapp.timeutil import local_date, week_start

TORONTO = "America/Toronto"


def session(started_at: datetime, pain: int, stress: int = 5, after: int | None = None, **extra):
    """A session as the maths reads it: a start, ratings, adjuncts, areas, a therapist."""
    values = {
        "started_at": started_at,
        "before_pain": pain,
        "before_stress": stress,
        "after_pain": after,
        "after_stress": None if after is None else max(0, stress - 2),
        "adjuncts": [],
        "areas": [],
        "therapist_id": None,
    }
    for m in ("numbness", "tingling", "weakness"):
        values[f"before_{m}"] = values[f"after_{m}"] = None
    values.update(extra)
    return SimpleNamespace(**values)


# The weekly trend


def test_a_week_gives_the_means_before_and_the_mean_change_over_sessions_rated_both_times():
    now = datetime(2026, 11, 20, 17, tzinfo=UTC)  # Friday, week 2026-W47 in Toronto
    sessions = [
        session(datetime(2026, 11, 16, 15, tzinfo=UTC), 6, 4, after=3),
        session(datetime(2026, 11, 18, 15, tzinfo=UTC), 3, 7, after=None),
        session(datetime(2026, 11, 4, 15, tzinfo=UTC), 5, 5, after=5),
    ]
    rows = trend(sessions, TORONTO, now, 3)
    assert rows == [
        {
            "week": "2026-W45",
            "start": "2026-11-02",
            "sessions": 1,
            "pain_before_mean": 5.0,
            "stress_before_mean": 5.0,
            "pain_change_mean": 0.0,
            "pain_change_sessions": 1,
        },
        {
            "week": "2026-W46",
            "start": "2026-11-09",
            "sessions": 0,
            "pain_before_mean": None,
            "stress_before_mean": None,
            "pain_change_mean": None,
            "pain_change_sessions": 0,
        },
        {
            "week": "2026-W47",
            "start": "2026-11-16",
            "sessions": 2,
            "pain_before_mean": 4.5,
            "stress_before_mean": 5.5,
            "pain_change_mean": 3.0,  # only the session rated after
            "pain_change_sessions": 1,
        },
    ]


def test_weeks_follow_the_patients_zone_across_both_daylight_saving_changes():
    # 23:30 on a Sunday in Toronto is already Monday in UTC, in summer time and in winter.
    spring = datetime(2026, 3, 9, 3, 30, tzinfo=UTC)  # Sun 8 March, 23:30 EDT (DST began)
    autumn = datetime(2026, 11, 2, 4, 30, tzinfo=UTC)  # Sun 1 November, 23:30 EST (DST ended)
    for when, sunday_week, monday_week in (
        (spring, "2026-W10", "2026-W11"),
        (autumn, "2026-W44", "2026-W45"),
    ):
        now = when + timedelta(days=3)
        rows = {r["week"]: r["sessions"] for r in trend([session(when, 4)], TORONTO, now, 2)}
        assert rows == {sunday_week: 1, monday_week: 0}
        in_utc = {r["week"]: r["sessions"] for r in trend([session(when, 4)], "UTC", now, 2)}
        assert in_utc == {sunday_week: 0, monday_week: 1}


def test_the_trend_crosses_new_year_through_week_53_and_agrees_with_weeks_kept():
    now = datetime(2027, 1, 6, 12, tzinfo=UTC)
    sessions = [
        session(datetime(2027, 1, 1, 12, tzinfo=UTC), 6, after=4),
        session(datetime(2027, 1, 2, 12, tzinfo=UTC), 2, after=2),
        session(datetime(2026, 12, 22, 12, tzinfo=UTC), 7, after=3),
    ]
    rows = trend(sessions, "UTC", now, 3)
    assert [r["week"] for r in rows] == ["2026-W52", "2026-W53", "2027-W01"]
    assert [r["pain_before_mean"] for r in rows] == [7.0, 4.0, None]
    kept = weeks_kept((s.started_at for s in sessions), "UTC", 1, now, 3)
    assert [w["sessions"] for w in kept["weeks"]] == [r["sessions"] for r in rows]


def test_the_progress_api_gives_the_trend_oldest_first(as_alice):
    from tests.helpers import iso, session_body

    now = datetime.now(UTC)
    for days, pain in ((1, 6), (2, 4), (15, 8)):
        body = session_body(
            started_at=iso(now - timedelta(days=days)),
            before={"pain": pain, "stress": 3},
            after={"pain": pain - 2, "stress": 1},
        )
        assert as_alice.post("/sessions", body).status_code == 201
    body = as_alice.get("/progress", query_string={"weeks": 5}).get_json()
    assert len(body["trend"]) == 5
    assert [t["week"] for t in body["trend"]] == [w["week"] for w in body["weeks"]]
    assert [t["sessions"] for t in body["trend"]] == [w["sessions"] for w in body["weeks"]]
    assert sum(t["sessions"] for t in body["trend"]) == 3
    empty = [t for t in body["trend"] if not t["sessions"]]
    assert empty and all(
        t["pain_before_mean"] is None and t["pain_change_mean"] is None for t in empty
    )
    assert body["pgic"] == []


# The plain sentence: the latest 12 weeks against the 12 before


def periods_with(recent: list[int], earlier: list[int]) -> dict:
    """Sessions on Wednesdays: `recent` in the last 12 weeks, `earlier` in the 12 before."""
    now = datetime(2026, 11, 20, 17, tzinfo=UTC)
    this_monday = week_start(local_date(now, TORONTO))
    sessions = [
        session(
            datetime.combine(this_monday - timedelta(weeks=i), datetime.min.time(), UTC)
            + timedelta(days=2, hours=15),
            pain,
        )
        for i, pain in enumerate(recent)
    ] + [
        session(
            datetime.combine(this_monday - timedelta(weeks=12 + i), datetime.min.time(), UTC)
            + timedelta(days=2, hours=15),
            pain,
        )
        for i, pain in enumerate(earlier)
    ]
    # One too old to count, and one of next week's (after now): neither is in a period.
    sessions.append(session(now - timedelta(weeks=25), 10))
    sessions.append(session(now + timedelta(days=1), 10))
    return pain_before_periods(sessions, TORONTO, now)


def test_each_period_needs_six_sessions_with_a_before_pain_rating():
    assert not periods_with([4] * 6, [5] * 5)["comparable"]
    assert not periods_with([4] * 5, [5] * 12)["comparable"]
    both = periods_with([4] * 6, [5] * 6)
    assert both["comparable"]
    assert (both["recent"]["sessions"], both["earlier"]["sessions"]) == (6, 6)
    assert (both["recent"]["start"], both["earlier"]["start"]) == ("2026-08-31", "2026-06-08")


@pytest.mark.parametrize(
    ("recent", "earlier", "direction"),
    [
        ([3] * 6, [4] * 6, "lower"),  # exactly one point lower counts
        ([4] * 6, [3] * 6, "higher"),
        ([3] * 6, [4] * 5 + [3], None),  # 0.83 points: no word
        # 0.7 against 1.7: one point exactly, which floating point makes 0.9999999999999999.
        ([0] * 3 + [1] * 7, [1] * 3 + [2] * 7, "lower"),
        ([3] * 7, [4] * 6 + [3], None),  # 0.86 points
    ],
)
def test_a_difference_is_named_only_from_one_point_exactly(recent, earlier, direction):
    assert periods_with(recent, earlier)["direction"] == direction


def test_the_sentence_is_clinical_mds_and_nothing_stronger(app):
    # 38 / 9 = 4.22 and 46 / 10 = 4.6: CLINICAL.md's own example.
    periods = periods_with([4] * 7 + [5] * 2, [5] * 6 + [4] * 4)
    with app.test_request_context():
        assert months_sentence(periods, None) == (
            "Before your massages, your pain averaged 4.2 over the last 12 weeks (9 sessions) "
            "and 4.6 over the 12 weeks before (10 sessions)."
        )
        assert months_sentence(periods, "Dana") == (
            "Before massages, Dana's pain averaged 4.2 over the last 12 weeks (9 sessions) "
            "and 4.6 over the 12 weeks before (10 sessions)."
        )
        lower = months_sentence(periods_with([2] * 6, [5] * 6), None)
        assert lower.endswith("That is 3.0 points lower.")
        higher = months_sentence(periods_with([6] * 6, [5] * 6), None)
        assert higher.endswith("That is 1.0 points higher.")
        too_few = months_sentence(periods_with([4] * 6, [5] * 2), None)
        assert "at least 6 sessions" in too_few and "so far 6" in too_few and "and 2" in too_few
        for text in (lower, higher, too_few):
            for word in ("improv", "better", "because", "worse"):
                assert word not in text.lower()


# Too early to tell, and what seems to help


def test_relief_is_too_early_to_tell_under_five_paired_sessions(app):
    pairs = [(6, 3), (5, 4), (7, 4), (4, 4)]
    sessions = [
        session(datetime(2026, 11, 2 + i, 15, tzinfo=UTC), pre, after=post)
        for i, (pre, post) in enumerate(pairs)
    ]
    with app.test_request_context():
        pain = relief_by_measure(sessions)["pain"]
        assert pain["n_paired"] == MIN_PAIRED - 1 and pain["mean_change"] == 1.75  # API keeps it
        early = relief_sentence(pain, 12, None)
        assert early.startswith("Too early to tell") and "have 4" in early
        sessions.append(session(datetime(2026, 11, 9, 15, tzinfo=UTC), 8, after=4))
        pain = relief_by_measure(sessions)["pain"]
        told = relief_sentence(pain, 12, None)
        assert told.startswith("Over the last 12 weeks your pain fell by 2.2 points")


def sides(n_with: int, n_without: int, with_change: int, without_change: int) -> list:
    day = datetime(2026, 11, 2, 15, tzinfo=UTC)
    return [
        session(day, 6, after=6 - with_change, adjuncts=["heat_towels"]) for _ in range(n_with)
    ] + [session(day, 6, after=6 - without_change) for _ in range(n_without)]


@pytest.mark.parametrize(("n_with", "n_without"), [(4, 12), (12, 4), (4, 4)])
def test_a_comparison_needs_five_paired_sessions_on_each_side(app, n_with, n_without):
    with app.test_request_context():
        assert what_helps(None, sides(n_with, n_without, 3, 2), by_therapist=False) == []


def test_a_comparison_says_the_direction_in_words_with_both_counts(app):
    with app.test_request_context():
        [more] = [
            h
            for h in what_helps(None, sides(MIN_SIDE, 7, 3, 2), by_therapist=False)
            if "heat towels" in h["sentence"]
        ]
        assert more["sentence"] == (
            "Pain fell 1.0 points more on average in sessions with heat towels: "
            "5 sessions with, 7 without."
        )
        [less] = [
            h
            for h in what_helps(None, sides(8, 5, 1, 3), by_therapist=False)
            if "heat towels" in h["sentence"]
        ]
        assert less["sentence"].startswith("Pain fell 2.0 points less on average")
        [same] = what_helps(None, sides(5, 5, 2, 2), by_therapist=False)
        assert same["sentence"].startswith("Pain fell about as much in sessions with heat")
        # A session without an after rating is on neither side.
        unrated = sides(5, 4, 3, 2) + [session(datetime(2026, 11, 3, tzinfo=UTC), 6)]
        assert what_helps(None, unrated, by_therapist=False) == []


# NumPy agrees on a seeded year


def test_the_trend_and_relief_agree_with_numpy_on_a_seeded_year():
    """Means are exact in both (sums of small integers); a sample SD may differ by an ulp,
    since statistics.stdev rounds once from exact arithmetic and NumPy sums in floats."""
    now = datetime(2026, 11, 20, 17, tzinfo=UTC)
    patient = SimpleNamespace(id=1, timezone=TORONTO)
    sessions = [SimpleNamespace(**r) for r in session_rows(patient, weeks=52, seed=11, now=now)]
    assert len(sessions) > 40
    rows = trend(sessions, TORONTO, now, 53)
    by_week = defaultdict(list)
    for s in sessions:
        by_week[week_start(local_date(s.started_at, TORONTO)).isoformat()].append(s)
    for row in rows:
        group = by_week.get(row["start"], [])
        assert row["sessions"] == len(group)
        if not group:
            assert row["pain_before_mean"] is None
            continue
        assert row["pain_before_mean"] == float(np.mean([s.before_pain for s in group]))
        assert row["stress_before_mean"] == float(np.mean([s.before_stress for s in group]))
        changes = np.array([s.before_pain - s.after_pain for s in group])
        assert row["pain_change_mean"] == float(changes.mean())
    assert sum(r["sessions"] for r in rows) == len(sessions)

    relief = relief_by_measure(sessions)
    for measure in ("pain", "stress", "numbness"):
        pre = np.array([getattr(s, f"before_{measure}") for s in sessions], dtype=object)
        post = np.array([getattr(s, f"after_{measure}") for s in sessions], dtype=object)
        both = np.array([a is not None and b is not None for a, b in zip(pre, post, strict=True)])
        pre, post = pre[both].astype(int), post[both].astype(int)
        d = pre - post
        r = relief[measure]
        assert r["n_paired"] == len(d)
        assert r["mean_before"] == float(pre.mean()) and r["mean_after"] == float(post.mean())
        assert r["mean_change"] == float(d.mean())
        sd = float(d.std(ddof=1))
        assert abs(r["sd_change"] - sd) <= 2 * math.ulp(sd)
        assert abs(r["effect_size_dz"] - d.mean() / sd) <= 4 * math.ulp(d.mean() / sd)
        eligible = pre > 0
        assert r["meaningful_30"] == {
            "count": int(np.sum(10 * d[eligible] >= 3 * pre[eligible])),
            "eligible": int(eligible.sum()),
        }
        assert r["substantial_50"]["count"] == int(np.sum(2 * d[eligible] >= pre[eligible]))
        assert r["worsened"] == int(np.sum(post > pre))
