"""Delivery channels: e-mail over SMTP and signed outbound webhooks.

Webhook signature: `X-Itilflow-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` with
`X-Itilflow-Timestamp: <unix seconds>`; receivers recompute it and reject old timestamps (replay).
Secrets are held as SecretStr and never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

import httpx

SIGNATURE_HEADER = "X-Itilflow-Signature"
TIMESTAMP_HEADER = "X-Itilflow-Timestamp"


class DeliveryError(Exception):
    """Delivery failed; the message is safe to record (no secrets)."""


class EmailSender(Protocol):
    def send(self, *, to: str, subject: str, body: str) -> None: ...


@dataclass
class SmtpSender:
    host: str
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    sender: str = "itilflow@localhost"
    timeout: float = 10.0

    def send(self, *, to: str, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, to, subject
        msg.set_content(body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username and self.password:
                    smtp.login(self.username, self.password)
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"smtp {self.host}:{self.port}: {type(exc).__name__}: {exc}") from exc


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, max_age: float = 300.0) -> bool:
    """For receivers (and tests): constant-time check plus a freshness window against replays."""
    try:
        age = abs(time.time() - float(timestamp))
    except ValueError:
        return False
    return age <= max_age and hmac.compare_digest(sign(secret, timestamp, body), signature)


@dataclass
class WebhookSender:
    url: str
    secret: str
    timeout: float = 10.0

    def send(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.secret, timestamp, body),
        }
        try:
            response = httpx.post(self.url, content=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook {self.url}: {type(exc).__name__}") from exc
        if response.status_code >= 300:
            raise DeliveryError(f"webhook {self.url}: HTTP {response.status_code}")
