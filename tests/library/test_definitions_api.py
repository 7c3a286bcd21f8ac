"""Every shipped definition through the definitions API: valid, published, diagrammed, startable."""

from __future__ import annotations

import pytest
import yaml

from tests.library.conftest import LIBRARY, LibraryApi

NAMES = sorted(p.stem for p in LIBRARY.glob("*.yaml"))


@pytest.mark.parametrize("name", NAMES)
async def test_validated_published_and_diagrammed(api: LibraryApi, name: str) -> None:
    source = (LIBRARY / f"{name}.yaml").read_text(encoding="utf-8")
    r = await api.post("owner", "/api/v1/definitions/validate", {"source": source})
    assert r.status_code == 200 and r.json() == {"valid": True, "errors": []}
    await api.ensure(name)

    r = await api.get("alice", f"/api/v1/definitions/{name}")
    assert r.status_code == 200 and r.json()["status"] == "published"
    body = r.json()
    assert body["source"] == source and body["start_fields"]
    states = [s["name"] for s in yaml.safe_load(source)["states"]]
    for lang in ("en", "zh"):
        r = await api.get("alice", f"/api/v1/definitions/{name}/diagram", params={"lang": lang})
        assert r.status_code == 200 and r.text.startswith("stateDiagram-v2")
        assert all(f" as {state}\n" in r.text for state in states)
