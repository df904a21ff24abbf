"""The sessions as CSV, one row per session for a spreadsheet.

Imports stay absolute: this module is named csv, and the standard library's csv is the one
it writes with.
"""

from __future__ import annotations

import csv
import io

from pnapp.exports.records import WHENS, patient_sessions, patient_therapists, recorders
from pnapp.models import MEASURES, User
from pnapp.timeutil import to_utc_iso, zone

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
    return header + ["entered_by"] + (["notes"] if include_notes else [])


def sessions_csv(patient: User, *, include_notes: bool = False) -> str:
    """Every session, oldest first: ratings as numbers (empty when not rated), the start in
    the patient's zone (ISO 8601 with its offset) and in UTC (Z), areas and adjuncts as
    codes joined with ';'. Notes only with include_notes (a caregiver needs `notes`)."""
    tz = zone(patient.timezone)
    names = {tid: t.name for tid, t in patient_therapists(patient).items()}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(csv_header(include_notes))
    sessions = patient_sessions(patient)
    # Empty when the patient entered it; a caregiver's name when they did.
    entered = {uid: u.display_name for uid, u in recorders(patient, sessions).items()}
    for s in sessions:
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
        row.append(_text_cell(entered.get(s.entered_by)))
        if include_notes:
            row.append(_text_cell(s.notes))
        # csv writes None as an empty cell: "not rated" stays distinct from 0.
        writer.writerow(row)
    return out.getvalue()
