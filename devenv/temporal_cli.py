"""Locate and build the Temporal CLI, whose dev server runs Temporal for `itilflow dev` and the tests.

itilflow never downloads anything at run time. The Temporal server used for development
and tests is the official Temporal CLI dev server (``temporal server start-dev``), built
once from its Go module into the git-ignored folder ``<project root>/.cache/bin/``::

    GOBIN=<root>/.cache/bin CGO_ENABLED=0 go install \\
        -ldflags="-s -w -X github.com/temporalio/cli/temporalcli.Version=1.5.1" \\
        github.com/temporalio/cli/cmd/temporal@v1.5.1

(the linker flags are those of the official release build; without them the binary reports
version ``0.0.0-DEV``, though Go still records ``v1.5.1`` in its build info).

Environment variables:

``TEMPORAL_CLI_PATH``
    Explicit path to a ``temporal`` binary; used when it exists.
``ITILFLOW_HOME``
    Project root (the folder holding ``pyproject.toml``). Default: found by walking up
    from this file, falling back to the current directory (e.g. for a non-editable install).
"""

from __future__ import annotations

import mmap
import os
import shutil
import subprocess
from pathlib import Path

TEMPORAL_CLI_MODULE = "github.com/temporalio/cli/cmd/temporal"
TEMPORAL_CLI_MODULE_VERSION = "v1.5.1"
VERSION_LDFLAGS = (
    f"-s -w -X github.com/temporalio/cli/temporalcli.Version={TEMPORAL_CLI_MODULE_VERSION.removeprefix('v')}"
)
"""Linker flags of the official release build, so that ``temporal --version`` shows the version."""


class TemporalServerError(RuntimeError):
    """The Temporal CLI could not be found, built or started."""


def project_root() -> Path:
    """Return ``$ITILFLOW_HOME``, else the nearest ancestor holding ``pyproject.toml``, else cwd."""
    home = os.environ.get("ITILFLOW_HOME")
    if home:
        return Path(home).expanduser().resolve()
    for parent in Path(__file__).resolve().parents:
        if (parent / "pyproject.toml").is_file():
            return parent
    return Path.cwd()


def cache_bin_dir() -> Path:
    """Folder the Temporal CLI is built into (``<root>/.cache/bin``)."""
    return project_root() / ".cache" / "bin"


def find_temporal_cli() -> Path | None:
    """Return the Temporal CLI: ``$TEMPORAL_CLI_PATH``, ``<root>/.cache/bin/temporal``, or PATH."""
    explicit = os.environ.get("TEMPORAL_CLI_PATH")
    if explicit and Path(explicit).is_file():
        return Path(explicit)
    cached = cache_bin_dir() / "temporal"
    if cached.is_file():
        return cached
    on_path = shutil.which("temporal")
    return Path(on_path) if on_path else None


def temporal_cli_version(cli: Path) -> str:
    """Return the first line of ``temporal --version`` (e.g. ``temporal version 1.5.1 (...)``).

    A plain ``go install`` without :data:`VERSION_LDFLAGS` reports ``0.0.0-DEV``; see
    :func:`temporal_cli_module_version` for the version Go recorded in the binary.
    """
    result = subprocess.run([str(cli), "--version"], capture_output=True, text=True, check=True, timeout=30)
    return result.stdout.strip().splitlines()[0]


def temporal_cli_module_version(cli: Path) -> str | None:
    """Return the CLI module version in the binary's Go build info (as ``go version -m``), if any."""
    marker = f"\nmod\t{TEMPORAL_CLI_MODULE.removesuffix('/cmd/temporal')}\t".encode()
    with cli.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        start = data.find(marker)
        if start < 0:
            return None
        start += len(marker)
        end = data.find(b"\t", start, start + 100)
        return data[start:end].decode() if end > start else None


def install_temporal_cli(force: bool = False) -> Path:
    """Return the Temporal CLI, building it with ``go install`` into ``.cache/bin`` when missing.

    With ``force`` the build runs even if a binary is already found. The build output is
    streamed to this process's stdout/stderr.
    """
    if not force:
        found = find_temporal_cli()
        if found is not None:
            return found
    go = shutil.which("go")
    if go is None:
        raise TemporalServerError(
            "Go toolchain not found on PATH; it is needed to build the Temporal CLI "
            f"({TEMPORAL_CLI_MODULE}@{TEMPORAL_CLI_MODULE_VERSION}). Install Go or set TEMPORAL_CLI_PATH."
        )
    gobin = cache_bin_dir()
    gobin.mkdir(parents=True, exist_ok=True)
    target = f"{TEMPORAL_CLI_MODULE}@{TEMPORAL_CLI_MODULE_VERSION}"
    env = {**os.environ, "GOBIN": str(gobin), "CGO_ENABLED": "0"}
    rc = subprocess.call([go, "install", f"-ldflags={VERSION_LDFLAGS}", target], env=env)
    binary = gobin / "temporal"
    if rc != 0 or not binary.is_file():
        raise TemporalServerError(f"'go install {target}' failed (exit code {rc}); see the output above")
    return binary
