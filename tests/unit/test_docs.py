"""The documentation stays true: its example definitions validate, its commands exist."""

from __future__ import annotations

import re

from cli import build_parser
from cmdb.loader import load_text as load_model
from definitions.loader import load_text
from tests.paths import ROOT as PROJECT_ROOT

ROOT = PROJECT_ROOT


def test_readme_example_definition_is_valid() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", readme, re.S)
    assert blocks, "the README shows a definition"
    for block in blocks:
        # A CMDB model (README, "Configuration management") is checked by its own language.
        result = (load_model if block.startswith("# a CMDB model") else load_text)(block)
        assert result.ok, [str(i) for i in result.issues]


def test_readme_opens_with_the_two_commands_that_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```sh\n(.*?)```", readme, re.S)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands == ["make dev", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_readme_commands_exist() -> None:
    parser = build_parser()
    groups = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    for name in (
        "definitions",
        "worker",
        "api",
        "server",
        "db",
        "users",
        "groups",
        "token",
        "report",
        "dev",
        "cmdb",
    ):
        assert name in groups, name
