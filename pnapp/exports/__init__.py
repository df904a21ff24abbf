"""A patient's data taken elsewhere (API.md, Exports): plain functions of a patient, with no
request logic, so the API, tests and scripts all build exactly the same files.

- `sessions_csv` (csv.py): one row per session for a spreadsheet.
- `fhir_bundle` (fhir.py): a FHIR R4 Bundle of type "collection".
- `all_json` (archive.py): everything stored about the account, minus secrets.
- `report_pdf` (pdf.py): a one-to-two page report for a clinician.
"""

from __future__ import annotations

from pnapp.exports.archive import all_json
from pnapp.exports.csv import csv_header, sessions_csv
from pnapp.exports.fhir import SELF_RATING, _urn, fhir_bundle


def report_pdf(*args, **kwargs) -> bytes:
    """pdf/'s report_pdf, imported on first use: fpdf2 brings fontTools and NumPy, seconds
    of start-up for every web worker and scheduler, most of which never draw a report."""
    from pnapp.exports.pdf import report_pdf as draw

    return draw(*args, **kwargs)


__all__ = [
    "SELF_RATING",
    "_urn",
    "all_json",
    "csv_header",
    "fhir_bundle",
    "report_pdf",
    "sessions_csv",
]
