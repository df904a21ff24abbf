"""The report for a clinician: a one-to-two page PDF drawn with fpdf2's core fonts."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from fpdf import FPDF

from pnapp.charts import Point, session_points
from pnapp.exports.records import patient_therapists
from pnapp.insights import CHART_TITLES, progress_page
from pnapp.labels import ADJUNCTS, AREAS, date_words, decimal, local_time, zone_name
from pnapp.labels import MEASURES as MEASURE_WORDS
from pnapp.models import MassageSession, User
from pnapp.timeutil import local_date

FOOTER = _l("pnapp records how the person felt; it does not diagnose.")
INK = (30, 30, 30)
MUTED = (100, 100, 100)
GRID = (200, 200, 200)
KEPT = (196, 226, 220)
CHANGE_COLOURS = {"better": (0, 110, 95), "worse": (190, 70, 0), "same": (120, 120, 120)}
# The core fonts only know Latin-1: the app's typographic characters become plain ones.
PLAIN = str.maketrans(
    {
        "→": "to",
        "–": "-",
        "—": "-",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "…": "...",
        "·": "-",
        "✓": "",
        "\u00a0": " ",
        "\u202f": " ",
    }
)


def latin1(text: str) -> str:
    """Text the core PDF fonts can show: known symbols spelled out, anything else as '?'."""
    return text.translate(PLAIN).encode("latin-1", "replace").decode("latin-1")


class _Report(FPDF):
    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("Helvetica", size=8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, latin1(str(FOOTER)))
        page = gettext("Page %(page)s of %(pages)s", page=self.page_no(), pages="{nb}")
        self.cell(0, 5, latin1(page), align="R")

    def heading(self, text: str, room: float = 30) -> None:
        """A section title, on a new page when the section would not fit below it."""
        if self.get_y() + room > self.page_break_trigger:
            self.add_page()
        self.ln(3)
        self.set_font("Helvetica", "B", 13)
        self.set_text_color(*INK)
        self.cell(0, 8, latin1(text), new_x="LMARGIN", new_y="NEXT")

    def para(self, text: str, size: float = 10, style: str = "", colour=INK) -> None:
        self.set_font("Helvetica", style, size)
        self.set_text_color(*colour)
        self.multi_cell(0, size * 0.5, latin1(text), align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def dot(self, x: float, y: float, r: float, style: str) -> None:
        # ellipse() takes the bounding box in every fpdf2 version (circle() changed in 2.8.1).
        self.ellipse(x - r, y - r, 2 * r, 2 * r, style)


def report_pdf(patient: User, weeks: int, now: datetime) -> bytes:
    """A report to hand a clinician: weeks kept, before and after charts for pain and
    stress, relief in plain words, adjuncts and therapists. One to two A4 pages."""
    name = patient.display_name
    page = progress_page(patient, now, weeks, name=name)
    progress, sessions = page["progress"], page["sessions"]
    first_monday = date.fromisoformat(progress["weeks"][0]["start"])
    today = local_date(now, patient.timezone)

    pdf = _Report(format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_title(latin1(gettext("pnapp report for %(name)s", name=name)))
    pdf.set_creator("pnapp")
    pdf.set_creation_date(now.astimezone(UTC))
    pdf.add_page()

    pdf.set_font("Helvetica", "B", 18)
    pdf.set_text_color(*INK)
    pdf.cell(0, 10, latin1(gettext("Massage and symptom report")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 7, latin1(name), new_x="LMARGIN", new_y="NEXT")
    pdf.para(
        ngettext(
            "%(first)s to %(last)s (the last week)",
            "%(first)s to %(last)s (the last %(num)d weeks)",
            weeks,
            first=date_words(first_monday),
            last=date_words(today),
        ),
        size=11,
    )
    pdf.para(
        gettext(
            "Ratings %(name)s entered in pnapp before and after each massage, on 0-10 scales "
            "(0 = none, 10 = worst imaginable). Times are in %(zone)s.",
            name=name,
            zone=zone_name(patient.timezone),
        ),
        size=9,
        colour=MUTED,
    )

    _weeks_section(pdf, progress, weeks)
    _charts_section(pdf, sessions, patient.timezone)
    _relief_section(pdf, page["summary"], progress["relief"])
    _helps_section(pdf, patient, sessions, page["helps"])
    return bytes(pdf.output())


def _weeks_section(pdf: _Report, progress: dict, weeks: int) -> None:
    rows = progress["weeks"]
    kept = sum(1 for w in rows if w["goal_met"])
    goal = progress["weekly_goal"]
    pdf.heading(gettext("Weeks kept"), room=40)
    pdf.para(
        " ".join(
            (
                ngettext("Goal: %(num)d session a week.", "Goal: %(num)d sessions a week.", goal),
                ngettext(
                    "Kept %(kept)d of the last week.",
                    "Kept %(kept)d of the last %(num)d weeks.",
                    weeks,
                    kept=kept,
                ),
                ngettext(
                    "Current run: %(num)d week in a row;",
                    "Current run: %(num)d weeks in a row;",
                    progress["current_streak_weeks"],
                ),
                ngettext(
                    "longest run: %(num)d week.",
                    "longest run: %(num)d weeks.",
                    progress["longest_streak_weeks"],
                ),
            )
        )
    )
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
    pdf.ln(1)
    pdf.para(
        gettext(
            "Each box is one week, oldest first, with the number of sessions; shaded = goal "
            "met; the dashed box is this week, still in progress."
        ),
        size=8,
        colour=MUTED,
    )


def _charts_section(pdf: _Report, sessions: list[MassageSession], tz: str) -> None:
    for measure in ("pain", "stress"):
        pdf.heading(str(CHART_TITLES[measure]), room=70)
        if not sessions:
            pdf.para(gettext("No sessions in these weeks."))
            continue
        _chart(pdf, session_points(sessions, measure, tz), tz)


def _chart(pdf: _Report, points: list[Point], tz: str) -> None:
    """The page's SVG chart, on paper: each session as a line from its before rating (open
    circle) to its after rating (filled circle) on the 0-10 scale, oldest on the left."""
    left, top = pdf.l_margin + 8, pdf.get_y() + 2
    width, height = pdf.epw - 10, 40

    def y(value: int) -> float:
        return top + height * (1 - value / 10)

    pdf.set_line_width(0.2)
    pdf.set_font("Helvetica", size=8)
    for value in (0, 5, 10):
        pdf.set_draw_color(*GRID)
        pdf.line(left, y(value), left + width, y(value))
        pdf.set_text_color(*MUTED)
        pdf.text(left - 5, y(value) + 1, str(value))
    n = len(points)
    step = width / n
    radius = max(0.45, min(1.3, step / 3))
    for i, p in enumerate(points):
        x = left + step * (i + 0.5)
        if p.after is not None:
            pdf.set_draw_color(*CHANGE_COLOURS[p.change])
            pdf.set_line_width(0.5)
            pdf.line(x, y(p.before), x, y(p.after))
            pdf.set_line_width(0.2)
            pdf.set_fill_color(*INK)
            pdf.set_draw_color(*INK)
            pdf.dot(x, y(p.after), radius, "F")
        pdf.set_draw_color(*INK)
        pdf.set_fill_color(255, 255, 255)
        pdf.dot(x, y(p.before), radius, "DF")
    pdf.set_text_color(*MUTED)
    first, last = points[0].when, points[-1].when
    pdf.text(left, top + height + 5, latin1(local_time(first, tz, "date")))
    if n > 1:
        label = latin1(local_time(last, tz, "date"))
        pdf.text(left + width - pdf.get_string_width(label), top + height + 5, label)
    # The legend: the shapes themselves, so it does not rely on colour.
    legend_y = top + height + 10
    pdf.set_draw_color(*INK)
    pdf.set_fill_color(255, 255, 255)
    pdf.dot(left + 1.3, legend_y - 1, 1.3, "DF")
    before, after = latin1(gettext("before")), latin1(gettext("after"))
    pdf.text(left + 4, legend_y, before)
    after_x = left + 4 + pdf.get_string_width(before) + 6
    pdf.set_fill_color(*INK)
    pdf.dot(after_x, legend_y - 1, 1.3, "F")
    pdf.text(after_x + 3, legend_y, after)
    pdf.text(
        after_x + 3 + pdf.get_string_width(after) + 6,
        legend_y,
        latin1(
            ngettext(
                "%(num)d session; the line shows the change (green lower, orange higher)",
                "%(num)d sessions; the line shows the change (green lower, orange higher)",
                n,
            )
        ),
    )
    pdf.set_xy(pdf.l_margin, legend_y + 3)


def _relief_section(pdf: _Report, summary: str, relief: dict) -> None:
    lines = []
    for m, r in relief.items():
        if not r["n_paired"]:
            continue
        parts = [
            ngettext(
                "%(measure)s: %(before)s before, %(after)s after on average (%(num)d session).",
                "%(measure)s: %(before)s before, %(after)s after on average (%(num)d sessions).",
                r["n_paired"],
                measure=MEASURE_WORDS[m]["name"],
                before=decimal(r["mean_before"]),
                after=decimal(r["mean_after"]),
            )
        ]
        if r["sd_change"] is not None:
            parts.append(
                gettext(
                    "Mean change %(change)s points (SD %(sd)s).",
                    change=decimal(r["mean_change"]),
                    sd=decimal(r["sd_change"]),
                )
            )
        m30, m50 = r["meaningful_30"], r["substantial_50"]
        if m30["eligible"]:
            parts.append(
                gettext(
                    "Meaningful relief (30%% or more) in %(count30)d of %(of30)d; substantial "
                    "relief (50%% or more) in %(count50)d of %(of50)d.",
                    count30=m30["count"],
                    of30=m30["eligible"],
                    count50=m50["count"],
                    of50=m50["eligible"],
                )
            )
        if r["worsened"]:
            parts.append(gettext("Worse after %(num)d.", num=r["worsened"]))
        lines.append(" ".join(parts))
    # About two lines a measure: the section moves to the next page whole rather than
    # leaving its footnote behind.
    pdf.heading(gettext("Relief after a session"), room=35 + 11 * len(lines))
    pdf.para(summary, style="B")
    empty = gettext("No session has both before and after ratings in these weeks yet.")
    for line in lines or [empty]:
        pdf.para(line)
    pdf.para(
        gettext(
            "These are rules of thumb for how a person felt, not a medical assessment. The "
            "30%% and 50%% thresholds were set for change in pain over weeks (IMMPACT 2008); "
            "here they are applied to the change across one session, and to stress by analogy."
        )
        % {},  # gettext formats only when given values; this turns %% into %
        size=8,
        colour=MUTED,
    )


def _helps_section(
    pdf: _Report, patient: User, sessions: list[MassageSession], helps: list[dict]
) -> None:
    pdf.heading(gettext("Adjuncts, areas and therapists"), room=40)
    paired = sum(1 for s in sessions if s.after_pain is not None)
    pdf.para(
        gettext(
            "Sessions in these weeks: %(count)d (%(paired)d rated before and after).",
            count=len(sessions),
            paired=paired,
        )
    )
    adjuncts = Counter(a for s in sessions for a in s.adjuncts or ())
    areas = Counter(a for s in sessions for a in s.areas or ())
    pdf.para(gettext("Adjuncts: %(list)s.", list=_counts(adjuncts, ADJUNCTS)))
    pdf.para(gettext("Areas massaged: %(list)s.", list=_counts(areas, AREAS)))

    therapists = patient_therapists(patient)
    by_therapist: dict[int | None, list[MassageSession]] = {}
    for s in sessions:
        by_therapist.setdefault(s.therapist_id, []).append(s)
    parts = []
    for tid, group in sorted(
        by_therapist.items(), key=lambda item: (item[0] is None, -len(item[1]))
    ):
        t = therapists.get(tid)
        who = gettext("No therapist recorded") if t is None else t.name
        if t is not None and t.credential:
            who += f" ({t.credential})"
        changes = [s.before_pain - s.after_pain for s in group if s.after_pain is not None]
        if changes:
            text = ngettext(
                "%(who)s: %(num)d session, pain %(points)s points lower after on average",
                "%(who)s: %(num)d sessions, pain %(points)s points lower after on average",
                len(group),
                who=who,
                points=decimal(sum(changes) / len(changes)),
            )
        else:
            text = ngettext(
                "%(who)s: %(num)d session", "%(who)s: %(num)d sessions", len(group), who=who
            )
        parts.append(text)
    listed = "; ".join(parts) if parts else gettext("none recorded")
    pdf.para(gettext("Therapists: %(list)s.", list=listed))

    if helps:
        pdf.para(gettext("What seems to help (average change in pain after a session):"), style="B")
        for h in helps:
            pdf.para("- " + h["sentence"])
        pdf.para(
            gettext("These are comparisons, not proof: other things differ between sessions too."),
            size=8,
            colour=MUTED,
        )


def _counts(counter: Counter, words: dict) -> str:
    found = [f"{label} {counter[code]}" for code, label in words.items() if counter[code]]
    return ", ".join(found) if found else gettext("none recorded")
