"""The offline bundle (`make bundle`) installed and run in a network namespace without network
(scripts/test-bundle.sh): `itilflow dev`, then the Temporal server on PostgreSQL, a worker and the API.

Runs when a bundle has been built (dist/itilflow-*.tar.gz; building it needs PyPI, so `make test` does
not) and as root (`unshare -n`); about three minutes.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUNDLES = sorted((ROOT / "dist").glob("itilflow-*.tar.gz"), key=lambda p: p.stat().st_mtime)

pytestmark = [
    pytest.mark.skipif(not BUNDLES, reason="no bundle: run `make bundle` first"),
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for a network namespace (unshare -n)"),
    pytest.mark.timeout(900),
]


def test_the_bundle_installs_and_runs_without_network() -> None:
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "test-bundle.sh"), str(BUNDLES[-1])],
        capture_output=True,
        text=True,
        timeout=840,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "test-bundle: no network here" in done.stdout
    assert "test-bundle: ok" in done.stdout
