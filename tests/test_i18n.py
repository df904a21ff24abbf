"""English, French (Canada) and Spanish: complete catalogues, and every kind of text a person
reads (pages, API errors, notifications, the PDF, dates and numbers) in their language."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.dates import get_timezone, get_timezone_location, get_timezone_name
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from pnapp import exports, labels
from pnapp.extensions import db
from pnapp.i18n import LANGUAGES
from pnapp.models import CareShare, User
from pnapp.reminders import send_due_reminders
from tests.conftest import Api, make_user, share_with
from tests.helpers import session_body
from tests.test_exports import pdf_text
from tests.test_reminders import due_instant, remind_at, subscribe

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "pnapp" / "translations"
LOCALES = [locale for locale in LANGUAGES.values() if locale != "en"]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "_l": None}
KEYWORDS["lazy_gettext"] = None
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


def source_messages() -> dict[str, tuple]:
    """Every message marked in the code and templates, as pybabel extracts them."""
    method_map = [
        ("pnapp/**.py", "python"),
        ("templates/**.html", "jinja2"),
        ("templates/**.js", "jinja2"),
    ]
    found = {}
    for filename, _, message, _, _ in extract_from_dir(
        str(ROOT), method_map, keywords=KEYWORDS, options_map={}
    ):
        ids = message if isinstance(message, tuple) else (message,)
        found[ids[0]] = (filename, ids)
    return found


def catalogue(locale: str):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=locale)


def placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_marked_string_is_translated_in_the_catalogue(locale):
    messages = source_messages()
    assert len(messages) > 300  # the extraction itself worked
    po = catalogue(locale)
    missing, fuzzy, broken = [], [], []
    for msgid, (filename, ids) in messages.items():
        entry = po.get(msgid)
        strings = entry and (entry.string if isinstance(entry.string, tuple) else (entry.string,))
        if not entry or not all(strings):
            missing.append(f"{filename}: {msgid!r}")
            continue
        if entry.fuzzy:
            fuzzy.append(msgid)
        # Every form keeps the message's placeholders (a plural form may drop the count).
        wanted = placeholders(" ".join(ids))
        for form in strings:
            if not placeholders(form) <= wanted or not (wanted - {"num", "count"}) <= placeholders(
                form
            ):
                broken.append(f"{msgid!r} -> {form!r}")
    assert not missing, f"{len(missing)} not translated into {locale}:\n" + "\n".join(missing)
    assert not fuzzy, f"fuzzy in {locale}: {fuzzy}"
    assert not broken, "placeholders differ:\n" + "\n".join(broken)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_compiled_catalogue_matches_its_source(locale):
    po = catalogue(locale)
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo", "rb") as f:
        mo = read_mo(f)

    def key(m):  # plural ids come as tuples from one reader and lists from the other
        return tuple(m.id) if isinstance(m.id, (list, tuple)) else m.id

    def value(m):
        return tuple(m.string) if isinstance(m.string, (list, tuple)) else m.string

    source = {key(m): value(m) for m in po if m.id and m.string}
    compiled = {key(m): value(m) for m in mo if m.id}
    assert compiled == source, "run `make translations` to compile the catalogues"


def page(client, path: str, language: str | None = None) -> str:
    headers = {"Accept-Language": language} if language else {}
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("accept", "lang", "words"),
    [
        ("fr-CA,fr;q=0.9", "fr-CA", "Se connecter"),
        ("fr-FR", "fr-CA", "Se connecter"),
        ("es-MX,es;q=0.9", "es", "Iniciar sesión"),
        ("de-DE", "en", "Log in"),
        (None, "en", "Log in"),
    ],
)
def test_pages_follow_the_browsers_language(client, accept, lang, words):
    html = page(client, "/login", accept)
    assert f'<html lang="{lang}">' in html
    assert words in html


def test_a_chosen_language_wins_over_the_browsers(app, alice, as_alice):
    client = as_alice.client
    assert 'lang="fr-CA"' in page(client, "/", "fr-CA")
    token = as_alice.csrf_token()
    response = client.post(
        "/settings",
        data={
            "csrf_token": token,
            "display_name": "Alice",
            "timezone": "America/Toronto",
            "language": "es",
        },
        headers={"Accept-Language": "fr-CA"},
    )
    assert response.status_code == 302
    html = page(client, "/settings", "fr-CA")
    assert '<html lang="es">' in html and "Ajustes" in html
    assert as_alice.get("/me").get_json()["language"] == "es"
    # "Same as this browser" gives the choice back to the browser.
    as_alice.patch("/me", {"language": None})
    assert '<html lang="fr-CA">' in page(client, "/settings", "fr-CA")
    assert as_alice.patch("/me", {"language": "de"}).status_code == 422


def test_form_errors_from_the_model_are_shown_in_the_readers_language(app, alice):
    """Errors raised past the form's validation (here: the e-mail is taken) are translated
    too, not only the schema's."""
    client = app.test_client()
    token = client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    response = client.post(
        "/register",
        data={
            "display_name": "Alice",
            "email": alice.email,
            "password": "correct horse battery",
            "role": "patient",
            "timezone": "America/Toronto",
        },
        headers={"Accept-Language": "fr-CA", "X-CSRFToken": token},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Un compte existe déjà avec ce courriel." in html
    assert "already exists" not in html


def test_api_errors_speak_the_callers_language(app, alice, as_alice):
    fr = {"Accept-Language": "fr-CA"}
    missing = as_alice.get("/sessions/999", headers=fr).get_json()["error"]
    assert missing["code"] == "not_found"
    assert missing["message"] != "Not found." and missing["message"]
    body = session_body()
    body["before"]["pain"] = 11
    del body["before"]["stress"]
    body["surprise"] = 1
    error = as_alice.post("/sessions", body, headers={"Accept-Language": "es"}).get_json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"] != "Some fields are not valid."
    english = {
        "before.pain": "Must be greater than or equal to 0 and less than or equal to 10.",
        "before.stress": "Missing data for required field.",
        "surprise": "Unknown field.",
    }
    assert set(error["fields"]) == set(english)
    for name, text in english.items():
        [translated] = error["fields"][name]
        assert translated != text, name
    assert "0" in error["fields"]["before.pain"][0] and "10" in error["fields"]["before.pain"][0]
    anon = Api(app.test_client())
    wrong = anon.post(
        "/auth/login", {"email": alice.email, "password": "nope nope"}, headers=fr
    ).get_json()["error"]
    assert wrong["message"] != "That e-mail and password do not match an account."


def test_notifications_use_each_persons_language(app, alice, as_alice, push_service):
    # Alice's browser speaks Spanish; she has chosen nothing, so the reminder is in Spanish.
    as_alice.client.get("/", headers={"Accept-Language": "es"})
    remind_at(app, as_alice, weekday=2, time="09:00")
    sub = push_service.subscriber("phone")
    response = as_alice.post(
        "/push/subscriptions", sub.subscription(), headers={"Accept-Language": "es-MX"}
    )
    assert response.status_code == 201
    due = due_instant(app, alice.id)
    with app.app_context():
        send_due_reminders(due + timedelta(seconds=5))
    [message] = push_service.messages
    note = message.payload["notification"]
    assert note["lang"] == "es"
    assert note["body"] != "Time for your weekly massage check-in" and note["body"]

    # A chosen language wins over the browser's. (Saving settings reschedules the reminder
    # from the real clock, to this week's instant again: that week was already reminded.)
    as_alice.patch("/me", {"language": "fr-CA"})
    with app.app_context():
        send_due_reminders(due + timedelta(seconds=10))
        assert len(push_service.messages) == 1
        send_due_reminders(due + timedelta(days=7, seconds=5))
    french = push_service.messages[-1].payload["notification"]
    assert french["lang"] == "fr-CA" and french["body"] not in (note["body"], "")


def test_a_test_reminder_and_the_after_nudge_are_translated(app, alice, as_alice, push_service):
    # Reminders on: the after nudge is one of them.
    as_alice.patch("/me", {"language": "fr-CA", "reminder": {"enabled": True}})
    subscribe(as_alice, push_service, "phone")
    assert as_alice.post("/push/test").status_code in (200, 202)
    test_note = push_service.messages[-1].payload["notification"]
    assert test_note["lang"] == "fr-CA"
    assert test_note["body"] != "This is a test reminder from pnapp."
    started = datetime.now(UTC) - timedelta(hours=4)
    as_alice.post("/sessions", session_body(started_at=started.isoformat()))
    with app.app_context():
        send_due_reminders(datetime.now(UTC))
    nudge = push_service.messages[-1].payload["notification"]
    assert nudge["tag"].startswith("after-") and nudge["lang"] == "fr-CA"
    assert nudge["body"] != "How do you feel after your massage? Tap to rate."


def test_the_report_is_written_in_the_readers_language(app, alice, as_alice):
    for _ in range(3):
        as_alice.post("/sessions", session_body())
    with app.test_request_context(headers={"Accept-Language": "fr-CA"}):
        user = db.session.get(User, alice.id)
        words, _ = pdf_text(exports.report_pdf(user, 12, datetime.now(UTC)))
    assert "Massage and symptom report" not in words
    assert "Weeks kept" not in words
    assert "Alice" in words
    # A French date: the day before the month, a French month name.
    assert re.search(r"\b\d{1,2} (janv|févr|mars|avr|mai|juin|juil|août|sept|oct|nov|déc)", words)


def test_dates_and_numbers_follow_the_locale(app, alice, as_alice):
    made = as_alice.post("/sessions", session_body(started_at="2026-03-05T15:30:00Z"))
    client = as_alice.client
    # The session's own page gives the day and the time; the history, month by month.
    path = f"/sessions/{made.get_json()['id']}"
    english = page(client, path)
    french = page(client, path, "fr-CA")
    spanish = page(client, path, "es")
    assert "Mar 5, 2026" in english and "10:30" in english  # Toronto, 12-hour clock
    assert "5 mars 2026" in french and "10 h 30" in french
    assert "5 mar 2026" in spanish and "10:30" in spanish
    assert "March 2026" in page(client, "/history") and "Thu, Mar 5" in page(client, "/history")
    assert "mars 2026" in page(client, "/history", "fr-CA")
    assert "jeu. 5 mars" in page(client, "/history", "fr-CA")
    assert "marzo de 2026" in page(client, "/history", "es")


def test_every_page_is_translated_for_a_patient_and_a_caregiver(app, alice, as_alice):
    """No page shows an English sentence to a French or Spanish reader."""
    as_alice.post("/sessions", session_body())
    as_alice.post("/therapists", {"name": "Marie"})
    paths = ["/", "/sessions/new", "/history", "/progress", "/settings", "/settings/password"]
    paths += ["/settings/delete", "/share", "/therapists", "/guide", "/offline"]
    english_words = re.compile(r"\b(the|your|you|and|with|session|sessions|save|week)\b", re.I)
    for language in ("fr-CA", "es"):
        for path in paths:
            html = page(as_alice.client, path, language)
            text = visible_text(html)
            leftovers = english_words.findall(text)
            assert not leftovers, f"{language} {path}: English left: {leftovers} in {text[:400]}"


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", html)


def test_the_settings_page_offers_the_three_languages_in_their_own_words(as_alice):
    html = page(as_alice.client, "/settings", "es")
    for name in ("English", "Français (Canada)", "Español"):
        assert name in html
    assert 'lang="fr-CA"' in html


def test_a_caregiver_reads_a_patients_progress_in_their_own_language(app, alice, as_alice):
    bob = make_user(app, "bob@example.com", "caregiver", name="Bob")
    as_bob = Api(app.test_client()).login(bob.email)
    share_with(as_alice, as_bob, ["progress", "alerts"])
    as_bob.patch("/me", {"language": "es"})
    html = page(as_bob.client, f"/care/{alice.id}")
    assert '<html lang="es">' in html
    assert not re.search(r"\b(your|sessions|week)\b", visible_text(html), re.I)


def test_a_caregivers_missed_week_alert_is_in_the_caregivers_language(
    app, alice, as_alice, push_service
):
    bob = make_user(app, "bob@example.com", "caregiver", name="Bob")
    as_bob = Api(app.test_client()).login(bob.email)
    share_with(as_alice, as_bob, ["alerts"])
    as_bob.patch("/me", {"language": "es"})
    sub = push_service.subscriber("bob-phone")
    assert as_bob.post("/push/subscriptions", sub.subscription()).status_code == 201
    with app.app_context():
        db.session.query(CareShare).update({"created_at": datetime(2026, 11, 1, tzinfo=UTC)})
        db.session.commit()
        # Alice (Toronto) had no session in the week of 9-15 November 2026.
        send_due_reminders(datetime(2026, 11, 16, 14, 1, tzinfo=UTC))
    [message] = push_service.messages
    note = message.payload["notification"]
    assert note["lang"] == "es" and "Alice" in note["body"]
    assert note["body"] != "Alice has no session recorded for last week."


def cldr_zone(name: str, locale: str) -> str:
    """'City (everyday name)' as CLDR words it in the installed Babel."""
    city = get_timezone_location(name, locale=locale, return_city=True)
    everyday = get_timezone_name(get_timezone(name), locale=locale, zone_variant="generic")
    return f"{city} ({everyday})"


OPTION = re.compile(r'<option value="([^"]+)"( selected)?>([^<]*)</option>')


def test_time_zones_are_named_as_people_know_them_in_their_language(app, alice, as_alice):
    french = page(as_alice.client, "/settings", "fr-CA")
    options = OPTION.findall(french)
    # The words are CLDR's, through Babel: compare with what Babel says, not a copy of it
    # (Babel 2.19 gave London an everyday name that 2.18 did not have).
    toronto = cldr_zone("America/Toronto", "fr_CA")
    assert ("America/Toronto", " selected", toronto) in options
    london = dict((value, label) for value, _, label in options)["Europe/London"]
    assert london.startswith(get_timezone_location("Europe/London", "fr_CA", return_city=True))
    assert "Royaume-Uni" not in london  # never the country with a wrong "heure avancée"
    assert f"{toronto})" in french  # the reminder time's label names it too
    assert "America/" not in visible_text(french)

    # Every zone once, under its current name (no US/Eastern beside America/New_York),
    # in alphabetical order of what the reader sees.
    zones = [value for value, _, _ in options if "/" in value or value == "UTC"]
    assert len(zones) == len(set(zones)) > 350
    assert not {"US/Eastern", "America/Montreal", "Asia/Calcutta"} & set(zones)
    rest = [label for value, _, label in options if value in zones][23:]  # after the common 23
    assert rest == sorted(rest, key=labels._sort_key)

    spanish = page(as_alice.client.application.test_client(), "/register", "es")
    assert ("America/New_York", "", cldr_zone("America/New_York", "es")) in OPTION.findall(spanish)


def test_a_zone_stored_under_an_old_name_is_still_shown_as_chosen(app, alice, as_alice):
    as_alice.patch("/me", {"timezone": "US/Eastern"})
    options = OPTION.findall(page(as_alice.client, "/settings"))
    new_york = cldr_zone("America/New_York", "en")
    assert [o for o in options if o[1]] == [("US/Eastern", " selected", new_york)]


def test_the_report_names_the_patients_time_zone_in_the_readers_language(app, alice, as_alice):
    as_alice.post("/sessions", session_body())
    with app.test_request_context(headers={"Accept-Language": "es"}):
        user = db.session.get(User, alice.id)
        words, _ = pdf_text(exports.report_pdf(user, 12, datetime.now(UTC)))
    assert cldr_zone("America/Toronto", "es") in " ".join(words.split())


def test_the_install_prompt_speaks_the_readers_language(app, alice, as_alice):
    """The manifest gives the name and description a phone shows when it offers to install."""
    anonymous = app.test_client()
    spanish = anonymous.get("/manifest.webmanifest", headers={"Accept-Language": "es"}).get_json(
        force=True
    )
    assert spanish["lang"] == "es"
    assert spanish["name"] == "pnapp: seguimiento del alivio con masaje"
    assert "neuropatía" in spanish["description"]
    assert [s["label"] for s in spanish["screenshots"]][
        0
    ] == "Calificar el dolor antes de un masaje"

    # A language chosen in Settings wins, as on the pages (the link sends the cookie).
    as_alice.patch("/me", {"language": "fr-CA"})
    response = as_alice.client.get("/manifest.webmanifest", headers={"Accept-Language": "es"})
    french = response.get_json(force=True)
    assert french["lang"] == "fr-CA" and "neuropathie" in french["description"]
    assert "Accept-Language" in response.headers["Vary"] and "Cookie" in response.headers["Vary"]
