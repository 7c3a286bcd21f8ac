"""Connecting to Temporal with itilflow's data converter (the API, the CLI, the worker and the tests)."""

from __future__ import annotations

from temporalio.client import Client

from core.converter import data_converter


async def connect(address: str, namespace: str = "default") -> Client:
    return await Client.connect(address, namespace=namespace, data_converter=data_converter)
