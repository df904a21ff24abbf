"""A patient's data taken elsewhere (API.md, Exports): plain functions of a patient, with no
request logic, so the API, tests and scripts all build exactly the same files.

- `sessions_csv`: one row per session for a spreadsheet.
- `fhir_bundle`: a FHIR R4 Bundle of type "collection" (CLINICAL.md, Interoperability):
  * a Patient, then per session one Procedure and one Observation per rating given;
  * Procedure.code is SNOMED CT 387854002 "Massage" (the regime/therapy concept, also
    called therapeutic massage); status completed; performedDateTime is the start;
  * Procedure.bodySite: one SNOMED CT body structure per site: feet_lower_legs gives
    56459004 Foot structure and 30021000 Lower leg structure, hands_lower_arms gives
    85562004 Hand structure and 14975008 Forearm structure, whole_body gives 38266002
    Entire body as a whole;
  * pain is LOINC 72514-3; stress, numbness, tingling and weakness have no LOINC code for a
    0-10 self-rating, so they use pnapp's own code system SELF_RATING with the measure's
    name as code;
  * before or after the massage is one `component` of every rating Observation: code
    SELF_RATING#timing, valueCodeableConcept SELF_RATING#before or SELF_RATING#after;
  * each entry's fullUrl is a urn:uuid derived from the site and the row (uuid5), so the
    same data always gives the same bundle and references stay inside it;
  * notes are left out: they are the patient's own jottings, not clinical data.
- `all_json`: everything stored about the account, minus secrets (password and token
  hashes, push encryption keys).
- `report_pdf`: a one-to-two page report for a clinician, drawn with fpdf2's core fonts.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from fpdf import FPDF
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from pnapp.extensions import db
from pnapp.insights import CHART_TITLES, progress_page
from pnapp.labels import ADJUNCTS, AREAS, date_words, decimal, local_time, zone_name
from pnapp.labels import MEASURES as MEASURE_WORDS
from pnapp.models import (
    MEASURES,
    CareShare,
    Delivery,
    Invite,
    MassageSession,
    PushSubscription,
    Therapist,
    User,
)
from pnapp.timeutil import local_date, to_utc_iso, utcnow, zone

# Sessions

WHENS = ("before", "after")


def _sessions(patient: User) -> list[MassageSession]:
    return list(
        db.session.scalars(
            select(MassageSession)
            .where(MassageSession.patient_id == patient.id)
            .order_by(MassageSession.started_at, MassageSession.id)
        )
    )


def _therapists(patient: User) -> dict[int, Therapist]:
    query = select(Therapist).where(Therapist.patient_id == patient.id)
    return {t.id: t for t in db.session.scalars(query)}


# CSV

CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(value: str | None) -> str:
    """Free text as a cell a spreadsheet shows as text: a leading =, +, - or @ would make
    Excel or LibreOffice run it as a formula (CSV injection), so it gets a quote first."""
    value = value or ""
    return "'" + value if value.startswith(CSV_FORMULA_START) else value


def csv_header(include_notes: bool = False) -> list[str]:
    header = ["session_id", "started_at_local", "started_at_utc", "timezone", "duration_min"]
    header += ["therapist", "areas", "adjuncts"]
    for when in WHENS:
        header += [f"{when}_{m}" for m in MEASURES] + [f"{when}_recorded_at_utc"]
    return header + (["notes"] if include_notes else [])


def sessions_csv(patient: User, *, include_notes: bool = False) -> str:
    """Every session, oldest first: ratings as numbers (empty when not rated), the start in
    the patient's zone (ISO 8601 with its offset) and in UTC (Z), areas and adjuncts as
    codes joined with ';'. Notes only with include_notes (a caregiver needs `notes`)."""
    tz = zone(patient.timezone)
    names = {tid: t.name for tid, t in _therapists(patient).items()}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(csv_header(include_notes))
    for s in _sessions(patient):
        row = [
            s.id,
            s.started_at.astimezone(tz).isoformat(),
            to_utc_iso(s.started_at),
            patient.timezone,
            s.duration_min,
            _text_cell(names.get(s.therapist_id)),
            ";".join(s.areas or ()),
            ";".join(s.adjuncts or ()),
        ]
        for when in WHENS:
            recorded = getattr(s, f"{when}_recorded_at")
            row += [getattr(s, f"{when}_{m}") for m in MEASURES]
            row.append(to_utc_iso(recorded) if recorded else None)
        if include_notes:
            row.append(_text_cell(s.notes))
        # csv writes None as an empty cell: "not rated" stays distinct from 0.
        writer.writerow(row)
    return out.getvalue()


# FHIR R4

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
SELF_RATING = "https://pnapp.example/fhir/CodeSystem/self-rating"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

MASSAGE = {"system": SNOMED, "code": "387854002", "display": "Massage"}
PAIN = {
    "system": LOINC,
    "code": "72514-3",
    "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
}
BODY_SITES = {
    "feet_lower_legs": [("56459004", "Foot structure"), ("30021000", "Lower leg structure")],
    "hands_lower_arms": [("85562004", "Hand structure"), ("14975008", "Forearm structure")],
    "whole_body": [("38266002", "Entire body as a whole")],
}
TIMING = {"before": "Before the massage", "after": "After the massage"}


def _urn(base_url: str, *parts: Any) -> str:
    name = "/".join([base_url.rstrip("/"), *(str(p) for p in parts)])
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def _rating_code(measure: str) -> dict[str, Any]:
    if measure == "pain":
        return {"coding": [PAIN], "text": "Pain (0-10)"}
    words = measure.title()  # FHIR's display texts stay in English
    coding = {"system": SELF_RATING, "code": measure, "display": f"{words} self-rating (0-10)"}
    return {"coding": [coding], "text": f"{words} (0-10)"}


def _observation(
    session: MassageSession, when: str, measure: str, patient_ref: str, procedure_ref: str
) -> dict[str, Any]:
    recorded = getattr(session, f"{when}_recorded_at") or session.started_at
    timing = {"system": SELF_RATING, "code": when, "display": TIMING[when]}
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}
        ],
        "code": _rating_code(measure),
        "subject": {"reference": patient_ref},
        "performer": [{"reference": patient_ref}],
        "effectiveDateTime": to_utc_iso(recorded),
        "valueInteger": getattr(session, f"{when}_{measure}"),
        "partOf": [{"reference": procedure_ref}],
        "component": [
            {
                "code": {
                    "coding": [
                        {
                            "system": SELF_RATING,
                            "code": "timing",
                            "display": "Rated before or after the massage",
                        }
                    ]
                },
                "valueCodeableConcept": {"coding": [timing], "text": TIMING[when]},
            }
        ],
    }


def _procedure(
    session: MassageSession, therapist: Therapist | None, patient_ref: str, base_url: str
) -> dict[str, Any]:
    procedure: dict[str, Any] = {
        "resourceType": "Procedure",
        "identifier": [{"system": f"{base_url}/api/v1/sessions", "value": str(session.id)}],
        "status": "completed",
        "code": {"coding": [MASSAGE], "text": "Massage therapy"},
        "subject": {"reference": patient_ref},
        "performedDateTime": to_utc_iso(session.started_at),
    }
    if therapist is not None:
        procedure["performer"] = [{"actor": {"display": therapist.name}}]
    sites = [
        {"coding": [{"system": SNOMED, "code": code, "display": display}], "text": display}
        for area in session.areas or ()
        for code, display in BODY_SITES.get(area, ())
    ]
    if sites:
        procedure["bodySite"] = sites
    return procedure


def fhir_bundle(patient: User, base_url: str, *, now: datetime | None = None) -> dict[str, Any]:
    """The patient's sessions and ratings as a FHIR R4 Bundle of type collection."""
    base_url = base_url.rstrip("/")
    patient_ref = _urn(base_url, "users", patient.id)
    entries = [
        {
            "fullUrl": patient_ref,
            "resource": {
                "resourceType": "Patient",
                "identifier": [{"system": f"{base_url}/users", "value": str(patient.id)}],
                "name": [{"text": patient.display_name}],
                "telecom": [{"system": "email", "value": patient.email}],
            },
        }
    ]
    therapists = _therapists(patient)
    for s in _sessions(patient):
        procedure_ref = _urn(base_url, "sessions", s.id)
        therapist = therapists.get(s.therapist_id)
        entries.append(
            {"fullUrl": procedure_ref, "resource": _procedure(s, therapist, patient_ref, base_url)}
        )
        for when in WHENS:
            for m in MEASURES:
                if getattr(s, f"{when}_{m}") is None:
                    continue
                entries.append(
                    {
                        "fullUrl": _urn(base_url, "sessions", s.id, when, m),
                        "resource": _observation(s, when, m, patient_ref, procedure_ref),
                    }
                )
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": to_utc_iso(now or utcnow()),
        "entry": entries,
    }


