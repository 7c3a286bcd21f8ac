"""Running a worker from settings (used by `itilflow worker` and by the worker process of `itilflow dev`)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from activities.channels import SmtpSender, WebhookSender
from client.connection import connect_from
from core import gctune
from core.db import make_engine, migrate
from core.settings import Settings
from worker.registry import build_worker

log = logging.getLogger("itilflow.worker")

# How long a started worker may take until Temporal sees it polling (see wait_polling).
POLLING_TIMEOUT = 60.0


def channels(settings: Settings) -> tuple[SmtpSender | None, WebhookSender | None]:
    """The delivery channels the settings configure; a misconfiguration stops the worker at start.

    smtp_ssl, smtp_ca_file, smtp_tls_verify, smtp_timeout and webhook_timeout are read with getattr so
    this works before core/settings.py declares them; the defaults match SmtpSender's and WebhookSender's.
    """
    email = None
    if settings.smtp_host:
        ca_file = settings.smtp_ca_file
        email = SmtpSender(
            host=settings.smtp_host,
            port=settings.smtp_port,
            starttls=settings.smtp_starttls,
            implicit_tls=settings.smtp_ssl,
            username=settings.smtp_username,
            password=settings.smtp_password,
            sender=settings.smtp_sender,
            timeout=settings.smtp_timeout,
            ca_file=str(ca_file) if ca_file else None,
            verify_tls=settings.smtp_tls_verify,
        )
    webhook = None
    if settings.webhook_url and settings.webhook_secret:
        webhook = WebhookSender(
            url=settings.webhook_url,
            secret=settings.webhook_secret,
            timeout=settings.webhook_timeout,
        )
    elif settings.webhook_url:
        raise ValueError("webhook_url is set but webhook_secret is not: webhooks are always signed")
    return email, webhook


async def wait_polling(
    client: Client, task_queue: str, identity: str, *, timeout: float = POLLING_TIMEOUT
) -> None:
    """Return once Temporal has seen the worker `identity` poll `task_queue` for workflow and activity
    tasks (DescribeTaskQueue lists it among the pollers), so work sent from now on is picked up."""
    deadline = time.monotonic() + timeout
    waiting = {TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY}
    while True:
        for kind in sorted(waiting):
            reply = await client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace=client.namespace, task_queue=TaskQueue(name=task_queue), task_queue_type=kind
                )
            )
            if any(poller.identity == identity for poller in reply.pollers):
                waiting.discard(kind)
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the worker was not seen polling task queue {task_queue} within {timeout:g}s")
        await asyncio.sleep(0.05)


async def run_worker(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    ready: Callable[[], None] | None = None,
    graceful_shutdown_timeout: timedelta | None = None,
) -> None:
    """Run a worker until `stop` is set (forever without one).

    With `ready`, it is called once Temporal sees the worker polling (see wait_polling). With
    `graceful_shutdown_timeout`, running activities get that long to finish when the worker stops.
    """
    url = settings.resolved_database_url()
    migrate(url)
    engine = make_engine(url)
    client = await connect_from(settings)
    email, webhook = channels(settings)
    extra: dict[str, Any] = {}
    if graceful_shutdown_timeout is not None:
        extra["graceful_shutdown_timeout"] = graceful_shutdown_timeout
    worker = build_worker(
        client,
        engine,
        settings.task_queue,
        email=email,
        webhook=webhook,
        max_concurrent_activities=settings.worker_max_concurrent_activities,
        max_cached_workflows=settings.worker_max_cached_workflows,
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=settings.worker_sticky_timeout),
        **extra,
    )
    async with worker:
        gctune.settle()
        if ready is not None:
            await wait_polling(
                client, settings.task_queue, worker.config().get("identity") or client.identity
            )
            ready()
        log.info("worker polling task queue %s", settings.task_queue)
        await (stop.wait() if stop is not None else asyncio.Event().wait())
