"""The five measures a patient rates, 0-10, in the order every screen, export and chart
shows them (CLINICAL.md): the one list Python, the templates and the page scripts read."""

from __future__ import annotations

MEASURES = ("pain", "stress", "numbness", "tingling", "weakness")
REQUIRED_MEASURES = MEASURES[:2]  # asked every time
OPTIONAL_MEASURES = MEASURES[2:]  # behind "Numbness, tingling, weakness (optional)"
