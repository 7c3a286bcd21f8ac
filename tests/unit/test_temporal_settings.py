"""The Temporal connection settings: Temporal's own environment names, and what turns TLS on."""

from __future__ import annotations

from pathlib import Path

import pytest

from client.connection import connect_options
from core.settings import Settings


def test_temporal_cli_names_and_itilflow_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_bytes(b"-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal.bank.cn:7233")
    monkeypatch.setenv("TEMPORAL_TLS_CA", str(ca))
    monkeypatch.setenv("ITILFLOW_TEMPORAL_TLS_SERVER_NAME", "temporal.bank.cn")
    monkeypatch.setenv("TEMPORAL_API_KEY", "k-1")
    options = connect_options(Settings())
    assert options["target_host"] == "temporal.bank.cn:7233"
    assert options["tls"].server_root_ca_cert == ca.read_bytes()
    assert options["tls"].domain == "temporal.bank.cn"
    assert options["api_key"] == "k-1"
    assert "k-1" not in repr(Settings())  # a secret prints as stars


def test_plain_by_default_and_an_api_key_implies_tls() -> None:
    assert connect_options(Settings(temporal_address="h:1"))["tls"] is False
    assert connect_options(Settings(temporal_address="h:1", temporal_tls=True))["tls"] is True
    keyed = connect_options(Settings(temporal_address="h:1", temporal_api_key="k"))
    assert keyed["tls"] is True and keyed["api_key"] == "k"
