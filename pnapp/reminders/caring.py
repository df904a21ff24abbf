"""Planning for caregivers who help: the heads-up before a week is lost, the weekly digest
mail, and a caregiver's encouragement to the patient. Like planning.py, each writes Delivery
rows before anything is sent, and UNIQUE(user, kind, period, channel) keeps each one to
exactly once however many schedulers run.

- heads_up: on the patient's reminder weekday plus 2 days at 18:00 local, or Sunday 12:00
  if that is sooner (API.md), when the patient's week has no session yet; period
  "<patient id>:<week>", on the caregiver's ladder.
- digest: Monday at DIGEST_HOUR in the patient's zone, about the four weeks just ended; by
  e-mail only, to a confirmed address; its words are made when it is sent (mails.py).
- encouragement: at once, on the patient's ladder, sent right after the request commits.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from pnapp.extensions import db
from pnapp.i18n import N_, user_language
from pnapp.labels import local_time
from pnapp.models import CareShare, Delivery, MassageSession, User
from pnapp.models.delivery import SEND_AFTER_COMMIT, can_mail
from pnapp.reminders.planning import (
    DIGEST,
    ENCOURAGEMENT,
    HEADS_UP,
    LATE_LIMIT,
    _deliveries,
    _delivery,
    _insert_new,
    _with_devices,
    payload,
    shares_with,
    to_caregivers,
)
from pnapp.timeutil import iso_week_label, local_date, local_midnight, week_start, zone

DIGEST_HOUR = 10
DIGEST_WEEKS = 4
# Which scope each caregiver message needs, checked again just before sending (jobs.py).
SCOPE_OF = {HEADS_UP: "heads_up", DIGEST: "digest"}


def heads_up_at(monday: date, weekday: int, tz: str) -> datetime:
    """When the week beginning `monday` gets its heads-up: reminder weekday + 2 days at
    18:00, or Sunday 12:00 when that is sooner."""
    day, hour = (weekday + 2, 18) if weekday + 2 <= 5 else (6, 12)
    local = datetime.combine(monday + timedelta(days=day), time(hour), tzinfo=zone(tz))
    return local.astimezone(UTC)


def _session_counts(due: list[tuple[CareShare, datetime, datetime]]) -> dict[int, int]:
    """Sessions per share in its [begin, end) window, in one query."""
    counts: dict[int, int] = defaultdict(int)
    if not due:
        return counts
    for patient_id, started in db.session.execute(
        select(MassageSession.patient_id, MassageSession.started_at).where(
            MassageSession.patient_id.in_({s.patient_id for s, _, _ in due}),
            MassageSession.started_at >= min(b for _, b, _ in due),
            MassageSession.started_at < max(e for _, _, e in due),
        )
    ):
        for share, began, ended in due:
            if share.patient_id == patient_id and began <= started < ended:
                counts[share.id] += 1
    return counts


def plan_heads_up(now: datetime) -> int:
    """One nudge per caregiver holding `heads_up`, patient and week, when the week has no
    session by the heads-up time (and none since, up to now)."""
    due = []
    for share in shares_with("heads_up"):
        patient = share.patient
        monday = week_start(local_date(now, patient.timezone))
        at = heads_up_at(monday, patient.reminder_weekday, patient.timezone)
        if at <= now <= at + LATE_LIMIT and share.created_at <= at:
            due.append((share, local_midnight(monday, patient.timezone), now, at))
    counts = _session_counts([(s, b, e) for s, b, e, _ in due])
    rows = to_caregivers(
        HEADS_UP,
        "heads-up",
        [
            (share, iso_week_label(local_date(began, share.patient.timezone)), at)
            for share, began, _, at in due
            if not counts[share.id]
        ],
    )
    planned = _insert_new(rows)
    db.session.commit()
    return planned


def plan_digests(now: datetime) -> int:
    """One digest mail per caregiver holding `digest`, patient and week, on Monday at
    DIGEST_HOUR in the patient's zone, about the weeks that just ended."""
    rows = []
    for share in shares_with("digest"):
        if not can_mail(share.caregiver):
            continue
        tz = share.patient.timezone
        monday = week_start(local_date(now, tz))
        at = local_midnight(monday, tz) + timedelta(hours=DIGEST_HOUR)
        if not (at <= now <= at + LATE_LIMIT) or share.created_at > local_midnight(monday, tz):
            continue
        week = iso_week_label(monday - timedelta(weeks=1))
        rows.append(
            _delivery(share.caregiver_id, DIGEST, f"{share.patient_id}:{week}", at, {}, "email")
        )
    planned = _insert_new(rows)
    db.session.commit()
    return planned


