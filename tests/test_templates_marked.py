"""Every word a person can see or hear in the templates and the page scripts is marked for
translation: text and visible attributes are inside _() or {% trans %}, values written by
{{ }} come from marked strings, and the scripts take all their words from the one JSON
object that templates/_strings.js renders (into <meta name="pnapp-strings"> and sw.js)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment, nodes

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
HTML_TEMPLATES = sorted(p for p in TEMPLATES.rglob("*.html"))
JS_TEMPLATES = sorted(p for p in TEMPLATES.rglob("*.js"))
SCRIPTS = sorted((ROOT / "static" / "js").glob("*.js"))

# Attributes people see or hear; the others (class, id, href, name...) are code.
VISIBLE_ATTRIBUTES = {"alt", "title", "aria-label", "aria-description", "placeholder", "label"}
# Words that stay as they are in every language: the brand, and the API page's title.
NOT_WORDS = re.compile(r"\bpnapp\b|\bAPI\b")
LETTERS = re.compile(r"[A-Za-z]")
GETTEXT = {"_", "gettext", "ngettext", "pgettext", "npgettext"}

COMMENT = re.compile(r"\{#.*?#\}", re.S)
TRANS = re.compile(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", re.S)
EXPRESSION = re.compile(r"\{\{-?(.*?)-?\}\}", re.S)
STATEMENT = re.compile(r"\{%.*?%\}", re.S)
MARK = "\ue000"  # where a trans block was: marked text
SLOT = re.compile("\ue001(\\d+)\ue002")  # where an {{ expression }} was

env = Environment(extensions=["jinja2.ext.i18n"])


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT)) if ROOT in path.parents else path.name


def spoken_constants(node: nodes.Node) -> list[str]:
    """String constants an expression can write out as they are (not keys, arguments or
    tests): 'session' in {{ 'session' if n == 1 else 'sessions' }}, but not 'home.home' in
    {{ url_for('home.home') }} nor anything inside _()."""
    if isinstance(node, nodes.Const):
        return [node.value] if isinstance(node.value, str) else []
    if isinstance(node, nodes.CondExpr):
        return spoken_constants(node.expr1) + (spoken_constants(node.expr2) if node.expr2 else [])
    if isinstance(node, nodes.Concat):
        return [c for n in node.nodes for c in spoken_constants(n)]
    if isinstance(node, nodes.Or | nodes.And):
        return spoken_constants(node.left) + spoken_constants(node.right)
    if isinstance(node, nodes.Filter | nodes.Test) and node.node is not None:
        return spoken_constants(node.node)
    if isinstance(node, nodes.Tuple | nodes.List):
        return [c for n in node.items for c in spoken_constants(n)]
    if isinstance(node, nodes.Output):
        return [c for n in node.nodes for c in spoken_constants(n)]
    return []


def is_words(text: str) -> bool:
    return bool(LETTERS.search(NOT_WORDS.sub("", text)))


class Page(HTMLParser):
    """The visible text and visible attribute values of a template skeleton."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.texts: list[str] = []
        self.attributes: list[str] = []
        self.slots_in_code: set[int] = set()
        self.raw = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.raw += 1
        values = dict(attrs)
        for name, value in attrs:
            if not value:
                continue
            visible = name in VISIBLE_ATTRIBUTES or (
                tag == "meta" and name == "content" and values.get("name") == "description"
            )
            visible = visible or (
                tag == "input" and name == "value" and values.get("type") in ("submit", "button")
            )
            if visible:
                self.attributes.append(value)
            else:
                self.slots_in_code.update(int(n) for n in SLOT.findall(value))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style"):
            self.raw -= 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.raw -= 1

    def handle_data(self, data):
        if self.raw:
            self.slots_in_code.update(int(n) for n in SLOT.findall(data))
        else:
            self.texts.append(data)


def unmarked_in_html(path: Path) -> list[str]:
    source = COMMENT.sub("", path.read_text())
    source = TRANS.sub(MARK, source)
    expressions: list[str] = []

    def slot(match):
        expressions.append(match.group(1))
        return f"\ue001{len(expressions) - 1}\ue002"

    skeleton = STATEMENT.sub("", EXPRESSION.sub(slot, source))
    page = Page()
    page.feed(skeleton)
    page.close()
    problems = []
    for text in page.texts + page.attributes:
        bare = SLOT.sub("", text).replace(MARK, "")
        if is_words(bare):
            problems.append(f"{rel(path)}: text {bare.strip()!r}")
    for n, expression in enumerate(expressions):
        if n in page.slots_in_code:
            continue
        tree = env.parse("{{" + expression + "}}")
        for const in spoken_constants(tree.body[0]):
            if is_words(const):
                problems.append(f"{rel(path)}: {{{{{expression}}}}} writes {const!r}")
    return problems


