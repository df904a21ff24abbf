"""Massage sessions and the therapists who give them, with the lists of what can be rated."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pnapp.errors import Conflict, Invalid, NotFound
from pnapp.extensions import db
from pnapp.i18n import N_
from pnapp.measures import MEASURES
from pnapp.models.types import UTCDateTime
from pnapp.timeutil import utcnow

if TYPE_CHECKING:
    from pnapp.models.accounts import User


AREAS = ("feet_lower_legs", "hands_lower_arms", "whole_body")
ADJUNCTS = ("heat_towels", "cold_towels", "hot_tub", "sauna")
HEAT_ADJUNCTS = ("heat_towels", "hot_tub", "sauna")


class Therapist(db.Model):
    __tablename__ = "therapists"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(40))
    certified: Mapped[bool | None] = mapped_column(Boolean)
    credential: Mapped[str | None] = mapped_column(String(40))
    screening: Mapped[dict | None] = mapped_column(JSON)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    patient: Mapped[User] = relationship(back_populates="therapists")

    # Filled by with_stats(): sessions so far and the mean pain change (before - after).
    sessions_count = 0
    mean_pain_change = None

    @classmethod
    def create(cls, patient: User, data: dict[str, Any]) -> Therapist:
        therapist = cls(patient_id=patient.id)
        therapist.update(data)
        db.session.add(therapist)
        db.session.commit()
        return therapist

    def update(self, data: dict[str, Any]) -> None:
        for key, value in data.items():
            setattr(self, key, value.strip() if key == "name" else value)
        db.session.commit()

    def delete(self) -> None:
        db.session.delete(self)
        db.session.commit()

    @classmethod
    def with_stats(cls, patient: User, therapist_id: int | None = None) -> list[Therapist]:
        """The patient's therapists by name, each with its session count and mean pain change,
        in two queries whatever the number of sessions."""
        query = select(cls).where(cls.patient_id == patient.id).order_by(cls.name, cls.id)
        if therapist_id is not None:
            query = query.where(cls.id == therapist_id)
        therapists = list(db.session.scalars(query))
        stats = db.session.execute(
            select(
                MassageSession.therapist_id,
                func.count(MassageSession.id),
                # avg() skips sessions without an after rating (before - NULL is NULL).
                func.avg(MassageSession.before_pain - MassageSession.after_pain),
            )
            .where(
                MassageSession.patient_id == patient.id,
                MassageSession.therapist_id.in_([t.id for t in therapists]),
            )
            .group_by(MassageSession.therapist_id)
        )
        by_id = {tid: (count, mean) for tid, count, mean in stats}
        for t in therapists:
            count, mean = by_id.get(t.id, (0, None))
            t.sessions_count = count
            t.mean_pain_change = None if mean is None else float(mean)
        return therapists

    def with_own_stats(self) -> Therapist:
        return Therapist.with_stats(self.patient, self.id)[0]


class MassageSession(db.Model):
    __tablename__ = "massage_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(36))
    # Hash of the creating request's body: a retry with the same body is the same request.
    request_hash: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_min: Mapped[int | None] = mapped_column(Integer)
    therapist_id: Mapped[int | None] = mapped_column(
        ForeignKey("therapists.id", ondelete="SET NULL"), index=True
    )
    areas: Mapped[list] = mapped_column(JSON, default=list)
    adjuncts: Mapped[list] = mapped_column(JSON, default=list)
    before_pain: Mapped[int] = mapped_column(Integer)
    before_stress: Mapped[int] = mapped_column(Integer)
    before_numbness: Mapped[int | None] = mapped_column(Integer)
    before_tingling: Mapped[int | None] = mapped_column(Integer)
    before_weakness: Mapped[int | None] = mapped_column(Integer)
    before_recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    after_pain: Mapped[int | None] = mapped_column(Integer)
    after_stress: Mapped[int | None] = mapped_column(Integer)
    after_numbness: Mapped[int | None] = mapped_column(Integer)
    after_tingling: Mapped[int | None] = mapped_column(Integer)
    after_weakness: Mapped[int | None] = mapped_column(Integer)
    after_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notes: Mapped[str | None] = mapped_column(Text)
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    patient: Mapped[User] = relationship(back_populates="sessions", foreign_keys=[patient_id])
    therapist: Mapped[Therapist | None] = relationship()

    __table_args__ = (
        UniqueConstraint("patient_id", "client_id"),
        # Serves history and week counts: one patient's sessions by start time.
        Index("ix_massage_sessions_patient_started", "patient_id", "started_at", "id"),
        # Serves the after-rating nudge: recent sessions still without after ratings.
        Index(
            "ix_massage_sessions_awaiting_after",
            "started_at",
            postgresql_where=text("after_pain IS NULL"),
            sqlite_where=text("after_pain IS NULL"),
        ),
        *(
            CheckConstraint(f"{p}_{m} BETWEEN 0 AND 10", name=f"{p}_{m}")
            for p in ("before", "after")
            for m in MEASURES
        ),
        CheckConstraint("duration_min BETWEEN 5 AND 240", name="duration_min"),
    )

    # Reading

    def ratings(self, when: str) -> dict[str, Any] | None:
        if when == "after" and self.after_pain is None:
            return None
        out: dict[str, Any] = {m: getattr(self, f"{when}_{m}") for m in MEASURES}
        out["recorded_at"] = getattr(self, f"{when}_recorded_at")
        return out

    @property
    def before(self) -> dict[str, Any]:
        return self.ratings("before")

    @property
    def after(self) -> dict[str, Any] | None:
        return self.ratings("after")

    @property
    def change(self) -> dict[str, int | None] | None:
        """before - after for each measure rated both times; positive means better."""
        if self.after_pain is None:
            return None
        out = {}
        for m in MEASURES:
            pre, post = getattr(self, f"before_{m}"), getattr(self, f"after_{m}")
            out[m] = None if pre is None or post is None else pre - post
        return out

    @property
    def has_heat(self) -> bool:
        return any(a in HEAT_ADJUNCTS for a in self.adjuncts or ())

    # Writing

    @classmethod
    def record(
        cls, patient: User, data: dict[str, Any], entered_by: User, now: datetime | None = None
    ) -> tuple[MassageSession, bool]:
        """Store a new session, or return the stored one for a retried request.

        One statement writes: INSERT ... ON CONFLICT (patient_id, client_id) DO NOTHING
        RETURNING its id. An id back is the new session (created=True). No row means this
        client_id is already stored (a retry, or a concurrent twin that won): that row is the
        answer when the request body is the same, else the client reused a key: 409.
        """
        client_id = str(data["client_id"])
        digest = request_digest(data)
        now = now or utcnow()
        draft = cls(
            patient_id=patient.id,
            client_id=client_id,
            request_hash=digest,
            entered_by=entered_by.id,
            areas=[],
            adjuncts=[],
            created_at=now,
            updated_at=now,
        )
        draft.apply(patient, data, now)
        values = {name: getattr(draft, key) for key, name in _columns()}
        # A foreign key refusing (the account or the therapist deleted meanwhile) is a 409
        # from errors.py; the client_id's conflict does nothing.
        new_id = db.session.execute(_insert_new(db.session.get_bind().dialect.name), values)
        new_id = new_id.scalar()
        if new_id is not None:
            # The answer is the draft, every column of it set here: nothing is read back, and
            # it never joins the ORM session (no flush, no expiry at the commit).
            draft.id = new_id
            db.session.commit()
            return draft, True
        db.session.commit()
        existing = cls._by_client_id(patient.id, client_id)
        if existing.request_hash != digest:
            raise Conflict("A different session was already saved with this client_id.")
        return existing, False

    @classmethod
    def _by_client_id(cls, patient_id: int, client_id: str) -> MassageSession | None:
        return db.session.scalar(
            select(cls).where(cls.patient_id == patient_id, cls.client_id == client_id)
        )

    def update(self, patient: User, data: dict[str, Any], now: datetime | None = None) -> None:
        self.apply(patient, data, now or utcnow())
        db.session.commit()

    def apply(self, patient: User, data: dict[str, Any], now: datetime) -> None:
        if "therapist_id" in data and data["therapist_id"] is not None:
            try:
                patient.own_therapist(data["therapist_id"])
            except NotFound:
                raise Invalid(
                    fields={"therapist_id": [N_("Not one of your therapists.")]}
                ) from None
        simple = ("started_at", "duration_min", "therapist_id", "notes")
        for key in simple:
            if key in data:
                setattr(self, key, data[key])
        if self.started_at is None:
            self.started_at = now
        for key in ("areas", "adjuncts"):
            if key in data:
                setattr(self, key, sorted(set(data[key] or ())))
        for when in ("before", "after"):
            if when in data:
                self._set_ratings(when, data[when], now)

    def _set_ratings(self, when: str, ratings: dict[str, Any] | None, now: datetime) -> None:
        for m in MEASURES:
            setattr(self, f"{when}_{m}", (ratings or {}).get(m))
        recorded = (ratings or {}).get("recorded_at") or (now if ratings else None)
        setattr(self, f"{when}_recorded_at", recorded)

    def delete(self) -> None:
        db.session.delete(self)
        db.session.commit()


@cache
def _columns() -> tuple[tuple[str, str], ...]:
    """(attribute, column name) of every column but the id: what MassageSession.record
    inserts. Read once the models are all defined (the mapper needs them all)."""
    return tuple(
        (prop.key, prop.columns[0].name)
        for prop in MassageSession.__mapper__.column_attrs
        if prop.key != "id"
    )


@cache
def _insert_new(dialect: str):
    """INSERT ... ON CONFLICT (patient_id, client_id) DO NOTHING RETURNING id, built once per
    database: its values come as parameters, so its compiled SQL is cached too."""
    table = MassageSession.__table__
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=["patient_id", "client_id"])
        .returning(table.c.id)
    )


def request_digest(data: dict[str, Any]) -> str:
    """A stable hash of a validated request body (key order and time spelling do not matter)."""

    def canon(value):
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat()
        if isinstance(value, dict):
            return {k: canon(v) for k, v in value.items()}
        if isinstance(value, (list, tuple, set)):
            return sorted(canon(v) for v in value)
        return value if isinstance(value, (int, str, bool, type(None))) else str(value)

    text = json.dumps(canon(data), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


RATING_COLUMNS = tuple(
    getattr(MassageSession, f"{when}_{m}") for when in ("before", "after") for m in MEASURES
)
