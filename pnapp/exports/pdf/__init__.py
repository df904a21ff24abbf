"""The report for a clinician: one or two Letter or A4 pages drawn with fpdf2's core fonts,
showing what the progress page shows, with the counts each figure rests on:

1. who and when: the full name and date of birth when given, the dates covered, the zone;
2. pain and stress before massage week by week (the trend), with its table and the plain
   12-weeks-against-12 sentence;
3. relief after a session, or "too early to tell";
4. the global impression of change (PGIC) answers;
5. weeks kept;
6. adjuncts, symptom areas (in the words the app asks them), therapists, what seems to help.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from flask_babel import gettext, ngettext

from pnapp.exports.pdf.document import MUTED, Report, latin1
from pnapp.exports.pdf.drawing import trend_chart, weeks_boxes
from pnapp.exports.records import patient_therapists
from pnapp.insights import TREND_TITLE, from_zero, progress_page
from pnapp.labels import ADJUNCTS, AREAS, PGIC_QUESTION, date_words, decimal, local_time, zone_name
from pnapp.labels import MEASURES as MEASURE_WORDS
from pnapp.models import MassageSession, User
from pnapp.progress import MIN_PAIRED
from pnapp.timeutil import local_date

__all__ = ["latin1", "report_pdf"]


def report_pdf(patient: User, weeks: int, now: datetime) -> bytes:
    """A report to hand a clinician, on the patient's paper (User.report_paper)."""
    page = progress_page(patient, now, weeks, name=patient.display_name)
    progress = page["progress"]
    name = patient.full_name or patient.display_name
    first = date_words(date.fromisoformat(progress["weeks"][0]["start"]))
    last = date_words(local_date(now, patient.timezone))
    covers = gettext("%(first)s to %(last)s", first=first, last=last)

    pdf = Report(patient.report_paper, name, covers)
    pdf.set_title(latin1(gettext("pnapp report for %(name)s", name=name)))
    pdf.set_creator("pnapp")
    pdf.set_creation_date(now.astimezone(UTC))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, latin1(gettext("Massage and symptom report")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 7, latin1(name), new_x="LMARGIN", new_y="NEXT")
    if patient.birth_date:
        born = date_words(patient.birth_date, "yMMMMd")
        pdf.para(gettext("Date of birth: %(date)s", date=born), size=10)
    pdf.para(
        ngettext(
            "%(first)s to %(last)s (the last week)",
            "%(first)s to %(last)s (the last %(num)d weeks)",
            weeks,
            first=first,
            last=last,
        ),
        size=11,
    )
    pdf.para(
        gettext(
            "Ratings %(name)s entered in pnapp before and after each massage, on 0-10 scales "
            "(0 = none, 10 = worst imaginable). Times are in %(zone)s.",
            name=patient.display_name,
            zone=zone_name(patient.timezone),
        ),
        size=9,
        colour=MUTED,
    )

    _trend_section(pdf, page)
    _relief_section(pdf, page)
    _pgic_section(pdf, page["pgic"], patient.timezone)
    _weeks_section(pdf, progress, weeks)
    _helps_section(pdf, patient, page["sessions"], page["helps"])
    return bytes(pdf.output())


def _trend_section(pdf: Report, page: dict) -> None:
    pdf.heading(str(TREND_TITLE), room=95)
    pdf.para(page["months"], style="B")
    if not page["trend_weeks"]:
        pdf.para(gettext("No sessions in these weeks."))
        return
    trend_chart(pdf, page["progress"]["trend"], page["axis"])
    pdf.para(f"{page['trend_caption']} {page['trend_key']}", size=8, colour=MUTED)
    pdf.columns(
        [gettext("Week of"), gettext("Sessions"), gettext("Pain"), gettext("Stress")],
        [
            [
                date_words(w["start"]),
                str(w["sessions"]),
                decimal(w["pain_before_mean"]),
                decimal(w["stress_before_mean"]),
            ]
            for w in page["trend_weeks"]
        ],
        [20, 12, 12, 12],
    )


def _relief_section(pdf: Report, page: dict) -> None:
    lines = []
    for m, r in page["progress"]["relief"].items():
        if not r["n_paired"]:
            continue
        if r["n_paired"] < MIN_PAIRED:
            lines.append(
                ngettext(
                    "%(measure)s: rated before and after in %(num)d session; too early to tell.",
                    "%(measure)s: rated before and after in %(num)d sessions; too early to tell.",
                    r["n_paired"],
                    measure=MEASURE_WORDS[m]["name"],
                )
            )
            continue
        parts = [
            ngettext(
                "%(measure)s: %(before)s before, %(after)s after on average (%(num)d session).",
                "%(measure)s: %(before)s before, %(after)s after on average (%(num)d sessions).",
                r["n_paired"],
                measure=MEASURE_WORDS[m]["name"],
                before=decimal(r["mean_before"]),
                after=decimal(r["mean_after"]),
            ),
            gettext(
                "Mean change %(change)s points (SD %(sd)s).",
                change=decimal(r["mean_change"]),
                sd=decimal(r["sd_change"]),
            ),
        ]
        m30, m50 = r["meaningful_30"], r["substantial_50"]
        if m30["eligible"]:
            parts.append(
                gettext(
                    "Meaningful relief (30%% or more) in %(count30)d of %(of30)d; substantial "
                    "relief (50%% or more) in %(count50)d of %(of50)d.",
                    count30=m30["count"],
                    of30=m30["eligible"],
                    count50=m50["count"],
                    of50=m50["eligible"],
                )
            )
        if m30["eligible"] < r["n_paired"]:
            parts.append(from_zero(r["n_paired"] - m30["eligible"]))
        if r["worsened"]:
            parts.append(gettext("Worse after %(num)d.", num=r["worsened"]))
        lines.append(" ".join(parts))
    pdf.heading(gettext("Relief after a session"), room=25)
    pdf.para(page["counts"])
    pdf.para(page["summary"], style="B")
    empty = gettext("No session has both before and after ratings in these weeks yet.")
    for line in lines or [empty]:
        pdf.para(line, size=9)
    pdf.para(
        gettext(
            "These are rules of thumb for how a person felt, not a medical assessment. The "
            "30%% and 50%% thresholds were set for change in pain over weeks (IMMPACT 2008); "
            "here they are applied to the change across one session, and to stress by analogy."
        )
        % {},  # gettext formats only when given values; this turns %% into %
        size=8,
        colour=MUTED,
    )


