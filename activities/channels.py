"""Delivery channels: e-mail over SMTP and signed outbound webhooks.

Webhook signature: `X-Itilflow-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` with
`X-Itilflow-Timestamp: <unix seconds>`; receivers recompute it and reject old timestamps (replay).
`X-Itilflow-Event-Id` stays the same across retries of one delivery, so receivers can drop duplicates.

Every failure is a DeliveryError whose text is safe to store and show: secrets are held as SecretStr
(hidden from repr), scrubbed from server replies, and URLs are shown without credentials or query.
"""

from __future__ import annotations

import email.policy
import hashlib
import hmac
import json
import smtplib
import ssl
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

SIGNATURE_HEADER = "X-Itilflow-Signature"
TIMESTAMP_HEADER = "X-Itilflow-Timestamp"
EVENT_ID_HEADER = "X-Itilflow-Event-Id"
# 408 and 429 mean "try again later"; any other 4xx (and a 3xx: signed POSTs are not redirected) will be
# refused the same way next time, so retrying only delays recording the failure.
RETRYABLE_4XX = frozenset({408, 429})
MAX_REASON = 500
# Bodies go out as quoted-printable or base64, never raw 8-bit: Chinese text survives relays that lack
# 8BITMIME. Headers with non-ASCII text become RFC 2047 encoded words.
MAIL_POLICY = email.policy.SMTP.clone(cte_type="7bit")


class DeliveryError(Exception):
    """A delivery failed. The message is safe to record (no secrets).

    `permanent`: the same request will fail again (rejected recipient, HTTP 410); do not retry.
    `channel_down`: the channel itself failed (connection, TLS, authentication); later messages on it in
    the same attempt would fail the same way. `retry_after`: seconds the receiver asked us to wait.
    """

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        channel_down: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason[:MAX_REASON])
        self.reason = reason[:MAX_REASON]
        self.permanent = permanent
        self.channel_down = channel_down
        self.retry_after = retry_after


class EmailSender(Protocol):
    def send(self, *, to: str, subject: str, body: str, key: str | None = None) -> None: ...


def _secret(value: SecretStr | str | None) -> SecretStr | None:
    return SecretStr(value) if isinstance(value, str) else value


def _scrub(text: str, *secrets: SecretStr | None) -> str:
    for secret in secrets:
        raw = secret.get_secret_value() if secret is not None else ""
        if raw:
            text = text.replace(raw, "***")
    return " ".join(text.split())


def _reply(exc: smtplib.SMTPResponseException) -> str:
    error = exc.smtp_error
    text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
    return f"{exc.smtp_code} {text}"


