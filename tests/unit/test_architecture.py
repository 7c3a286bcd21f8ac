"""The import direction of the architecture, checked on every run.

Every package has a rule saying which of the others it may import (`ALLOWED_IMPORTS`), checked on
every module, imports inside functions included, and the packages import one another without cycles.

`definitions` (the language) and `workflows` (deterministic workflow code) must never reach I/O layers:
a database import inside workflow code would be non-deterministic and break replay.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.paths import ROOT as PROJECT_ROOT

ROOT = PROJECT_ROOT

# --- layering: which packages each package may import ----------------------------------------------------
# Bottom to top. `core` (settings, database, tables, migrations, converter) and `definitions` (the language)
# import none of the others; `workflows` runs the language deterministically; `client` is what the API and
# the CLI do with Temporal as its client (connect, launch records, compare audit trails with histories);
# `activities` are the worker's side effects (a linked record is launched through `client`); `reports`
# computes indicators from the read model; `cmdb` is the configuration management database (its model
# language, tables and queries, on `core` and the definitions' YAML reader); `api` serves everything over HTTP (the reports too); on top,
# the compositions: `worker` (workflows and activities on a task queue), `devenv` (`itilflow dev` and the
# Temporal dev server) and `cli` (the `itilflow` command).
ALLOWED_IMPORTS: dict[str, set[str]] = {
    "core": set(),
    "definitions": set(),
    "workflows": {"definitions"},
    "client": {"core", "definitions", "workflows", "cmdb"},
    "activities": {"core", "definitions", "workflows", "client", "cmdb", "sla", "schedule", "recurring"},
    "reports": {"core", "definitions", "workflows", "cmdb", "sla"},
    "cmdb": {"core", "definitions"},
    "schedule": {"core", "definitions", "cmdb"},
    "sla": {"core", "definitions"},
    "recurring": {"core", "definitions", "workflows", "schedule", "cmdb"},
    "api": {"core", "definitions", "workflows", "client", "reports", "cmdb", "schedule", "sla", "recurring"},
    "worker": {"core", "definitions", "workflows", "client", "activities"},
    "devenv": {"core", "definitions", "workflows", "client", "api", "worker"},
    "cli": {
        "core",
        "definitions",
        "workflows",
        "client",
        "reports",
        "cmdb",
        "schedule",
        "recurring",
        "api",
        "worker",
        "devenv",
    },
}
UNRESTRICTED = {"bench", "tests"}  # they may import anything (nothing imports them but themselves)

IO_LAYERS = {
    "sqlmodel",
    "sqlalchemy",
    "fastapi",
    "httpx",
    "core",
    "client",
    "api",
    "activities",
    "worker",
    "devenv",
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
DYNAMIC_IMPORTS = {"import_module", "__import__"}  # importlib.import_module("x.y"), __import__("x")


def project_packages() -> set[str]:
    return {p.parent.name for p in ROOT.glob("*/__init__.py") if not p.parent.name.startswith(".")}


def modules_of(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imports(source: str, package: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in `source`, a module of `package` (dotted, as
    `api.routes`): at any depth (inside functions, `if TYPE_CHECKING:`, `with` blocks), relative ones
    resolved, and `importlib.import_module` or `__import__` calls with a literal name."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                found.append((node.lineno, node.module or ""))
            else:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                found.append((node.lineno, ".".join(base + ([node.module] if node.module else []))))
        elif (
            isinstance(node, ast.Call)
            and (getattr(node.func, "attr", None) or getattr(node.func, "id", None)) in DYNAMIC_IMPORTS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def package_of(path: Path) -> str:
    """The dotted package a module file belongs to (for `api/routes/reports.py`: `api.routes`)."""
    return ".".join(path.relative_to(ROOT).parent.parts)


def imported_roots(path: Path) -> set[str]:
    source = path.read_text(encoding="utf-8")
    return {name.split(".")[0] for _, name in imports(source, package_of(path)) if name}


def package_imports(package: str) -> dict[str, list[str]]:
    """The other project packages that `package` imports, each with where ("path:line")."""
    packages = project_packages()
    edges: dict[str, list[str]] = {}
    for path in modules_of(package):
        for line, name in imports(path.read_text(encoding="utf-8"), package_of(path)):
            root = name.split(".")[0]
            if root in packages and root != package:
                edges.setdefault(root, []).append(f"{path.relative_to(ROOT)}:{line}")
    return edges


def import_cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The cycles of a directed graph: each strongly connected component of more than one node, sorted
    (Tarjan's algorithm). A node's edge to itself is not a cycle here: a package imports itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, set()) - {node}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cycles)


def test_every_package_has_an_import_rule() -> None:
    assert project_packages() == set(ALLOWED_IMPORTS) | UNRESTRICTED
    assert all(allowed <= set(ALLOWED_IMPORTS) for allowed in ALLOWED_IMPORTS.values())


def test_the_rules_themselves_have_no_cycle() -> None:
    assert import_cycles(ALLOWED_IMPORTS) == []


@pytest.mark.parametrize("package", sorted(ALLOWED_IMPORTS))
def test_packages_import_only_what_their_rule_allows(package: str) -> None:
    forbidden = {
        imported: where
        for imported, where in package_imports(package).items()
        if imported not in ALLOWED_IMPORTS[package]
    }
    assert forbidden == {}, f"{package} may import only {sorted(ALLOWED_IMPORTS[package])}"


def test_no_import_cycles_between_packages() -> None:
    edges = {package: package_imports(package) for package in sorted(project_packages())}
    cycles = import_cycles({package: set(imported) for package, imported in edges.items()})
    evidence = {
        f"{a} -> {b}": where[:3]
        for cycle in cycles
        for a in cycle
        for b, where in edges[a].items()
        if b in cycle
    }
    assert cycles == [], evidence


def test_the_import_checks_find_what_they_forbid() -> None:
    source = """
import api.app
from core import db
from . import sibling
from ..routes import reports
def later():
    from worker.registry import build_worker
    importlib.import_module("reports.kpis")
    __import__("devenv")
if TYPE_CHECKING:
    from client.launch import launch_record
"""
    assert sorted(imports(source, "api.web")) == [
        (2, "api.app"),
        (3, "core"),
        (4, "api.web"),
        (5, "api.routes"),
        (7, "worker.registry"),
        (8, "reports.kpis"),
        (9, "devenv"),
        (11, "client.launch"),
    ]
    assert import_cycles({"a": {"b"}, "b": {"c", "b"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b", "a"}, "b": set()}) == []


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
