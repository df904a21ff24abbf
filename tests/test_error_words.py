"""Errors a person can act on, without JavaScript: a rating left out is named ("Choose a
number for pain") beside its question and in the summary above the form, and every field
the summary names is named as its own label names it, in English, French and Spanish."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.conftest import PASSWORD
from tests.test_pages import Browser

LANGUAGES = ["en", "fr-CA", "es"]


class Form(HTMLParser):
    """The error summary's links ({target id: words}) and the words naming each field: a
    <label for=...> or a fieldset's <legend>, without the "(optional)" hints in them."""

    def __init__(self, html: str):
        super().__init__()
        self.links: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.beside: dict[str, str] = {}  # an error shown under a field: {field id: words}
        self._stack: list[tuple[str, dict]] = []
        self._text: list[list[str]] = []
        self._fieldsets: list[str | None] = []
        self._summary = 0
        self._hint = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "fieldset":
            self._fieldsets.append(a.get("id"))
        if "error-summary" in (a.get("class") or "").split():
            self._summary = 1
        elif self._summary and tag == "div":
            self._summary += 1
        if tag == "span" and "hint" in (a.get("class") or "").split():
            self._hint += 1
            self._stack.append(("hint", a))
            return
        if tag in ("label", "legend", "a", "p") and tag not in ("input", "br"):
            self._stack.append((tag, a))
            self._text.append([])
        elif tag not in ("input", "br", "img", "meta", "link"):
            self._stack.append((tag, a))

    def handle_endtag(self, tag):
        if tag == "fieldset" and self._fieldsets:
            self._fieldsets.pop()
        if tag == "div" and self._summary:
            self._summary -= 1
        while self._stack:
            kind, a = self._stack.pop()
            if kind == "hint":
                self._hint -= 1
                if tag == "span":
                    return
                continue
            if kind in ("label", "legend", "a", "p"):
                words = " ".join("".join(self._text.pop()).split())
                if kind == "label" and a.get("for"):
                    self.names[a["for"]] = words
                elif kind == "legend" and self._fieldsets and self._fieldsets[-1]:
                    self.names[self._fieldsets[-1]] = words
                elif kind == "a" and self._summary and a.get("href", "").startswith("#"):
                    self.links[a["href"][1:]] = words
                elif kind == "p" and "error" in (a.get("class") or "").split() and a.get("id"):
                    self.beside[a["id"].removesuffix("-error")] = words
            if kind == tag:
                return

    def handle_data(self, data):
        if self._text and not self._hint:
            for words in self._text:
                words.append(data)


def summary_names_match_labels(html: str) -> list[str]:
    form = Form(html)
    assert form.links, "no error summary with links"
    problems = []
    for target, words in form.links.items():
        if target not in form.names:
            problems.append(f"#{target}: no field with that id")
        elif target.split("-")[-1] in ("pain", "stress", "numbness", "tingling", "weakness"):
            continue  # a rating: the link says what to do ("Choose a number for pain")
        elif words != form.names[target]:
            label = form.names[target]
            problems.append(f"#{target}: the summary says {words!r}, its label {label!r}")
    return problems


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_name_in_an_error_summary_is_its_fields_label(app, alice, language):
    anon = Browser(app.test_client())
    anon.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    problems = []
    # Sign-up with nothing filled in, and with a bad address and a short password.
    for data in ({}, {"display_name": "Ann", "email": "not an address", "password": "short"}):
        page = anon.submit("/register", data)
        assert page.status_code == 422
        problems += [f"/register: {p}" for p in summary_names_match_labels(page.get_data(True))]
    me = Browser(app.test_client())
    me.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    me.submit("/login", {"email": alice.email, "password": PASSWORD})
    for path, data in (
        ("/settings", {"display_name": "", "timezone": "Nowhere/At_all"}),
        ("/settings/password", {"current_password": "wrong one", "new_password": "short"}),
        ("/therapists", {"name": ""}),
    ):
        page = me.submit(path, data)
        assert page.status_code in (422, 429), (path, page.status_code)
        problems += [f"{path}: {p}" for p in summary_names_match_labels(page.get_data(True))]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "given, missing",
    [({}, ["pain", "stress"]), ({"before.pain": "4"}, ["stress"])],
    ids=["nothing", "stress-left-out"],
)
def test_a_rating_left_out_is_named_beside_its_question_and_in_the_summary(
    app, alice, given, missing
):
    me = Browser(app.test_client())
    me.submit("/login", {"email": alice.email, "password": PASSWORD})
    page = me.submit("/sessions/new", given)
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    form = Form(html)
    wanted = {f"before-{m}": f"Choose a number for {m}" for m in missing}
    assert form.links == wanted
    assert form.beside == wanted
    assert 'role="alert"' in html
    for m in missing:
        assert re.search(rf'<fieldset class="rating" id="before-{m}"[^>]*aria-invalid="true"', html)
    for m in {"pain", "stress"} - set(missing):
        assert not re.search(rf'id="before-{m}"[^>]*aria-invalid', html)