@dataclass
class SmtpSender:
    """Sends one message per connection (notifications are few; a pooled session would go stale).

    TLS: `starttls` upgrades a plain connection (port 587/25) and fails if the server does not offer it;
    `implicit_tls` speaks TLS from the first byte (SMTPS, port 465). Certificates are verified against the
    system CAs, or only against `ca_file` (a private CA) when given; `verify_tls=False` is for lab setups.
    """

    host: str
    port: int = 25
    starttls: bool = False
    implicit_tls: bool = False
    username: str | None = None
    password: SecretStr | str | None = field(default=None, repr=False)
    sender: str = "itilflow@localhost"
    timeout: float = 10.0
    ca_file: str | Path | None = None
    verify_tls: bool = True
    helo_name: str | None = None

    def __post_init__(self) -> None:
        self.password = _secret(self.password)
        if self.starttls and self.implicit_tls:
            raise ValueError("SMTP: choose either STARTTLS or implicit TLS (port 465), not both")
        if bool(self.username) != bool(self.password):
            raise ValueError("SMTP: authentication needs both a username and a password")
        if self.username and not (self.starttls or self.implicit_tls):
            raise ValueError(
                "SMTP: a username is set but neither STARTTLS nor implicit TLS is enabled; "
                "refusing to send the password in clear text"
            )
        if self.ca_file is not None and not Path(self.ca_file).is_file():
            raise ValueError(f"SMTP: CA file {self.ca_file} does not exist")
        if self.timeout <= 0:
            raise ValueError("SMTP: timeout must be positive")

    @property
    def where(self) -> str:
        return f"smtp {self.host}:{self.port}"

    def tls_context(self) -> ssl.SSLContext:
        if not self.verify_tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)

    def message_id(self, key: str) -> str:
        """The same key gives the same Message-ID, so a re-sent retry is recognisable as a duplicate."""
        domain = parseaddr(self.sender)[1].rpartition("@")[2] or "itilflow.invalid"
        return f"<{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@{domain}>"

    def compose(self, *, to: str, subject: str, body: str, key: str | None = None) -> EmailMessage:
        msg = EmailMessage(policy=MAIL_POLICY)
        msg["From"] = self.sender
        msg["To"] = to
        # Subjects come from record titles: folding line breaks keeps them from injecting headers.
        msg["Subject"] = " ".join(subject.split())
        msg["Date"] = formatdate(usegmt=True)
        msg["Message-ID"] = self.message_id(key) if key else self.message_id(f"{to}:{time.time_ns()}")
        # RFC 3834: keeps out-of-office replies from answering the process engine.
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(body, charset="utf-8")
        return msg

    def _connect(self) -> smtplib.SMTP:
        context = self.tls_context()
        smtp: smtplib.SMTP
        if self.implicit_tls:
            smtp = smtplib.SMTP_SSL(
                self.host, self.port, local_hostname=self.helo_name, timeout=self.timeout, context=context
            )
            return smtp
        smtp = smtplib.SMTP(self.host, self.port, local_hostname=self.helo_name, timeout=self.timeout)
        try:
            if self.starttls:
                # Raises SMTPNotSupportedError when not offered: never fall back to clear text.
                smtp.starttls(context=context)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, *, to: str, subject: str, body: str, key: str | None = None) -> None:
        try:
            msg = self.compose(to=to, subject=subject, body=body, key=key)
        except (ValueError, TypeError) as exc:
            raise DeliveryError(
                f"{self.where}: cannot build a message to {to!r}: {exc}", permanent=True
            ) from exc
        try:
            with self._connect() as smtp:
                if self.username and isinstance(self.password, SecretStr):
                    smtp.login(self.username, self.password.get_secret_value())
                smtp.send_message(msg)
        except Exception as exc:
            raise self._error(exc, to) from None

    def _error(self, exc: Exception, to: str) -> DeliveryError:
        """Classify an SMTP failure; `from None` above keeps the raw exception (and its args) out."""
        secret = self.password if isinstance(self.password, SecretStr) else None

        def fail(reason: str, **kw: Any) -> DeliveryError:
            return DeliveryError(_scrub(f"{self.where}: {reason}", secret), **kw)

        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            replies = [f"{code} {msg.decode('utf-8', 'replace')}" for code, msg in exc.recipients.values()]
            permanent = all(code >= 500 for code, _ in exc.recipients.values())
            return fail(f"recipient {to} refused: {'; '.join(replies)}", permanent=permanent)
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return fail(f"authentication as {self.username!r} failed: {_reply(exc)}", channel_down=True)
        if isinstance(exc, smtplib.SMTPDataError):
            # 5xx after DATA: this message was rejected (size, content); 4xx: try again later.
            return fail(f"message to {to} rejected: {_reply(exc)}", permanent=exc.smtp_code >= 500)
        if isinstance(exc, smtplib.SMTPResponseException):
            return fail(f"{type(exc).__name__}: {_reply(exc)}", channel_down=True)
        if isinstance(exc, ssl.SSLCertVerificationError):
            hint = "" if self.ca_file else "; set the SMTP CA file if the server uses a private CA"
            return fail(f"TLS certificate not trusted: {exc.verify_message}{hint}", channel_down=True)
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return fail(f"server does not support a required extension: {exc}", channel_down=True)
        if isinstance(exc, TimeoutError):
            return fail(f"timed out after {self.timeout:g}s", channel_down=True)
        if isinstance(exc, (OSError, smtplib.SMTPException)):
            return fail(f"{type(exc).__name__}: {exc}", channel_down=True)
        return fail(f"unexpected {type(exc).__name__}", channel_down=True)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, max_age: float = 300.0) -> bool:
    """For receivers (and tests): constant-time check plus a freshness window against replays."""
    try:
        age = abs(time.time() - float(timestamp))
    except ValueError:
        return False
    if not timestamp.isascii() or age > max_age:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.strip().isdigit() else None


@dataclass
class WebhookSender:
    url: str
    secret: SecretStr | str = field(repr=False)
    timeout: float = 10.0

    def __post_init__(self) -> None:
        self.secret = SecretStr(self.secret) if isinstance(self.secret, str) else self.secret
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"webhook URL must be http(s)://host/...; got scheme {parts.scheme!r}")
        if not self.secret.get_secret_value():
            raise ValueError("webhook secret must not be empty")

    @property
    def display_url(self) -> str:
        """The URL without user info and query string, which may carry tokens."""
        parts = urlsplit(self.url)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"

    def signed_request(self, payload: dict[str, Any], *, event_id: str) -> tuple[bytes, dict[str, str]]:
        assert isinstance(self.secret, SecretStr)
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "itilflow-webhook",
            EVENT_ID_HEADER: event_id,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.secret.get_secret_value(), timestamp, body),
        }
        return body, headers

    def send(self, payload: dict[str, Any], *, event_id: str) -> None:
        body, headers = self.signed_request(payload, event_id=event_id)
        where = f"webhook {self.display_url}"
        timeout = httpx.Timeout(self.timeout, connect=min(self.timeout, 5.0))
        try:
            response = httpx.post(self.url, content=body, headers=headers, timeout=timeout)
        except httpx.TimeoutException:
            raise DeliveryError(f"{where}: timed out after {self.timeout:g}s", channel_down=True) from None
        except httpx.HTTPError as exc:
            secret = self.secret if isinstance(self.secret, SecretStr) else None
            reason = _scrub(f"{where}: {type(exc).__name__}: {exc}", secret).replace(
                self.url, self.display_url
            )
            raise DeliveryError(reason, channel_down=True) from None
        status = response.status_code
        if 200 <= status < 300:
            return
        permanent = 300 <= status < 500 and status not in RETRYABLE_4XX
        raise DeliveryError(
            f"{where}: HTTP {status} {response.reason_phrase}".rstrip(),
            permanent=permanent,
            channel_down=status >= 500 or status in RETRYABLE_4XX,
            retry_after=_retry_after(response),
        )
