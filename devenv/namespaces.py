"""Registering a namespace on a Temporal server that does not create one itself (the production
server; the dev server creates those it is started with)."""

from __future__ import annotations

import asyncio

from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, RegisterNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode


async def ensure_namespace_async(address: str, namespace: str, retention_days: int) -> bool:
    """Register `namespace` unless it exists; True if it was registered now. Raises while the server
    is not ready yet (its frontend answers before its history shards are up)."""
    client = await Client.connect(address, namespace=namespace)
    service = client.workflow_service
    try:
        await service.describe_namespace(DescribeNamespaceRequest(namespace=namespace))
        return False
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
    retention = Duration(seconds=retention_days * 86400)
    try:
        await service.register_namespace(
            RegisterNamespaceRequest(namespace=namespace, workflow_execution_retention_period=retention)
        )
    except RPCError as err:
        if err.status != RPCStatusCode.ALREADY_EXISTS:
            raise
    # A new namespace reaches every service through the namespace cache (refreshed every ~10 s).
    for _ in range(60):
        try:
            await service.describe_namespace(DescribeNamespaceRequest(namespace=namespace))
            return True
        except RPCError:
            await asyncio.sleep(0.5)
    return True


def ensure_namespace(address: str, namespace: str, retention_days: int) -> bool:
    return asyncio.run(ensure_namespace_async(address, namespace, retention_days))
