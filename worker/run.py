"""Running a worker from settings (used by `itilflow worker` and `itilflow dev`)."""

from __future__ import annotations

import asyncio
import logging

from activities.channels import SmtpSender, WebhookSender
from core.db import make_engine, migrate
from core.settings import Settings
from worker.registry import build_worker, connect

log = logging.getLogger("itilflow.worker")


def channels(settings: Settings) -> tuple[SmtpSender | None, WebhookSender | None]:
    email = None
    if settings.smtp_host:
        email = SmtpSender(
            host=settings.smtp_host,
            port=settings.smtp_port,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            sender=settings.smtp_sender,
        )
    webhook = None
    if settings.webhook_url and settings.webhook_secret:
        webhook = WebhookSender(url=settings.webhook_url, secret=settings.webhook_secret.get_secret_value())
    return email, webhook


async def run_worker(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    url = settings.resolved_database_url()
    migrate(url)
    engine = make_engine(url)
    client = await connect(settings.temporal_address or "127.0.0.1:7233", settings.temporal_namespace)
    email, webhook = channels(settings)
    worker = build_worker(client, engine, settings.task_queue, email=email, webhook=webhook)
    log.info("worker polling task queue %s", settings.task_queue)
    async with worker:
        await (stop.wait() if stop is not None else asyncio.Event().wait())
