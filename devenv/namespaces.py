"""Registering a namespace on a Temporal server that does not create one itself (the production
server; the dev server creates those it is started with)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import uuid

from google.protobuf.duration_pb2 import Duration
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import (
    DescribeNamespaceRequest,
    DescribeWorkflowExecutionRequest,
    RegisterNamespaceRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode, WorkflowService


async def ensure_namespace_async(address: str, namespace: str, retention_days: int) -> bool:
    """Register `namespace` unless it exists; True if it was registered now. Raises while the server
    is not ready yet (its frontend answers before its history shards are up)."""
    client = await Client.connect(address, namespace=namespace)
    service = client.workflow_service
    try:
        await service.describe_namespace(DescribeNamespaceRequest(namespace=namespace))
        await _until_served(service, namespace)
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
    await _until_served(service, namespace)
    return True


async def _until_served(service: WorkflowService, namespace: str) -> None:
    """Wait until the services know the namespace: DescribeNamespace reads the database, but the
    frontend and history services resolve names through a cache refreshed every few seconds."""
    probe = DescribeWorkflowExecutionRequest(
        namespace=namespace, execution=WorkflowExecution(workflow_id=f"itilflow-probe-{uuid.uuid4().hex}")
    )
    for _ in range(120):
        try:
            await service.describe_workflow_execution(probe)
            return
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND and "amespace" not in exc.message:
                return  # the workflow is not found: the namespace is
        await asyncio.sleep(0.5)
    raise TimeoutError(f"namespace {namespace} registered but not served after 60 s")


def ensure_namespace(address: str, namespace: str, retention_days: int) -> bool:
    """`ensure_namespace_async` from synchronous code, on an event loop of its own in another thread
    (the caller may be running one: a test that restarts the server)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, ensure_namespace_async(address, namespace, retention_days)).result()
