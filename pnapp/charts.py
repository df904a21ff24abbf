"""Server-rendered SVG charts on a true date axis: a week without a session is a gap, the
months are labelled, and a table beside each chart gives the same numbers.

Readable at 320 px and at 200% text without a script: positions are percentages of the
drawing, so they follow its width, while the drawing's height and every word are in em,
so they grow with the reader's text size. The PDF report draws the same DateAxis."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from pnapp.labels import date_words
from pnapp.timeutil import zone

if TYPE_CHECKING:
    from pnapp.models import MassageSession

# The drawing's height and its bands, in em (so vertical percentages are fixed in em).
HEIGHT_EM = 12.0
TOP_EM = 0.8  # room for the "10" beside the top grid line
AXIS_EM = 2.7  # two rows under the plot: months, then the year
PLOT_EM = HEIGHT_EM - TOP_EM - AXIS_EM
# Data runs from X0% to X1% of the width, so a point at either end is drawn whole.
X0, X1 = 1.5, 98.5
# Month labels at least a quarter of the width apart, none starting past 78% (a longer one,
# "janv." with its year under it, would run out of the drawing); with large text only the
# "major" ones stay (app.css), at least half the width apart and in the left half.
LABEL_SPACING, LAST_LABEL = 0.25, 0.78
MAJOR_SPACING, LAST_MAJOR = 0.5, 0.5
MONTH_STEPS = (1, 2, 3, 6, 12)
AVERAGE_MONTH_DAYS = 30.44


@dataclass(frozen=True)
class DateAxis:
    """Days from `start` (included) to `end` (excluded) mapped onto 0..1."""

    start: date
    end: date

    @classmethod
    def for_weeks(cls, mondays: list[date]) -> DateAxis:
        """The whole of these ISO weeks, the last (current) one included."""
        return cls(mondays[0], mondays[-1] + timedelta(days=7))

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def at(self, when: date | datetime) -> float:
        """Where a day (or a local time, part of its day) falls, from 0 to 1."""
        if isinstance(when, datetime):
            midnight = datetime.combine(when.date(), datetime.min.time(), when.tzinfo)
            offset = (when.date() - self.start).days + (when - midnight).total_seconds() / 86400
        else:
            offset = (when - self.start).days
        return min(1.0, max(0.0, offset / self.days))

    def middle(self, monday: date | str) -> float:
        """Where the middle of the week starting on `monday` falls."""
        monday = date.fromisoformat(monday) if isinstance(monday, str) else monday
        return min(1.0, ((monday - self.start).days + 3.5) / self.days)

    def months(self) -> list[date]:
        """The first day of each month inside the axis."""
        first = date(self.start.year, self.start.month, 1)
        found = []
        while first < self.end:
            if first > self.start:
                found.append(first)
            first = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return found

    def labels(
        self, spacing: float = LABEL_SPACING, last: float = LAST_LABEL
    ) -> list[tuple[date, bool]]:
        """The months to name, each with whether it is "major" (kept with large text): every
        1st, 2nd, 3rd, 6th or 12th month (January, April, July, October for every 3rd),
        the smallest step that leaves `spacing` between labels, none past `last`."""
        step = next(
            (s for s in MONTH_STEPS if s * AVERAGE_MONTH_DAYS / self.days >= spacing),
            MONTH_STEPS[-1],
        )
        chosen = [m for m in self.months() if (m.month - 1) % step == 0 and self.at(m) <= last]
        labels, last_major = [], None
        for m in chosen:
            major = self.at(m) <= LAST_MAJOR and (
                last_major is None or self.at(m) - self.at(last_major) >= MAJOR_SPACING
            )
            last_major = m if major else last_major
            labels.append((m, major))
        return labels


def x_pct(fraction: float) -> float:
    return X0 + fraction * (X1 - X0)


def y_pct(value: float) -> float:
    """A 0-10 rating's height, in percent of the drawing (10 at the top)."""
    return (TOP_EM + PLOT_EM * (1 - value / 10)) / HEIGHT_EM * 100


def _em_pct(em: float) -> float:
    return em / HEIGHT_EM * 100


@dataclass(frozen=True)
class Point:
    when: datetime
    before: int
    after: int | None

    @property
    def change(self) -> str | None:
        """better (lower after), worse or same; None until the after rating is given."""
        if self.after is None:
            return None
        if self.after < self.before:
            return "better"
        return "worse" if self.after > self.before else "same"


def session_points(sessions: Iterable[MassageSession], measure: str, tz: str) -> list[Point]:
    """One point per session for `measure`, its start in the person's zone."""
    local = zone(tz)
    return [
        Point(
            s.started_at.astimezone(local),
            getattr(s, f"before_{measure}"),
            getattr(s, f"after_{measure}"),
        )
        for s in sessions
    ]