def _pgic_section(pdf: Report, pgic: dict, tz: str) -> None:
    answers = pgic["answers"]
    pdf.heading(gettext("Overall impression of change"), room=30)
    pdf.para(
        gettext(
            'Asked now and then: "%(question)s" (1 = very much improved, 4 = no change, '
            "7 = very much worse)",
            question=PGIC_QUESTION,
        ),
        size=9,
    )
    if not answers:
        pdf.para(gettext("No answer in these weeks."))
        return
    listed = "; ".join(
        gettext(
            "%(date)s: %(answer)s (%(value)d)",
            date=local_time(a.answered_at, tz, "date"),
            answer=a.label,
            value=a.value,
        )
        for a in answers
    )
    pdf.para(listed + ".")
    if pgic["sentence"]:
        pdf.para(pgic["sentence"])


def _weeks_section(pdf: Report, progress: dict, weeks: int) -> None:
    rows = progress["weeks"]
    kept = sum(1 for w in rows if w["goal_met"])
    goal = progress["weekly_goal"]
    pdf.heading(gettext("Weeks kept"), room=40)
    pdf.para(
        " ".join(
            (
                ngettext("Goal: %(num)d session a week.", "Goal: %(num)d sessions a week.", goal),
                ngettext(
                    "Kept %(kept)d of the last week.",
                    "Kept %(kept)d of the last %(num)d weeks.",
                    weeks,
                    kept=kept,
                ),
                ngettext(
                    "Current run: %(num)d week in a row;",
                    "Current run: %(num)d weeks in a row;",
                    progress["current_streak_weeks"],
                ),
                ngettext(
                    "longest run: %(num)d week.",
                    "longest run: %(num)d weeks.",
                    progress["longest_streak_weeks"],
                ),
            )
        )
    )
    weeks_boxes(pdf, rows)
    pdf.ln(1)
    pdf.para(
        gettext(
            "Each box is one week, oldest first, with the number of sessions; shaded = goal "
            "met; the dashed box is this week, still in progress."
        ),
        size=8,
        colour=MUTED,
    )


def _helps_section(
    pdf: Report, patient: User, sessions: list[MassageSession], helps: list[dict]
) -> None:
    pdf.heading(gettext("Adjuncts, areas and therapists"), room=40)
    adjuncts = Counter(a for s in sessions for a in s.adjuncts or ())
    areas = Counter(a for s in sessions for a in s.areas or ())
    pdf.para(gettext("Adjuncts: %(list)s.", list=_counts(adjuncts, ADJUNCTS)))
    # The question as the app asks it: these are where the symptoms are, not a massage plan.
    pdf.para(
        gettext(
            '"%(question)s" %(list)s.',
            question=gettext("Where are your symptoms?"),
            list=_counts(areas, AREAS),
        )
    )
    therapists = patient_therapists(patient)
    by_therapist: dict[int | None, list[MassageSession]] = {}
    for s in sessions:
        by_therapist.setdefault(s.therapist_id, []).append(s)
    parts = []
    for tid, group in sorted(
        by_therapist.items(), key=lambda item: (item[0] is None, -len(item[1]))
    ):
        t = therapists.get(tid)
        who = gettext("No therapist recorded") if t is None else t.name
        if t is not None and t.credential:
            who += f" ({t.credential})"
        changes = [s.before_pain - s.after_pain for s in group if s.after_pain is not None]
        if changes:
            text = ngettext(
                "%(who)s: %(num)d session, pain %(points)s points lower after on average",
                "%(who)s: %(num)d sessions, pain %(points)s points lower after on average",
                len(group),
                who=who,
                points=decimal(sum(changes) / len(changes)),
            )
        else:
            text = ngettext(
                "%(who)s: %(num)d session", "%(who)s: %(num)d sessions", len(group), who=who
            )
        parts.append(text)
    listed = "; ".join(parts) if parts else gettext("none recorded")
    pdf.para(gettext("Therapists: %(list)s.", list=listed))

    if helps:
        pdf.para(gettext("What seems to help (average change in pain after a session):"), style="B")
        for h in helps:
            pdf.para("- " + h["sentence"], size=8.5)
        pdf.para(
            gettext("These are comparisons, not proof: other things differ between sessions too."),
            size=8,
            colour=MUTED,
        )


def _counts(counter: Counter, words: dict) -> str:
    found = [f"{label} {counter[code]}" for code, label in words.items() if counter[code]]
    return ", ".join(found) if found else gettext("none recorded")
