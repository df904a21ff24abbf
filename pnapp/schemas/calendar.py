"""Calendar reminders: the addresses of the patient's feed."""

from __future__ import annotations

from marshmallow import fields

from pnapp.schemas.common import Schema


class CalendarSchema(Schema):
    feed_url = fields.String(
        metadata={"description": "The secret feed address, for a calendar app to subscribe to"}
    )
    webcal_url = fields.String(
        metadata={"description": "The same address as webcal://, which phones open in a calendar"}
    )
    download_url = fields.String(
        metadata={"description": "The weekly reminder as a file to import once"}
    )