# Everything stored


def _row(obj: Any, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every stored column of a row (so a column added later is exported too), times as ISO
    UTC with Z like the API."""
    out = {}
    for column in obj.__table__.columns:
        if column.key in exclude:
            continue
        value = getattr(obj, column.key)
        out[column.key] = to_utc_iso(value) if isinstance(value, datetime) else value
    return out


def _person(user: User) -> dict[str, Any]:
    return {"id": user.id, "display_name": user.display_name}


def all_json(patient: User, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything stored about the account. Left out: the password hash, invite token
    hashes and push encryption keys (secrets, not data about the person), and the other
    side of a share beyond their id and name (their data, not this account's)."""
    shares = db.session.scalars(
        select(CareShare)
        .where(or_(CareShare.patient_id == patient.id, CareShare.caregiver_id == patient.id))
        .order_by(CareShare.created_at, CareShare.id)
        .options(selectinload(CareShare.patient), selectinload(CareShare.caregiver))
    )

    def rows(model, column, **kwargs) -> list[dict[str, Any]]:
        query = select(model).where(column == patient.id).order_by(model.id)
        return [_row(r, **kwargs) for r in db.session.scalars(query)]

    return {
        "exported_at": to_utc_iso(now or utcnow()),
        "user": _row(patient, exclude=("password_hash",)),
        "sessions": rows(MassageSession, MassageSession.patient_id),
        "therapists": rows(Therapist, Therapist.patient_id),
        "shares": [
            {
                "id": s.id,
                "patient": _person(s.patient),
                "caregiver": _person(s.caregiver),
                "scopes": s.scopes,
                "created_at": to_utc_iso(s.created_at),
            }
            for s in shares
        ],
        "invites": rows(Invite, Invite.patient_id, exclude=("token_hash",)),
        "push_subscriptions": rows(
            PushSubscription, PushSubscription.user_id, exclude=("p256dh", "auth")
        ),
        "deliveries": rows(Delivery, Delivery.user_id),
    }


# The clinician's report (PDF)

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
        _chart(pdf, sessions, measure, tz)


def _chart(pdf: _Report, sessions: list[MassageSession], measure: str, tz: str) -> None:
    """Each session as a line from its before rating (open circle) to its after rating
    (filled circle) on the 0-10 scale, oldest on the left: the SVG chart, on paper."""
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
    n = len(sessions)
    step = width / n
    radius = max(0.45, min(1.3, step / 3))
    for i, s in enumerate(sessions):
        x = left + step * (i + 0.5)
        before, after = getattr(s, f"before_{measure}"), getattr(s, f"after_{measure}")
        if after is not None:
            kind = "better" if after < before else "worse" if after > before else "same"
            pdf.set_draw_color(*CHANGE_COLOURS[kind])
            pdf.set_line_width(0.5)
            pdf.line(x, y(before), x, y(after))
            pdf.set_line_width(0.2)
            pdf.set_fill_color(*INK)
            pdf.set_draw_color(*INK)
            pdf.dot(x, y(after), radius, "F")
        pdf.set_draw_color(*INK)
        pdf.set_fill_color(255, 255, 255)
        pdf.dot(x, y(before), radius, "DF")
    pdf.set_text_color(*MUTED)
    first, last = sessions[0].started_at, sessions[-1].started_at
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

    therapists = _therapists(patient)
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
