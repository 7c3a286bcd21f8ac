"""`itilflow definitions validate|diagram` as a process owner runs them, in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.paths import FIXTURES, ROOT

MINI = FIXTURES / "mini.yaml"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, cwd=ROOT)


def test_cli_validate_and_diagram(tmp_path: Path) -> None:
    ok = run_cli("definitions", "validate", str(MINI))
    assert ok.returncode == 0 and "ok (mini" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINI.read_text().replace("to: resolved\n", "to: resovled\n", 1))
    out = run_cli("definitions", "validate", str(bad))
    assert out.returncode == 1
    assert "transitions[6].to: unknown state 'resovled'" in out.stderr
    diagram = run_cli("definitions", "diagram", str(bad))
    assert diagram.returncode == 1 and "resovled" in diagram.stderr
    good = run_cli("definitions", "diagram", str(MINI), "--markdown")
    assert good.returncode == 0 and good.stdout.startswith("```mermaid\nstateDiagram-v2")