def plan_encouragement(encouragement, patient: User, now: datetime) -> None:
    """The patient's deliveries of one encouragement, in the caller's transaction; they
    leave right after it commits (instant.py), or with the scheduler's next pass."""
    has_device = bool(_with_devices([patient.id]))
    name = encouragement.caregiver.display_name
    rows = _deliveries(
        patient,
        has_device,
        ENCOURAGEMENT,
        f"encouragement-{encouragement.id}",
        now,
        lambda: payload(
            ENCOURAGEMENT,
            tag=f"encouragement-{encouragement.id}",
            path="/",
            language=user_language(patient),
            name=name,
        ),
    )
    made = [Delivery(**row) for row in rows]
    db.session.add_all(made)
    db.session.flush()
    db.session.info.setdefault(SEND_AFTER_COMMIT, []).extend(d.id for d in made)


def plan_caring(now: datetime) -> int:
    return plan_heads_up(now) + plan_digests(now)


# The digest's words, made when it is sent: counts and modest words, never a rating, a note
# or, without the `sessions` scope, anything about a single session.
DIGEST_OPENING = N_("Here is how the last four weeks went for %(name)s.")
DIGEST_KEPT = N_("Weeks with the massage goal met: %(kept)d of 4.")
DIGEST_LAST_WEEK_KEPT = N_("Last week's goal was met.")
DIGEST_LAST_WEEK_MISSED = N_("Last week's goal was not met.")
DIGEST_PAIN = N_("Pain was clearly lower afterwards for %(count)d of %(eligible)d massages.")
DIGEST_STRESS = N_("Stress was clearly lower afterwards for %(count)d of %(eligible)d massages.")
DIGEST_NOT_RATED = N_("No massage was rated both before and after in that time.")
DIGEST_LAST_SESSION = N_("Last massage recorded: %(date)s.")


def digest_lines(row, caregiver: User) -> list[tuple[str, dict]] | None:
    """(msgid, values) for a claimed digest, or None when the share no longer holds
    `digest`. Call inside the caregiver's locale (format_date)."""
    patient_id, week = row.period.split(":", 1)
    share = db.session.scalar(
        select(CareShare).where(
            CareShare.patient_id == int(patient_id), CareShare.caregiver_id == caregiver.id
        )
    )
    if share is None or not share.has("digest"):
        return None
    patient = share.patient
    year, number = week.split("-W")
    last_monday = date.fromisocalendar(int(year), int(number), 1)
    until = local_midnight(last_monday + timedelta(weeks=1), patient.timezone) - timedelta(
        seconds=1
    )
    progress = patient.progress(until, DIGEST_WEEKS)
    kept = sum(w["goal_met"] for w in progress["weeks"])
    lines = [
        (DIGEST_OPENING, {}),
        (DIGEST_KEPT, {"kept": kept}),
        (
            DIGEST_LAST_WEEK_KEPT if progress["weeks"][-1]["goal_met"] else DIGEST_LAST_WEEK_MISSED,
            {},
        ),
    ]
    if share.has("progress"):
        pain, stress = (
            (progress["relief"].get(m) or {}).get("meaningful_30") or {"eligible": 0}
            for m in ("pain", "stress")
        )
        if pain["eligible"]:
            lines.append((DIGEST_PAIN, pain))
            if stress["eligible"]:
                lines.append((DIGEST_STRESS, stress))
        else:
            lines.append((DIGEST_NOT_RATED, {}))
    if share.has("sessions"):
        last = db.session.scalar(
            select(MassageSession.started_at)
            .where(MassageSession.patient_id == patient.id, MassageSession.started_at <= until)
            .order_by(MassageSession.started_at.desc())
            .limit(1)
        )
        if last is not None:
            lines.append(
                (DIGEST_LAST_SESSION, {"date": local_time(last, patient.timezone, "long_date")})
            )
    return lines
