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
