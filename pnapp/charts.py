"""Server-rendered SVG charts: readable at 390 px, no script, with a text alternative."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from pnapp.labels import date_words
from pnapp.timeutil import zone

if TYPE_CHECKING:
    from pnapp.models import MassageSession

WIDTH, HEIGHT = 360, 190
LEFT, RIGHT, TOP, BOTTOM = 30, 10, 12, 28


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
    """One point per session for `measure`, its start in the person's zone: what the page's
    chart and the PDF report's chart both draw."""
    local = zone(tz)
    return [
        Point(
            s.started_at.astimezone(local),
            getattr(s, f"before_{measure}"),
            getattr(s, f"after_{measure}"),
        )
        for s in sessions
    ]


def before_after_chart(points: list[Point], title: str, chart_id: str) -> Markup:
    """Each session as a line from its before rating (open circle) to its after rating
    (filled circle) on the 0-10 scale, oldest on the left."""
    if not points:
        return Markup("")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(points) - 1) if len(points) > 1 else 0

    def x(i: int) -> float:
        return LEFT + (i * step if len(points) > 1 else plot_w / 2)

    def y(value: int) -> float:
        return TOP + plot_h * (1 - value / 10)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title" focusable="false">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
    ]
    for value in (0, 5, 10):
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" '
            f'y2="{y(value):.1f}"/>'
        )
        parts.append(
            f'<text class="axis" x="{LEFT - 6}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end">{value}</text>'
        )
    for i, p in enumerate(points):
        cx = x(i)
        if p.after is not None:
            parts.append(
                f'<line class="change {p.change}" x1="{cx:.1f}" x2="{cx:.1f}" '
                f'y1="{y(p.before):.1f}" y2="{y(p.after):.1f}"/>'
            )
            parts.append(f'<circle class="after" cx="{cx:.1f}" cy="{y(p.after):.1f}" r="4"/>')
        parts.append(f'<circle class="before" cx="{cx:.1f}" cy="{y(p.before):.1f}" r="4"/>')
    first, last = points[0].when, points[-1].when
    parts.append(
        f'<text class="axis" x="{LEFT}" y="{HEIGHT - 8}">{escape(date_words(first, "MMMd"))}</text>'
    )
    if len(points) > 1:
        parts.append(
            f'<text class="axis" x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" '
            f'text-anchor="end">{escape(date_words(last, "MMMd"))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
