"""Progress numbers match CLINICAL.md's definitions and worked vectors."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from pnapp.progress import current_streak, longest_streak, relief, weeks_kept
from tests.helpers import iso, session_body

PAIN_PRE = [6, 5, 7, 4, 8, 3, 6, 5, 0, 10]
PAIN_POST = [3, 4, 4, 4, 5, 1, 2, 5, 0, 7]
STRESS_PRE = [7, 6, 5, 8, 4, 6, 3, 7, 5, 6]
STRESS_POST = [3, 4, 2, 5, 4, 2, 3, 3, 2, 7]


def test_the_pain_vector_from_clinical_md():
    r = relief(list(zip(PAIN_PRE, PAIN_POST, strict=True)))
    assert r["n_paired"] == 10
    assert r["mean_before"] == pytest.approx(5.4)
    assert r["mean_after"] == pytest.approx(3.5)
    assert r["mean_change"] == pytest.approx(1.9)
    assert round(r["sd_change"], 4) == 1.5239
    assert round(r["effect_size_dz"], 4) == 1.2468
    assert r["meaningful_30"] == {"count": 6, "eligible": 9}  # 10 -> 7 is exactly 30%
    assert r["substantial_50"] == {"count": 3, "eligible": 9}
    assert r["worsened"] == 0


def test_the_stress_vector_from_clinical_md():
    r = relief(list(zip(STRESS_PRE, STRESS_POST, strict=True)))
    assert r["mean_change"] == pytest.approx(2.2)
    assert round(r["sd_change"], 4) == 1.8738
    assert round(r["effect_size_dz"], 4) == 1.1741
    assert r["meaningful_30"] == {"count": 7, "eligible": 10}
    assert r["substantial_50"] == {"count": 5, "eligible": 10}
    assert r["worsened"] == 1


def test_exactly_thirty_and_fifty_percent_count():
    assert relief([(10, 7)])["meaningful_30"]["count"] == 1
    assert relief([(10, 8)])["meaningful_30"]["count"] == 0
    assert relief([(4, 2)])["substantial_50"]["count"] == 1
    assert relief([(3, 2)])["substantial_50"]["count"] == 0  # 33%


def test_what_cannot_be_computed_is_null_never_zero():
    none = relief([])
    assert none["n_paired"] == 0
    assert none["mean_before"] is None and none["mean_change"] is None
    assert none["sd_change"] is None and none["effect_size_dz"] is None
    one = relief([(5, 3)])
    assert one["mean_change"] == 2 and one["sd_change"] is None
    assert one["effect_size_dz"] is None
    same = relief([(5, 3), (6, 4)])
    assert same["sd_change"] == 0 and same["effect_size_dz"] is None
    zero = relief([(0, 0), (0, 1)])
    assert zero["meaningful_30"] == {"count": 0, "eligible": 0}
    assert zero["worsened"] == 1


def mondays(*days: str) -> Counter:
    return Counter({date.fromisoformat(d): 1 for d in days})


def test_an_unfinished_current_week_does_not_break_the_streak():
    counts = mondays("2026-11-02", "2026-11-09")
    assert current_streak(counts, 1, date(2026, 11, 16)) == 2
    counts[date(2026, 11, 16)] = 1
    assert current_streak(counts, 1, date(2026, 11, 16)) == 3
    assert current_streak(mondays("2026-11-02"), 1, date(2026, 11, 16)) == 0


def test_the_longest_streak_spans_gaps_correctly():
    counts = mondays("2026-01-05", "2026-01-12", "2026-01-19", "2026-02-02", "2026-02-09")
    assert longest_streak(counts, 1) == 3
    assert longest_streak(Counter(), 1) == 0


def test_a_week_with_two_sessions_and_a_goal_of_two():
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    starts = [
        datetime(2026, 11, 16, 15, tzinfo=UTC),
        datetime(2026, 11, 18, 15, tzinfo=UTC),
        datetime(2026, 11, 10, 15, tzinfo=UTC),
    ]
    kept = weeks_kept(starts, "America/Toronto", 2, now, 2)
    assert kept["weeks"] == [
        {"week": "2026-W46", "start": "2026-11-09", "sessions": 1, "goal_met": False},
        {"week": "2026-W47", "start": "2026-11-16", "sessions": 2, "goal_met": True},
    ]
    assert kept["current_streak_weeks"] == 1


def test_weeks_across_new_year_include_week_53():
    now = datetime(2027, 1, 6, 12, tzinfo=UTC)
    kept = weeks_kept([datetime(2027, 1, 1, 12, tzinfo=UTC)], "UTC", 1, now, 3)
    assert [w["week"] for w in kept["weeks"]] == ["2026-W52", "2026-W53", "2027-W01"]
    assert [w["goal_met"] for w in kept["weeks"]] == [False, True, False]


def post_the_vectors(as_alice) -> datetime:
    """CLINICAL.md's ten sessions, a week apart, the newest two hours ago."""
    now = datetime.now(UTC)
    for i, (pre, post) in enumerate(zip(PAIN_PRE, PAIN_POST, strict=True)):
        as_alice.post(
            "/sessions",
            session_body(
                started_at=iso(now - timedelta(days=7 * i, hours=2)),
                before={"pain": pre, "stress": STRESS_PRE[i]},
                after={"pain": post, "stress": STRESS_POST[i]},
            ),
        )
    return now


def test_the_progress_endpoint(as_alice):
    now = post_the_vectors(as_alice)
    # One without after ratings: it counts as a session but not in relief.
    as_alice.post("/sessions", session_body(started_at=iso(now - timedelta(hours=1))))
    body = as_alice.get("/progress", query_string={"weeks": 12}).get_json()
    assert body["weekly_goal"] == 1
    assert len(body["weeks"]) == 12
    assert sum(w["sessions"] for w in body["weeks"]) == 11
    pain = body["relief"]["pain"]
    assert pain["n_paired"] == 10 and round(pain["sd_change"], 4) == 1.5239
    assert body["relief"]["stress"]["worsened"] == 1
    assert body["relief"]["numbness"]["n_paired"] == 0
    assert body["relief"]["numbness"]["mean_change"] is None
    assert body["current_streak_weeks"] >= 9


def test_relief_counts_only_the_window(as_alice):
    now = datetime.now(UTC)
    as_alice.post(
        "/sessions",
        session_body(started_at=iso(now - timedelta(weeks=20)), after={"pain": 1, "stress": 1}),
    )
    body = as_alice.get("/progress", query_string={"weeks": 4}).get_json()
    assert body["relief"]["pain"]["n_paired"] == 0
    assert body["longest_streak_weeks"] == 1


@pytest.mark.parametrize("weeks", [0, 105, "x"])
def test_bad_week_counts_are_refused(as_alice, weeks):
    assert as_alice.get("/progress", query_string={"weeks": weeks}).status_code == 422


def test_the_page_says_why_relief_in_percent_counts_fewer_sessions(as_alice):
    """10 sessions rated twice, one starting at pain 0: the relief count is "of 9", and the
    page says why rather than leaving a reader to wonder where a session went."""
    from tests.test_pages import Browser, text

    post_the_vectors(as_alice)
    page = text(Browser(as_alice.client).get("/progress", query_string={"weeks": 12}))
    assert "6 of 9 sessions brought meaningful relief" in page
    assert "1 session started at 0, so relief in percent does not apply to it." in page
    # Stress never started at 0: nothing to explain there.
    assert page.count("started at 0") == 1
