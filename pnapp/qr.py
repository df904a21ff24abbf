"""QR codes for links handed across a table (invitations, therapist links): inline SVG, made on
the server, so no script draws them and they print."""

from __future__ import annotations

import segno
from markupsafe import Markup


def qr_svg(url: str, title: str) -> Markup:
    """The link as an inline SVG QR code, named `title` for screen readers."""
    return Markup(segno.make(url, error="m").svg_inline(scale=5, title=title))
