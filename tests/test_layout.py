"""The package reads as a table of contents: pages beside the API, neither importing the
other, and no module too long to read."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pnapp"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (imports inside functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def modules_under(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def test_no_page_imports_the_api():
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            m for m in imported_modules(path) if m == "pnapp.api" or m.startswith("pnapp.api.")
        )
        for path in modules_under("pages")
    }
    assert modules_under("pages"), "pnapp/pages/ is where the pages live"
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_api_imports_no_page():
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            m for m in imported_modules(path) if m == "pnapp.pages" or m.startswith("pnapp.pages.")
        )
        for path in modules_under("api")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_every_resource_has_a_page_module_or_an_api_module_by_its_name():
    pages = {p.stem for p in modules_under("pages")} - {"__init__"}
    api = {p.stem for p in modules_under("api")} - {"__init__"}
    # Where is /care? pnapp/pages/care.py; its API is pnapp/api/shares.py.
    assert {"care", "sessions", "settings", "therapists", "auth", "guide"} <= pages
    assert {"sessions", "shares", "therapists", "auth", "push", "exports"} <= api
