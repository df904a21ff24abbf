"""The report's pictures: the weekly trend on the page's date axis (charts.DateAxis), and
the weeks kept as a row of boxes."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext

from pnapp.charts import DateAxis
from pnapp.exports.pdf.document import GRID, INK, KEPT, MUTED, Report, latin1
from pnapp.labels import date_words

CHART_HEIGHT = 42.0  # mm, the 0-10 scale
LABEL_GAP = 12.0  # mm between month labels at least
STRESS_DASH = (1.2, 0.9)


def trend_chart(pdf: Report, weeks: list[dict], axis: DateAxis) -> None:
    """Mean pain before (filled circles, solid line) and mean stress before (open squares,
    dashed line) per week, at the middle of the week on a date axis with each month's
    start marked and named; lines join neighbouring weeks only, so a week without a
    session is a gap."""
    left, top = pdf.l_margin + 7, pdf.get_y() + 3
    width, height = pdf.epw - 8, CHART_HEIGHT

    def x(fraction: float) -> float:
        return left + fraction * width

    def y(value: float) -> float:
        return top + height * (1 - value / 10)

    pdf.set_line_width(0.2)
    pdf.set_font("Helvetica", size=8)
    pdf.set_text_color(*MUTED)
    pdf.set_draw_color(*GRID)
    for value in (0, 5, 10):
        pdf.line(left, y(value), left + width, y(value))
        pdf.text(left - 2 - pdf.get_string_width(str(value)), y(value) + 1, str(value))
    for month in axis.months():
        pdf.line(x(axis.at(month)), y(10), x(axis.at(month)), y(0) + 1.5)
    for i, (month, _) in enumerate(axis.labels(LABEL_GAP / width, 1 - 10 / width)):
        pdf.text(x(axis.at(month)) + 0.6, y(0) + 4.5, latin1(date_words(month, "MMM")))
        if i == 0 or month.month == 1:
            pdf.text(x(axis.at(month)) + 0.6, y(0) + 8, str(month.year))

    for key, shape in (("stress_before_mean", "square"), ("pain_before_mean", "dot")):
        shown = [None if w[key] is None else (x(axis.middle(w["start"])), y(w[key])) for w in weeks]
        # Pain is the measure the report is about; stress is drawn lighter behind it.
        pdf.set_draw_color(*(MUTED if shape == "square" else INK))
        pdf.set_line_width(0.25 if shape == "square" else 0.4)
        if shape == "square":
            pdf.set_dash_pattern(*STRESS_DASH)
        for a, b in zip(shown, shown[1:], strict=False):
            if a and b:
                pdf.line(*a, *b)
        pdf.set_dash_pattern()
        pdf.set_line_width(0.2)
        for point in filter(None, shown):
            if shape == "dot":
                pdf.set_fill_color(*INK)
                pdf.dot(*point, 0.9, "F")
            else:
                pdf.set_fill_color(255, 255, 255)
                pdf.square(*point, 0.8, "DF")
    legend_y = y(0) + 13
    pdf.set_draw_color(*INK)
    pdf.set_fill_color(*INK)
    pdf.dot(left + 1, legend_y - 1, 0.9, "F")
    pain = latin1(gettext("pain before (weekly average)"))
    pdf.set_text_color(*INK)
    pdf.text(left + 3.5, legend_y, pain)
    stress_x = left + 3.5 + pdf.get_string_width(pain) + 8
    pdf.set_draw_color(*MUTED)
    pdf.set_fill_color(255, 255, 255)
    pdf.square(stress_x, legend_y - 1, 0.8, "DF")
    pdf.text(stress_x + 2.5, legend_y, latin1(gettext("stress before (weekly average)")))
    pdf.set_xy(pdf.l_margin, legend_y + 3)


def weeks_boxes(pdf: Report, rows: list[dict]) -> None:
    """One box per week, oldest first, 26 to a row, with its number of sessions; shaded when
    the goal was met; the current week dashed."""
    per_row, box, label_w = 26, 6.0, 20.0
    for start in range(0, len(rows), per_row):
        chunk = rows[start : start + per_row]
        y = pdf.get_y()
        monday = date.fromisoformat(chunk[0]["start"])
        pdf.set_font("Helvetica", size=8)
        pdf.set_text_color(*MUTED)
        pdf.text(pdf.l_margin, y + box - 1.8, latin1(date_words(monday, "yMMM")))
        for i, w in enumerate(chunk):
            x = pdf.l_margin + label_w + i * box
            current = start + i == len(rows) - 1
            pdf.set_draw_color(*MUTED)
            pdf.set_fill_color(*KEPT)
            if current:
                pdf.set_dash_pattern(dash=0.8, gap=0.6)
            pdf.rect(x, y, box - 0.8, box - 0.8, "DF" if w["goal_met"] else "D")
            pdf.set_dash_pattern()
            pdf.set_text_color(*INK)
            pdf.set_xy(x, y)
            pdf.cell(box - 0.8, box - 0.8, str(w["sessions"]), align="C")
        pdf.set_xy(pdf.l_margin, y + box + 0.5)
