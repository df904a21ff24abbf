"""A seeded generator of realistic sessions (CLINICAL.md, Realistic data) for demos,
screenshots, tests and benchmarks."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from pnapp.extensions import db
from pnapp.models import ADJUNCTS, MassageSession, Therapist, User
from pnapp.timeutil import local_midnight, utcnow, week_start, zone

DEMO_PASSWORD = "demo-password"


def _clip(value: float) -> int:
    return max(0, min(10, round(value)))


def _after(rng: random.Random, before: int, mean_drop: float) -> int:
    """5-10% of sessions bring no change or a point worse; the rest fall by about mean_drop."""
    if rng.random() < 0.08:
        return _clip(before + rng.choice((0, 1)))
    return _clip(before - max(0.0, rng.gauss(mean_drop, 2.0)))


def session_rows(
    patient: User,
    *,
    weeks: int,
    seed: int,
    now: datetime | None = None,
    therapist_ids: tuple[int, ...] = (),
) -> list[dict[str, Any]]:
    """Rows for MassageSession over the last `weeks` weeks, about a quarter of weeks missed."""
    rng = random.Random(seed)
    now = now or utcnow()
    tz = patient.timezone
    this_monday = week_start(now.astimezone(zone(tz)).date())
    rows = []
    for w in range(weeks, -1, -1):
        monday = this_monday - timedelta(weeks=w)
        if rng.random() < 0.22:
            continue
        for _ in range(2 if rng.random() < 0.15 else 1):
            day = monday + timedelta(days=rng.randrange(7))
            started = local_midnight(day, tz) + timedelta(hours=rng.choice((10, 13, 15, 17)))
            if started > now - timedelta(hours=2):
                continue
            pain, stress = _clip(rng.gauss(4.4, 2.2)), _clip(rng.gauss(4.5, 2.2))
            numb = _clip(rng.gauss(5, 2)) if rng.random() < 0.6 else None
            tingle = _clip(rng.gauss(4, 2)) if numb is not None else None
            adjuncts = sorted(rng.sample(ADJUNCTS, rng.choice((0, 0, 1, 1, 2))))
            rows.append(
                {
                    "patient_id": patient.id,
                    "entered_by": patient.id,
                    "client_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "request_hash": "demo",
                    "started_at": started,
                    "duration_min": rng.choice((30, 45, 60, 60, 90)),
                    "therapist_id": rng.choice(therapist_ids) if therapist_ids else None,
                    "areas": rng.choice(
                        (
                            ["feet_lower_legs"],
                            ["feet_lower_legs", "hands_lower_arms"],
                            ["whole_body"],
                        )
                    ),
                    "adjuncts": adjuncts,
                    "before_pain": pain,
                    "before_stress": stress,
                    "before_numbness": numb,
                    "before_tingling": tingle,
                    "before_weakness": None,
                    "before_recorded_at": started,
                    "after_pain": _after(rng, pain, 2.2),
                    "after_stress": _after(rng, stress, stress * 0.5),
                    "after_numbness": None if numb is None else _after(rng, numb, 1.5),
                    "after_tingling": None if tingle is None else _after(rng, tingle, 1.5),
                    "after_weakness": None,
                    "after_recorded_at": started + timedelta(minutes=75),
                    "notes": None,
                    "created_at": started,
                    "updated_at": started,
                }
            )
    return rows


def add_sessions(patient: User, rows: list[dict[str, Any]]) -> None:
    if rows:
        db.session.execute(insert(MassageSession), rows)
    db.session.commit()


def make_demo_patient(
    *, email: str, weeks: int = 52, seed: int = 7, timezone: str = "America/Toronto"
) -> tuple[User, int]:
    user = User.by_email(email)
    if user is not None:
        user.delete_account()
    user = User.register(
        {
            "email": email,
            "password": DEMO_PASSWORD,
            "display_name": "Dana",
            "role": "patient",
            "timezone": timezone,
        }
    )
    # The demo address is made up: nothing could confirm it, and the banner asking to would
    # hide the screens the demo is for.
    user.email_verified = True
    therapists = [
        Therapist.create(
            user,
            {
                "name": "Marie Tremblay",
                "certified": True,
                "credential": "RMT",
                "phone": "+1 416 555 0142",
            },
        ),
        Therapist.create(user, {"name": "Sam Ortiz", "certified": None}),
    ]
    rows = session_rows(user, weeks=weeks, seed=seed, therapist_ids=tuple(t.id for t in therapists))
    add_sessions(user, rows)
    return user, len(rows)
