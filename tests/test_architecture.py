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


# --- determinism: what workflow code must not call --------------------------------------------------------
# Workflows run outside Temporal's sandbox (worker/registry.py, workflow_runner), and the sandbox only ever
# covered workflows/process.py: the engine and the definitions were passed through it. This covers every
# module a workflow runs: it reads time only from `workflow.now()` (the engine takes `now` as a parameter),
# and nothing random, environmental or threaded reaches a decision. Histories replay under the sandbox too.
NONDETERMINISTIC_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "monotonic"),
    ("time", "perf_counter"),
    ("time", "sleep"),
    ("uuid", "uuid1"),
    ("uuid", "uuid4"),
    ("os", "getenv"),
    ("os", "urandom"),
    ("threading", "Thread"),
    ("asyncio", "to_thread"),
}
NONDETERMINISTIC_NAMES = {("os", "environ")}
NONDETERMINISTIC_MODULES = {"random", "secrets", "time", "uuid"}
# Reading files is for the CLI and the API (definitions.loader); workflow modules never open one.
FILE_CALLS = {"open", "read_text", "read_bytes", "write_text", "write_bytes"}
DETERMINISTIC_PACKAGES = {"workflows": True, "definitions": False}  # package: whether FILE_CALLS apply


def nondeterminism(source: str, *, files: bool) -> list[str]:
    """Where `source` reads a clock, randomness, the environment or a file, or starts a thread."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [
                f"{node.lineno}: import {a.name}" for a in node.names if a.name in NONDETERMINISTIC_MODULES
            ]
        elif isinstance(node, ast.ImportFrom) and node.module in NONDETERMINISTIC_MODULES and node.level == 0:
            found.append(f"{node.lineno}: from {node.module} import …")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name | ast.Attribute):
            base = node.value.id if isinstance(node.value, ast.Name) else node.value.attr
            pair = (base, node.attr)
            if pair in NONDETERMINISTIC_CALLS or pair in NONDETERMINISTIC_NAMES:
                found.append(f"{node.lineno}: {base}.{node.attr}")
        if files and isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name in FILE_CALLS:
                found.append(f"{node.lineno}: {name}()")
    return sorted(found, key=lambda where: (int(where.split(":")[0]), where))


@pytest.mark.parametrize("package", sorted(DETERMINISTIC_PACKAGES))
def test_workflow_code_reads_no_clock_randomness_environment_or_files(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): nondeterminism(
            path.read_text(encoding="utf-8"), files=DETERMINISTIC_PACKAGES[package]
        )
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_determinism_check_finds_what_it_forbids() -> None:
    source = """
import random
from datetime import datetime
import datetime as dt
def f(path):
    a = datetime.now()
    b = dt.datetime.utcnow()
    c = os.environ["X"]
    d = workflow.now()  # allowed: Temporal's deterministic clock
    return open(path).read() + path.read_text()
"""
    assert nondeterminism(source, files=True) == [
        "2: import random",
        "6: datetime.now",
        "7: datetime.utcnow",
        "8: os.environ",
        "10: open()",
        "10: read_text()",
    ]
    assert nondeterminism(source, files=False) == [
        "2: import random",
        "6: datetime.now",
        "7: datetime.utcnow",
        "8: os.environ",
    ]
