"""Words shown to people for the codes the API uses, and small display helpers."""

from __future__ import annotations

from datetime import datetime

from pnapp.timeutil import zone

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")

MEASURES = {
    "pain": {
        "name": "Pain",
        "question": "How much pain do you feel right now?",
        "low": "no pain",
        "high": "worst pain imaginable",
    },
    "stress": {
        "name": "Stress",
        "question": "How stressed do you feel right now?",
        "low": "not at all",
        "high": "as stressed as I can imagine",
    },
    "numbness": {
        "name": "Numbness",
        "question": "How numb do your hands or feet feel right now?",
        "low": "no numbness",
        "high": "completely numb",
    },
    "tingling": {
        "name": "Tingling",
        "question": "How much tingling do you feel right now?",
        "low": "no tingling",
        "high": "worst tingling imaginable",
    },
    "weakness": {
        "name": "Weakness",
        "question": "How weak do your hands or feet feel right now?",
        "low": "no weakness",
        "high": "as weak as I can imagine",
    },
}

AREAS = {
    "feet_lower_legs": "Feet and lower legs",
    "hands_lower_arms": "Hands and lower arms",
    "whole_body": "Most of the body",
}

ADJUNCTS = {
    "heat_towels": "Heat towels",
    "cold_towels": "Cold towels",
    "hot_tub": "Hot tub",
    "sauna": "Sauna",
}

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def local_time(value: datetime | None, tz: str, fmt: str = "%a %-d %b %Y, %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(zone(tz)).strftime(fmt)


def change_words(measure: str, change: int | None) -> str:
    """'2 points lower' / 'no change' / '1 point higher'."""
    if change is None:
        return "not rated both times"
    if change == 0:
        return "no change"
    points = "point" if abs(change) == 1 else "points"
    return f"{abs(change)} {points} {'lower' if change > 0 else 'higher'}"
