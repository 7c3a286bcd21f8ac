"""docs/identity.md's table of who may call each route is the one the routes declare (api/access.py)."""

from __future__ import annotations

from api.access import policy_of, table
from api.app import create_app
from core.settings import Settings
from tests.paths import ROOT

START, END = "<!-- access-table:start -->\n", "<!-- access-table:end -->"


def test_every_route_declares_who_may_call_it() -> None:
    app = create_app(Settings(database_url="sqlite://"))
    missing = [getattr(r, "path", repr(r)) for r in app.routes if policy_of(r) is None]
    assert not missing, f"routes without an access policy (api/access.py): {missing}"


def test_the_documented_table_is_current() -> None:
    doc = (ROOT / "docs" / "identity.md").read_text(encoding="utf-8")
    documented = doc[doc.index(START) + len(START) : doc.index(END)]
    current = table(create_app(Settings(database_url="sqlite://")).routes)
    assert documented == current, "docs/identity.md is stale: paste the output of `python -m api.access`"
