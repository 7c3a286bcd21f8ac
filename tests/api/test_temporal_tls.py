"""Connecting to a secured Temporal cluster: TLS with a private CA and a server name, mutual TLS, an
API key — through `client.connection.connect_from`, the one place the API, the worker and the CLI
connect. The dev server has no TLS, so a TLS-terminating proxy stands in front of it
(tests/api/tls_proxy.py, certificates made at test time); the API and a worker then run a record
through it with mutual TLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from sqlalchemy import Engine

from api.app import create_app
from cli import main as cli_main
from client.connection import connect_from, connect_options
from core.settings import Settings, get_settings
from tests.api.conftest import MINI
from tests.api.tls_proxy import SERVER_NAME, Pki, TlsProxy, make_pki, tls_proxy
from worker.run import run_worker

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest_asyncio.fixture(loop_scope="session")
async def tls(temporal_address: str, pki: Pki) -> AsyncIterator[TlsProxy]:
    async with tls_proxy(temporal_address, pki, require_client_cert=False) as proxy:
        yield proxy


@pytest_asyncio.fixture(loop_scope="session")
async def mtls(temporal_address: str, pki: Pki) -> AsyncIterator[TlsProxy]:
    async with tls_proxy(temporal_address, pki, require_client_cert=True) as proxy:
        yield proxy


def _settings(address: str, **extra: object) -> Settings:
    return Settings(temporal_address=address, **extra)  # type: ignore[arg-type]


async def _healthy(settings: Settings) -> None:
    client = await connect_from(settings)
    assert await client.service_client.check_health()


async def test_tls_with_a_private_ca_and_a_server_name(tls: TlsProxy, pki: Pki) -> None:
    await _healthy(_settings(tls.address, temporal_tls_ca_file=pki.ca, temporal_tls_server_name=SERVER_NAME))
    # The certificate also names 127.0.0.1: without a server name the address's host is checked.
    await _healthy(_settings(tls.address, temporal_tls_ca_file=pki.ca))
    assert tls.handshakes >= 2


async def test_tls_refuses_a_server_the_ca_did_not_sign(tls: TlsProxy, pki: Pki) -> None:
    for settings in (
        _settings(tls.address, temporal_tls_ca_file=pki.other_ca),
        _settings(tls.address, temporal_tls=True),  # the system's CAs do not know the test CA
        _settings(tls.address, temporal_tls_ca_file=pki.ca, temporal_tls_server_name="elsewhere.test"),
    ):
        with pytest.raises(RuntimeError):
            await asyncio.wait_for(connect_from(settings), 30)
    assert tls.handshakes == 0


async def test_plain_connection_to_a_tls_port_fails(tls: TlsProxy) -> None:
    with pytest.raises(RuntimeError):
        await asyncio.wait_for(connect_from(_settings(tls.address)), 30)


async def test_mutual_tls_needs_the_client_certificate(mtls: TlsProxy, pki: Pki) -> None:
    with pytest.raises(RuntimeError):
        await asyncio.wait_for(connect_from(_settings(mtls.address, temporal_tls_ca_file=pki.ca)), 30)
    assert mtls.handshakes == 0
    await _healthy(
        _settings(
            mtls.address,
            temporal_tls_ca_file=pki.ca,
            temporal_tls_cert_file=pki.client_cert,
            temporal_tls_key_file=pki.client_key,
        )
    )
    assert mtls.client_subjects and set(mtls.client_subjects) == {"itilflow-worker"}


async def test_api_key_reaches_the_client_over_tls(tls: TlsProxy, pki: Pki) -> None:
    settings = _settings(tls.address, temporal_tls_ca_file=pki.ca, temporal_api_key=SecretStr("itf-key-1"))
    assert connect_options(settings)["api_key"] == "itf-key-1"
    client = await connect_from(settings)
    # The SDK sends it as `Authorization: Bearer itf-key-1` on every call; the dev server ignores it.
    assert client.api_key == "itf-key-1"
    assert await client.service_client.check_health()


async def test_api_worker_and_cli_over_mutual_tls(
    mtls: TlsProxy,
    pki: Pki,
    database_url: str,
    db_engine: Engine,
    tokens: dict[str, str],
    task_queue: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`itilflow api` (no injected client: it connects from its settings) and `itilflow worker`'s
    `run_worker` run a record, and `itilflow audit verify` checks it, all reaching Temporal only
    through the mutual-TLS proxy."""
    settings = Settings(
        database_url=database_url,
        task_queue=task_queue,
        temporal_address=mtls.address,
        temporal_tls_ca_file=pki.ca,
        temporal_tls_server_name=SERVER_NAME,
        temporal_tls_cert_file=pki.client_cert,
        temporal_tls_key_file=pki.client_key,
    )
    stop, ready = asyncio.Event(), asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, stop=stop, ready=ready.set))
    try:
        await asyncio.wait_for(ready.wait(), 60)
        app = create_app(settings, engine=db_engine)
        owner = {"Authorization": f"Bearer {tokens['owner']}"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            r = await http.get("/healthz")
            assert r.status_code == 200 and r.json()["temporal"] == "ok", r.text
            key = f"tls_{uuid.uuid4().hex[:8]}"
            r = await http.post(
                "/api/v1/definitions",
                content=MINI.replace("key: mini\n", f"key: {key}\n", 1),
                headers={**owner, "Content-Type": "application/yaml"},
            )
            assert r.status_code == 201, r.text
            r = await http.post(f"/api/v1/definitions/{key}/versions/1/publish", headers=owner)
            assert r.status_code == 200, r.text
            body = {"definition": key, "title": "Over mTLS", "fields": {"impact": "1", "urgency": "1"}}
            alice = {"Authorization": f"Bearer {tokens['alice']}"}
            r = await http.post("/api/v1/processes", json=body, headers=alice)
            assert r.status_code == 201, r.text
            assert r.json()["state"] == "new"
            record = r.json()["id"]
        # The CLI reads the environment (Temporal CLI's names here), in a thread of its own: it runs
        # its own event loop, while this one serves the proxy.
        for name, value in {
            "ITILFLOW_DATABASE_URL": database_url,
            "TEMPORAL_ADDRESS": mtls.address,
            "TEMPORAL_TLS_CA": str(pki.ca),
            "TEMPORAL_TLS_SERVER_NAME": SERVER_NAME,
            "TEMPORAL_TLS_CERT": str(pki.client_cert),
            "TEMPORAL_TLS_KEY": str(pki.client_key),
        }.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        try:
            capsys.readouterr()
            code = await asyncio.to_thread(cli_main, ["audit", "verify", record, "--json"])
            assert code == 0 and json.loads(capsys.readouterr().out)["ok"] is True
        finally:
            get_settings.cache_clear()
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(worker, 30)
    assert mtls.handshakes >= 3  # the API's connection, the worker's and the CLI's


def test_unreadable_files_and_a_lone_certificate_are_named(tmp_path: Path, pki: Pki) -> None:
    from client.connection import TemporalSettingsError

    with pytest.raises(TemporalSettingsError, match="ITILFLOW_TEMPORAL_TLS_CA_FILE"):
        connect_options(_settings("x:1", temporal_tls_ca_file=tmp_path / "missing.pem"))
    with pytest.raises(TemporalSettingsError, match="go together"):
        connect_options(_settings("x:1", temporal_tls_cert_file=pki.client_cert))
