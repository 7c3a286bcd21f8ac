"""Connecting to Temporal with itilflow's data converter (the API, the CLI, the worker and the tests).

`connect_from(settings)` is the one place that turns the settings into `Client.connect`'s arguments:
the address and namespace, TLS (a private CA, the server name the certificate must carry, a client
certificate and key for mutual TLS) and an API key (Temporal Cloud's `Authorization: Bearer`).
`itilflow api`, `itilflow worker` and `itilflow audit verify` all connect through it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.service import TLSConfig

from client import tracing
from core import sdk_metrics
from core import tracing as core_tracing
from core.converter import data_converter
from core.settings import Settings

DEFAULT_ADDRESS = "127.0.0.1:7233"


class TemporalSettingsError(ValueError):
    """The Temporal connection settings cannot work (a file missing, a certificate without its key)."""


async def connect(address: str, namespace: str = "default") -> Client:
    """A plain connection (the dev server, the tests): no TLS, no API key."""
    return await Client.connect(address, namespace=namespace, data_converter=data_converter, **observed())


def observed() -> dict[str, Any]:
    """The runtime whose metrics this process's /metrics shows (core/sdk_metrics.py) and, when
    tracing is on (core/tracing.py), Temporal's tracing interceptor, which the client's workers
    inherit (client/tracing.py)."""
    options: dict[str, Any] = {"runtime": sdk_metrics.runtime()}
    provider = core_tracing.active()
    if provider is not None:
        options["interceptors"] = tracing.interceptors(provider.get_tracer("itilflow"))
    return options


def _read(path: Path | None, setting: str) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TemporalSettingsError(f"{setting}: cannot read {path} ({exc.strerror})") from None


def tls_config(settings: Settings) -> TLSConfig | bool:
    """What `Client.connect(tls=...)` gets: False (plain), True (the system's CAs) or a `TLSConfig`.

    Any of the CA, client certificate or server name turns TLS on; so does an API key, because a
    key sent in clear text is a key given away (Temporal Cloud takes keys over TLS only)."""
    ca = _read(settings.temporal_tls_ca_file, "ITILFLOW_TEMPORAL_TLS_CA_FILE")
    cert = _read(settings.temporal_tls_cert_file, "ITILFLOW_TEMPORAL_TLS_CERT_FILE")
    key = _read(settings.temporal_tls_key_file, "ITILFLOW_TEMPORAL_TLS_KEY_FILE")
    if (cert is None) != (key is None):
        raise TemporalSettingsError(
            "ITILFLOW_TEMPORAL_TLS_CERT_FILE and ITILFLOW_TEMPORAL_TLS_KEY_FILE go together (mutual TLS)"
        )
    server_name = settings.temporal_tls_server_name
    wanted = settings.temporal_tls or settings.temporal_api_key is not None
    if ca is None and cert is None and server_name is None:
        return wanted
    return TLSConfig(server_root_ca_cert=ca, domain=server_name, client_cert=cert, client_private_key=key)


def connect_options(settings: Settings) -> dict[str, Any]:
    """Every argument of `Client.connect` the settings decide."""
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    return {
        "target_host": settings.temporal_address or DEFAULT_ADDRESS,
        "namespace": settings.temporal_namespace,
        "tls": tls_config(settings),
        "api_key": api_key,
        "data_converter": data_converter,
        **observed(),
    }


async def connect_from(settings: Settings) -> Client:
    """The client of `itilflow api`, `itilflow worker` and the CLI, as the settings say."""
    return await Client.connect(**connect_options(settings))
