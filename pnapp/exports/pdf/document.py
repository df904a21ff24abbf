"""The report's page: Letter or A4, fpdf2's core fonts, and on every page a footer with the
patient's name, the dates the report covers and the page number."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from fpdf import FPDF

FOOTER = _l("pnapp records how the person felt; it does not diagnose.")
FORMATS = {"letter": "Letter", "a4": "A4"}
MARGIN = 15  # mm, all round; the footer sits in the bottom one
INK = (30, 30, 30)
MUTED = (90, 90, 90)
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


class Report(FPDF):
    """A page of the report. `who` and `covers` are printed at the foot of every page."""

    def __init__(self, paper: str, who: str, covers: str):
        super().__init__(format=FORMATS[paper])
        self.who, self.covers = who, covers
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN + 8)

    def footer(self) -> None:
        self.set_y(-MARGIN - 5)
        self.set_font("Helvetica", size=8)
        self.set_text_color(*MUTED)
        self.cell(0, 4, latin1(f"{self.who} - {self.covers}"), new_x="LMARGIN", new_y="NEXT")
        self.cell(0, 4, latin1(str(FOOTER)))
        page = gettext("Page %(page)s of %(pages)s", page=self.page_no(), pages="{nb}")
        self.cell(0, 4, latin1(page), align="R")

    def heading(self, text: str, room: float = 30) -> None:
        """A section title, on a new page when the section would not fit below it."""
        if self.get_y() + room > self.page_break_trigger:
            self.add_page()
        self.ln(2)
        self.set_font("Helvetica", "B", 13)
        self.set_text_color(*INK)
        # Wrapped, not cut: a title in French or Spanish can be longer than the page is wide.
        self.multi_cell(0, 6.5, latin1(text), align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(1.5)

    def para(self, text: str, size: float = 10, style: str = "", colour=INK) -> None:
        self.set_font("Helvetica", style, size)
        self.set_text_color(*colour)
        self.multi_cell(0, size * 0.45, latin1(text), align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(size * 0.1)

    def dot(self, x: float, y: float, r: float, style: str) -> None:
        # ellipse() takes the bounding box in every fpdf2 version (circle() changed in 2.8.1).
        self.ellipse(x - r, y - r, 2 * r, 2 * r, style)

    def square(self, x: float, y: float, r: float, style: str) -> None:
        self.rect(x - r, y - r, 2 * r, 2 * r, style)

    def columns(self, header: list[str], rows: list[list[str]], widths: list[float]) -> None:
        """A small table in as many side-by-side groups as fit the page's width, filled
        column by column (a long run of weeks takes a third of the height), continued on
        the next page when the rest of this one is too short."""
        gap, line = 4.0, 3.3
        groups = max(1, int((self.epw + gap) // (sum(widths) + gap)))
        while rows:
            room = int((self.page_break_trigger - self.get_y()) // line) - 1
            if room < 5:
                self.add_page()
                continue
            per_group = min(room, -(-len(rows) // groups))
            self._groups(header, rows[: per_group * groups], widths, per_group, gap, line)
            rows = rows[per_group * groups :]

    def _groups(self, header, rows, widths, per_group, gap, line) -> None:
        top = self.get_y()
        for g in range(0, len(rows), per_group):
            x = self.l_margin + g // per_group * (sum(widths) + gap)
            self.set_xy(x, top)
            self.set_font("Helvetica", "B", 7)
            self.set_text_color(*INK)
            for j, (text, width) in enumerate(zip(header, widths, strict=True)):
                self.cell(width, line, latin1(text), border="B", align="L" if j == 0 else "R")
            self.set_font("Helvetica", size=7)
            for i, row in enumerate(rows[g : g + per_group]):
                self.set_xy(x, top + (i + 1) * line)
                for j, (text, width) in enumerate(zip(row, widths, strict=True)):
                    self.cell(width, line, latin1(text), align="L" if j == 0 else "R")
        self.set_xy(self.l_margin, top + (per_group + 1) * line + 2)
