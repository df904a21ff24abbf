"""Languages: English, French (Canada) and Spanish, through Flask-Babel.

A person's chosen language wins; otherwise the browser's. Messages made outside a request
(notifications, the PDF) use the person's language: the chosen one, else the one their
browser last asked for.
"""

from __future__ import annotations

import re
from functools import lru_cache

from flask import Flask, has_request_context, request
from flask_babel import Babel, force_locale, get_locale, gettext
from flask_login import current_user

# API and HTML language tags -> Babel locale ids.
LANGUAGES = {"en": "en", "fr-CA": "fr_CA", "es": "es"}
# Each language in its own words, for the settings page.
NAMES = {"en": "English", "fr-CA": "Français (Canada)", "es": "Español"}
DEFAULT = "en"

babel = Babel()


def browser_language() -> str | None:
    """The best of our languages for the request's Accept-Language, or None."""
    if not has_request_context():
        return None
    best = request.accept_languages.best_match([*LANGUAGES, "fr"])
    # Any French (France, Belgium, ...) gets Canadian French rather than English.
    return "fr-CA" if best == "fr" else best


def user_language(user) -> str:
    """The language to write to this person in when they are not the one asking."""
    return user.language or user.browser_language or DEFAULT


def note_browser_language(user) -> None:
    """Remember the language this person's browser asks for, for messages sent later."""
    seen = browser_language()
    if seen and seen != user.browser_language:
        user.browser_language = seen


@lru_cache(maxsize=256)
def in_language(language: str, message: str) -> str:
    """A catalogue message in the given language, outside any request (notifications)."""
    with force_locale(LANGUAGES.get(language, DEFAULT)):
        return gettext(message)


def select_locale() -> str:
    chosen = current_user.language if current_user and current_user.is_authenticated else None
    return LANGUAGES[chosen or browser_language() or DEFAULT]


def language_tag() -> str:
    """The current locale as an HTML/BCP 47 tag: fr_CA -> fr-CA."""
    return str(get_locale()).replace("_", "-")


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals.update(language_tag=language_tag)
    # Form errors are translated where they are shown, whichever path produced them.
    app.jinja_env.filters["translate"] = translate


def N_(message: str) -> str:
    """Marks a message for the catalogue; it is translated later, where it is shown."""
    return message


# Messages marshmallow writes itself (English), so that translate() finds them.
VALIDATION_MESSAGES = (
    N_("Missing data for required field."),
    N_("Unknown field."),
    N_("Field may not be null."),
    N_("Invalid input type."),
    N_("Invalid input."),
    N_("Invalid type."),
    N_("Invalid value."),
    N_("Not a valid boolean."),
    N_("Not a valid date."),
    N_("Not a valid datetime."),
    N_("Not a valid aware datetime."),
    N_("Not a valid email address."),
    N_("Not a valid integer."),
    N_("Not a valid list."),
    N_("Not a valid mapping type."),
    N_("Not a valid number."),
    N_("Not a valid string."),
    N_("Not a valid UUID."),
    N_("Not a valid utf-8 string."),
    N_("Number too large."),
    N_("String does not match expected pattern."),
    N_("Special numeric values (nan or infinity) are not permitted."),
)
# Messages marshmallow formats with values: the English it writes, and the catalogue's form.
VALIDATION_PATTERNS = tuple(
    (re.compile(pattern), message)
    for pattern, message in (
        (
            r"Must be greater than or equal to (?P<min>\S+) and less than or equal to "
            r"(?P<max>\S+)\.",
            N_("Must be greater than or equal to %(min)s and less than or equal to %(max)s."),
        ),
        (
            r"Length must be between (?P<min>\d+) and (?P<max>\d+)\.",
            N_("Length must be between %(min)s and %(max)s."),
        ),
        (r"Longer than maximum length (?P<max>\d+)\.", N_("Longer than maximum length %(max)s.")),
        (
            r"Shorter than minimum length (?P<min>\d+)\.",
            N_("Shorter than minimum length %(min)s."),
        ),
        (r"Must be one of: (?P<choices>.*)\.", N_("Must be one of: %(choices)s.")),
        (r'"(?P<input>.*)" cannot be formatted as a date\.', N_("Not a valid date.")),
    )
)


def translate(message) -> str:
    """A message in the current language: ours (marked with N_ or lazy) or marshmallow's."""
    text = str(message)
    translated = gettext(text)
    if translated != text:
        return translated
    for pattern, msgid in VALIDATION_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            return gettext(msgid, **match.groupdict())
    return text
