"""Links for a therapist or a doctor: SMART Health Links (API.md; the HL7 SMART Health Links
specification). protocol.py is the wire format (the shlink:/ payload, the JWE files);
bundles.py builds the FHIR R4 Bundles a link holds; make.py puts the two together."""

from __future__ import annotations

from pnapp.links.make import make_link

__all__ = ["make_link"]