def unmarked_statements(path: Path) -> list[str]:
    """Words in {% set %} and {% for %} literals, outside _(): (('yes', 'Yes'), ...)."""
    tree = env.parse(path.read_text())
    problems = []
    for node in tree.find_all((nodes.For, nodes.Assign)):
        value = node.iter if isinstance(node, nodes.For) else node.node
        for const in spoken_constants(value):
            if re.search(r"[A-Za-z]\s+[A-Za-z]|^[A-Z][a-z]+$", const):
                problems.append(f"{rel(path)}:{node.lineno}: {const!r} is not marked")
    return problems


def test_the_checker_finds_unmarked_words(tmp_path):
    sample = tmp_path / "sample.html"
    sample.write_text(
        '<p>Hello</p><img alt="A logo" src="x.png"><p class="{{ \'big\' if x }}">'
        "{{ n }} {{ 'session' if n == 1 else 'sessions' }}</p>"
        '{% for v, w in ((1, "Yes"),) %}{{ w }}{% endfor %}'
        '<p>{{ _("Fine") }} {% trans n=1 %}{{ n }} fine{% endtrans %} pnapp</p>'
    )
    found = unmarked_in_html(sample) + unmarked_statements(sample)
    assert len(found) == 5, found
    assert not any("big" in f or "Fine" in f or "fine" in f for f in found)


@pytest.mark.parametrize("path", HTML_TEMPLATES, ids=rel)
def test_every_visible_word_in_a_template_is_marked(path):
    assert unmarked_in_html(path) + unmarked_statements(path) == []


def without_comments(source: str) -> str:
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    return re.sub(r"(?m)^\s*//.*$", "", source)


def js_literals(source: str) -> list[str]:
    """The string literals of a script, with ${...} parts of template literals left out."""
    source = without_comments(source)
    found = []
    for match in re.finditer(
        r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'|`((?:[^`\\]|\\.)*)`', source
    ):
        text = next(g for g in match.groups() if g is not None)
        if match.group(3) is not None:
            text = re.sub(r"\$\{[^{}]*(\{[^{}]*\}[^{}]*)*\}", "", text)
        found.append(text)
    return found


# Literals that are code, not words: directives, media queries, class names, header names.
JS_CODE = {
    "use strict",
    "(display-mode: standalone)",
    "button danger",
    "button primary",
    "HTTP ",
    "Accept",
    "Content-Type",
    "MacIntel",
    "Notification",
    "PushManager",
}


def prose(text: str) -> bool:
    text = NOT_WORDS.sub("", text)
    return text not in JS_CODE and bool(
        re.search(r"[A-Za-z]{2,}[,.:;!?]?\s+[A-Za-z]", text)
        or re.fullmatch(r"[A-Z][a-z]+\.?", text)
    )


@pytest.mark.parametrize("path", SCRIPTS + JS_TEMPLATES, ids=rel)
def test_the_scripts_take_their_words_from_the_strings_block(path):
    source = path.read_text()
    if path.parent == TEMPLATES or TEMPLATES in path.parents:
        source = COMMENT.sub("", source)
        source = EXPRESSION.sub("null", STATEMENT.sub("", source))
    assert [s for s in js_literals(source) if prose(s)] == []


def strings_block(html: str) -> dict:
    match = re.search(r"<meta name=\"pnapp-strings\" content='([^']*)'>", html)
    assert match, "base.html renders the scripts' words"
    # In a single-quoted attribute: tojson left no ' < > & for the HTML parser to read.
    return json.loads(match.group(1))


def test_every_key_the_scripts_use_is_in_the_strings_block(client):
    strings = strings_block(client.get("/offline").get_data(as_text=True))
    used = set()
    for script in SCRIPTS:
        source = without_comments(script.read_text())
        used |= set(re.findall(r'\b(?:t|text)\("([\w.]+)"', source))
        used |= {
            f"{k}.{form}"
            for k in re.findall(r'\btn\("([\w.]+)"', source)
            for form in ("one", "other")
        }
    assert used - set(strings) == set(), "used by the scripts but not in templates/_strings.js"
    assert set(strings) - used == set(), "in templates/_strings.js but used by no script"
    # Placeholders are {name}, filled in by the scripts; no %(name)s is left for them.
    assert not [v for v in strings.values() if "%(" in v]
    assert strings["waiting.one"] == "{count} session is saved on this phone, waiting to sync."


def test_the_service_worker_has_the_same_words(client):
    page = strings_block(client.get("/offline").get_data(as_text=True))
    worker = client.get("/sw.js").get_data(as_text=True)
    match = re.search(r"^self\.pnStrings = (\{.*\});$", worker, re.M)
    assert match and json.loads(match.group(1)) == page
