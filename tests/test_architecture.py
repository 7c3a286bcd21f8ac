"""The import direction of the architecture, checked on every run.

`definitions` (the language) and `workflows` (deterministic workflow code) must never reach I/O layers:
a database import inside workflow code would be non-deterministic and break replay.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IO_LAYERS = {
    "sqlmodel",
    "sqlalchemy",
    "fastapi",
    "httpx",
    "core",
    "api",
    "activities",
    "worker",
    "cli",
    "reports",
    "psycopg",
    "smtplib",
    "aiosmtplib",
    "requests",
    "socket",
    "subprocess",
}
RULES = {
    "definitions": IO_LAYERS | {"temporalio", "workflows"},
    "workflows": IO_LAYERS,
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(RULES))
def test_pure_packages_do_not_import_io(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & RULES[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}