def _chart(axis: DateAxis, title: str, chart_id: str, body: list[str]) -> Markup:
    """The 0-10 scale beside the plot (its own small drawing, hidden from screen readers:
    the title and the table say it), and the plot: grid lines at 0, 5 and 10, a faint line
    at each month's start, the month labels, then `body`."""
    scale = [
        f'<text x="100%" y="{y_pct(v):.2f}%" dy="0.35em" text-anchor="end">{v}</text>'
        for v in (0, 5, 10)
    ]
    parts = [
        '<div class="chart-box">',
        f'<svg class="chart-y" width="100%" height="{HEIGHT_EM}em" aria-hidden="true" '
        f'focusable="false">{"".join(scale)}</svg>',
        f'<svg class="chart" id="{chart_id}" width="100%" height="{HEIGHT_EM}em" role="img" '
        f'aria-labelledby="{chart_id}-title" focusable="false">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
    ]
    bottom = y_pct(0)
    for m in axis.months():
        x = x_pct(axis.at(m))
        parts.append(
            f'<line class="tick" x1="{x:.2f}%" x2="{x:.2f}%" y1="{y_pct(10):.2f}%" '
            f'y2="{bottom + _em_pct(0.3):.2f}%"/>'
        )
    for v in (0, 5, 10):
        parts.append(
            f'<line class="grid" x1="0" x2="100%" y1="{y_pct(v):.2f}%" y2="{y_pct(v):.2f}%"/>'
        )
    for i, (m, major) in enumerate(axis.labels()):
        x, kind = x_pct(axis.at(m)), " major" if major else ""
        parts.append(
            f'<text class="month{kind}" x="{x:.2f}%" dx="0.2em" '
            f'y="{bottom + _em_pct(1.25):.2f}%">{escape(date_words(m, "MMM"))}</text>'
        )
        if i == 0 or m.month == 1:
            parts.append(
                f'<text class="year{kind}" x="{x:.2f}%" dx="0.2em" '
                f'y="{bottom + _em_pct(2.35):.2f}%">{m.year}</text>'
            )
    parts += body
    parts.append("</svg></div>")
    return Markup("".join(parts))


def before_after_chart(points: list[Point], axis: DateAxis, title: str, chart_id: str) -> Markup:
    """Each session at its date: a line from its before rating (open circle) to its after
    rating (filled circle)."""
    if not points:
        return Markup("")
    body = []
    for p in points:
        x = x_pct(axis.at(p.when))
        if p.after is not None:
            body.append(
                f'<line class="change {p.change}" x1="{x:.2f}%" x2="{x:.2f}%" '
                f'y1="{y_pct(p.before):.2f}%" y2="{y_pct(p.after):.2f}%"/>'
            )
            body.append(f'<circle class="after" cx="{x:.2f}%" cy="{y_pct(p.after):.2f}%" r="4"/>')
        body.append(f'<circle class="before" cx="{x:.2f}%" cy="{y_pct(p.before):.2f}%" r="4"/>')
    return _chart(axis, title, chart_id, body)


def trend_chart(weeks: list[dict], axis: DateAxis, title: str, chart_id: str) -> Markup:
    """Each week with a session at its middle: mean pain before (circles on a solid line)
    and mean stress before (squares on a dashed line). The lines join neighbouring weeks
    only, so a week without a session is a gap."""
    if not any(w["sessions"] for w in weeks):
        return Markup("")
    body = []
    for key, css in (("stress_before_mean", "stress"), ("pain_before_mean", "pain")):
        shown = [
            None if w[key] is None else (x_pct(axis.middle(w["start"])), y_pct(w[key]))
            for w in weeks
        ]
        for a, b in zip(shown, shown[1:], strict=False):
            if a and b:
                body.append(
                    f'<line class="trend {css}" x1="{a[0]:.2f}%" x2="{b[0]:.2f}%" '
                    f'y1="{a[1]:.2f}%" y2="{b[1]:.2f}%"/>'
                )
        for x, y in filter(None, shown):
            if css == "pain":  # circle.before: one per row of the table beside the chart
                body.append(f'<circle class="before pain" cx="{x:.2f}%" cy="{y:.2f}%" r="4.5"/>')
            else:
                body.append(
                    f'<rect class="stress" x="{x:.2f}%" y="{y:.2f}%" width="8" height="8" '
                    'transform="translate(-4 -4)"/>'
                )
    return _chart(axis, title, chart_id, body)
