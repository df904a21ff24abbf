"""Who looked at a patient's data, and when: every read a caregiver makes of progress,
sessions, an export or the report, and every open of a link for a therapist or a doctor.
The patient sees the newest hundred (GET /access-log) and, on the Sharing page, when each
person or link last looked. Rows older than KEEP are pruned by the scheduler.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from pnapp.extensions import db
from pnapp.models.types import UTCDateTime
from pnapp.timeutil import utcnow

if TYPE_CHECKING:
    from pnapp.models.accounts import User

WHAT = ("progress", "sessions", "export", "report", "link")
KEEP = timedelta(days=365)
SHOWN = 100


class AccessEntry(db.Model):
    """One read. `label` is the viewer's name as it was then (a caregiver's display name,
    or a link's label), so the log still reads after a caregiver's account is gone."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    viewer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    label: Mapped[str] = mapped_column(String(120))
    what: Mapped[str] = mapped_column(String(16))
    # Indexed alone too, for the scheduler's pruning.
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    __table_args__ = (Index("ix_access_log_patient_at", "patient_id", "at"),)

    @property
    def who(self) -> dict:
        return {"id": self.viewer_id, "display_name": self.label}


def record_access(
    patient_id: int,
    what: str,
    *,
    viewer: User | None = None,
    label: str | None = None,
    now: datetime | None = None,
) -> None:
    """Write one read of a patient's data and commit. A caregiver passes `viewer`; a link
    for a therapist or doctor passes `label` (its label) and no viewer, and shows as
    {"id": null, "display_name": label}."""
    if what not in WHAT:
        raise ValueError(f"unknown access kind {what!r}")
    if viewer is None and not label:
        raise ValueError("an access needs a viewer or a label")
    db.session.add(
        AccessEntry(
            patient_id=patient_id,
            viewer_id=viewer.id if viewer is not None else None,
            label=(label or viewer.display_name)[:120],
            what=what,
            at=now or utcnow(),
        )
    )
    db.session.commit()


def recent(patient_id: int, limit: int = SHOWN) -> list[AccessEntry]:
    """The newest reads, newest first."""
    return list(
        db.session.scalars(
            select(AccessEntry)
            .where(AccessEntry.patient_id == patient_id)
            .order_by(AccessEntry.at.desc(), AccessEntry.id.desc())
            .limit(limit)
        )
    )


def last_looked(patient_id: int) -> dict[int, datetime]:
    """When each caregiver (by user id) last looked."""
    return dict(
        db.session.execute(
            select(AccessEntry.viewer_id, func.max(AccessEntry.at))
            .where(AccessEntry.patient_id == patient_id, AccessEntry.viewer_id.is_not(None))
            .group_by(AccessEntry.viewer_id)
        ).all()
    )


def prune(now: datetime) -> int:
    """Forget reads older than KEEP; the number forgotten."""
    done = db.session.execute(delete(AccessEntry).where(AccessEntry.at < now - KEEP)).rowcount
    db.session.commit()
    return done


def links_last_opened(patient_id: int) -> list[tuple[str, datetime]]:
    """Each therapist or doctor link (by label) and when it was last opened, newest first."""
    return [
        (label, at)
        for label, at in db.session.execute(
            select(AccessEntry.label, func.max(AccessEntry.at).label("at"))
            .where(AccessEntry.patient_id == patient_id, AccessEntry.viewer_id.is_(None))
            .group_by(AccessEntry.label)
            .order_by(func.max(AccessEntry.at).desc())
        ).all()
    ]
