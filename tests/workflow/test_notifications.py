"""Notifications through real components: a Temporal server, an SMTP listener speaking TLS with AUTH
(aiosmtpd, a certificate made by openssl at test time), and an HTTP receiver that checks signatures.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHandle

from activities.channels import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    DeliveryError,
    SmtpSender,
    WebhookSender,
    sign,
    verify,
)
from activities.notifications import NotificationActivities
from activities.records import RecordActivities
from client.launch import launch_record
from core.settings import Settings
from core.tables import NotificationRow
from tests.conftest import pinned_fixture
from tests.engine_helpers import created_in_memory
from worker.registry import build_worker
from worker.run import channels
from workflows.contracts import (
    Actor,
    FireTransitionInput,
    NotificationRecipient,
    NotifyInput,
    PersistRecordInput,
    RecordSnapshot,
)
from workflows.process import ProcessWorkflow

ALICE = Actor(username="alice", roles=["requester"])
BOB = Actor(username="bob", roles=["agent"], groups=["desk"])
TITLE = "打印机着火 / printer on fire"
SMTP_USER = "itilflow"
SMTP_PASSWORD = "Pa55-w0rd-ZZ9"
HOOK_SECRET = "hook-secret-QQ7"
T = TypeVar("T")


# --- helpers --------------------------------------------------------------------------------------------
async def eventually(probe: Callable[[], T | None], what: str, timeout: float = 60.0) -> T:
    """Poll until `probe` returns something truthy; the timeout only bounds a broken run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def rows_of(engine: Engine, record_id: str) -> dict[str, NotificationRow]:
    """Notification rows of a record by recipient (user name, or 'webhook')."""
    with Session(engine) as session:
        rows = session.exec(select(NotificationRow).where(col(NotificationRow.record_id) == record_id)).all()
        return {r.recipient: r for r in rows}


def all_sent(engine: Engine, record_id: str) -> dict[str, NotificationRow] | None:
    rows = rows_of(engine, record_id)
    return rows if rows and all(r.status == "sent" for r in rows.values()) else None


def row_in(engine: Engine, record_id: str, recipient: str, status: str) -> NotificationRow | None:
    row = rows_of(engine, record_id).get(recipient)
    return row if row is not None and row.status == status else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def accepted_record(
    client: Client, engine: Engine, queue: str
) -> tuple[RecordSnapshot, WorkflowHandle[Any, Any]]:
    """A notify.yaml record accepted by bob: notifies bob (en) and carol (zh) in one activity."""
    snap = await launch_record(
        client,
        engine,
        task_queue=queue,
        pinned=pinned_fixture("notify.yaml"),
        record_id=uuid.uuid4().hex[:20],
        title=TITLE,
        fields={},
        actor=ALICE,
    )
    handle = client.get_workflow_handle_for(ProcessWorkflow.run, snap.id)
    snap = await handle.execute_update(
        ProcessWorkflow.fire_transition,
        FireTransitionInput(actor=BOB, trigger="accept", fields={"assignee": "bob"}),
    )
    assert snap.state == "in_progress"
    return snap, handle


# --- TLS material ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tls:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    """A self-signed certificate for 127.0.0.1; clients trust it through the CA-file setting.

    Made with the openssl command: the `cryptography` package is not a dependency of the project.
    """
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        + ["-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=itilflow test mail"]
        + ["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True,
        capture_output=True,
    )
    return Tls(cert=cert, key=key)


# --- SMTP listener --------------------------------------------------------------------------------------
@dataclass
class Received:
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    login: str | None


@dataclass
class Mailbox:
    """Handler and authenticator of the listener; the test changes `credentials` while it runs."""

    credentials: tuple[str, str]
    refuse: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    mechanisms: list[str] = field(default_factory=list)

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        self.mechanisms.append(mechanism)
        login, password = self.credentials
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            login.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        auth = session.auth_data
        self.received.append(
            Received(
                rcpt_tos=list(envelope.rcpt_tos),
                message=msg,
                tls=server.transport.get_extra_info("ssl_object") is not None,
                login=auth.login.decode() if isinstance(auth, LoginPassword) else None,
            )
        )
        return "250 2.0.0 accepted"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]


@contextmanager
def smtp_listener(tls: Tls, mailbox: Mailbox, *, implicit_tls: bool = False, **kwargs: Any) -> Iterator[int]:
    port = free_port()
    if implicit_tls:
        # aiosmtpd only counts STARTTLS as encryption for AUTH; here the whole connection is TLS.
        options: dict[str, Any] = {"ssl_context": tls.server_context(), "auth_require_tls": False}
    else:
        options = {"tls_context": tls.server_context(), "require_starttls": True}
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=mailbox,
        auth_required=True,
        **options,
        **kwargs,
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def smtp_sender(port: int, tls: Tls, **kwargs: Any) -> SmtpSender:
    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "starttls": True,
        "username": SMTP_USER,
        "password": SMTP_PASSWORD,
        "sender": "ITIL Flow <itilflow@example.test>",
        "ca_file": tls.cert,
        "timeout": 5.0,
        **kwargs,
    }
    return SmtpSender(**options)


# --- webhook receiver -----------------------------------------------------------------------------------
@dataclass
class Delivery:
    event_id: str
    timestamp: str
    signature: str
    body: bytes
    valid: bool
    status: int


@dataclass
class HookReceiver:
    """Verifies each request as a real receiver would; answers `statuses` in turn, then 200."""

    secret: str
    statuses: list[int] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    accepted: Counter[str] = field(default_factory=Counter)

    def handle(self, headers: Any, body: bytes) -> int:
        timestamp = headers.get(TIMESTAMP_HEADER, "")
        signature = headers.get(SIGNATURE_HEADER, "")
        event_id = headers.get(EVENT_ID_HEADER, "")
        valid = verify(self.secret, timestamp, body, signature)
        status = 401 if not valid else (self.statuses.pop(0) if self.statuses else 200)
        if status == 200:
            self.accepted[event_id] += 1  # duplicates are counted too, so a test can see them
        self.deliveries.append(Delivery(event_id, timestamp, signature, body, valid, status))
        return status


@contextmanager
def hook_server(receiver: HookReceiver) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = receiver.handle(self.headers, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/itil?token=query-token-77"
    finally:
        server.shutdown()
        server.server_close()


# --- e-mail through Temporal ----------------------------------------------------------------------------
async def test_email_over_starttls_in_each_recipients_language(
    temporal_client: Client, db_engine: Engine, task_queue: str, tls: Tls
) -> None:
    mailbox = Mailbox(credentials=(SMTP_USER, SMTP_PASSWORD))
    with smtp_listener(tls, mailbox) as port:
        sender = smtp_sender(port, tls)
        async with build_worker(temporal_client, db_engine, task_queue, email=sender):
            snap, handle = await accepted_record(temporal_client, db_engine, task_queue)
            rows = await eventually(
                lambda: all_sent(db_engine, snap.id),
                "both e-mails sent",
            )
    assert set(rows) == {"bob", "carol"}
    bob, carol = mailbox.to("bob@example.test"), mailbox.to("carol@example.test")
    assert len(bob) == 1 and len(carol) == 1 and len(mailbox.received) == 2
    for got, row in ((bob[0], rows["bob"]), (carol[0], rows["carol"])):
        assert got.tls and got.login == SMTP_USER  # STARTTLS happened, then AUTH
        msg = got.message
        assert msg["From"] == "ITIL Flow <itilflow@example.test>"
        assert msg["To"] == row.address and msg["Date"] and msg["Auto-Submitted"] == "auto-generated"
        assert msg["Message-ID"] == sender.message_id(row.key)
        assert (row.status, row.attempts, row.error, row.channel) == ("sent", 1, None, "email")
        assert msg["Subject"] == row.subject
    assert rows["bob"].language == "en" and rows["carol"].language == "zh"
    # Both e-mails of the one notification went out through one activity.
    assert await notify_activities(handle) == 1
    assert bob[0].message["Subject"] == f"{snap.number} assigned to you: {TITLE}"
    assert carol[0].message["Subject"] == f"{snap.number} 已分派给您：{TITLE}"
    assert carol[0].message.get_content().strip() == f"Carol，您好：工单 {TITLE} 需要处理。"
    assert bob[0].message.get_content().strip() == f"Hello Bob, {TITLE} needs you."


async def notify_activities(handle: WorkflowHandle[Any, Any]) -> int:
    """How many `notify` activities the record's workflow has scheduled so far."""
    count = 0
    async for event in handle.fetch_history_events():
        if event.HasField("activity_task_scheduled_event_attributes"):
            count += event.activity_task_scheduled_event_attributes.activity_type.name == "notify"
    return count


async def test_inbox_notifications_are_written_with_the_change_and_need_no_activity(
    temporal_client: Client, db_engine: Engine, task_queue: str
) -> None:
    """A worker without e-mail or webhooks: the notifications are in-app inbox rows, written in the
    transaction that writes the change, so they are there when the update returns, and no `notify`
    activity (nor the workflow task its completion causes) is spent on them."""
    async with build_worker(temporal_client, db_engine, task_queue):
        snap, handle = await accepted_record(temporal_client, db_engine, task_queue)
        rows = rows_of(db_engine, snap.id)  # no waiting: read-your-writes
        assert set(rows) == {"bob", "carol"}
        for row in rows.values():
            assert (row.channel, row.status, row.attempts, row.address) == ("inbox", "sent", 0, None)
        assert rows["bob"].subject == f"{snap.number} assigned to you: {TITLE}"
        assert rows["carol"].subject == f"{snap.number} 已分派给您：{TITLE}"
        closed = await handle.execute_update(
            ProcessWorkflow.fire_transition, FireTransitionInput(actor=BOB, trigger="close")
        )
        assert closed.state == "closed"
        assert rows_of(db_engine, snap.id)["alice"].status == "sent"
        await handle.result()
        assert await notify_activities(handle) == 0


def test_persist_records_notifications_once_and_names_what_is_left_to_send(db_engine: Engine) -> None:
    """persist_record writes the notification rows with the change; it returns the keys that still
    have an e-mail to send, the same on a retried call, and none once they are sent."""
    now = datetime.now(UTC)
    engine, out = created_in_memory("notify.yaml", now, title=TITLE)
    rid = engine.record.record_id
    notes = [
        NotifyInput(
            key=f"{rid}:1:{i}",
            record_id=rid,
            template_name="closed",
            subject={"en": "s", "zh": "主题"},
            body={"en": "b", "zh": "正文"},
            recipients=[NotificationRecipient(kind="user", name=name)],
        )
        for i, name in enumerate(("bob", "nobody-by-this-name"))
    ]
    # An e-mail channel that is never reached: persist_record only records, it does not send.
    mail = NotificationActivities(db_engine, email=SmtpSender(host="127.0.0.1", port=free_port()))
    records = RecordActivities(db_engine, mail)
    inp = PersistRecordInput(snapshot=engine.snapshot(None, now), events=out.events, notifications=notes)
    assert records.persist_record(inp).deliver == [notes[0].key]  # an unknown user gets nothing
    assert records.persist_record(inp).deliver == [notes[0].key]  # a retry: still to be sent
    rows = rows_of(db_engine, rid)
    assert list(rows) == ["bob"] and (rows["bob"].channel, rows["bob"].status) == ("email", "pending")
    with Session(db_engine) as session:
        row = session.get(NotificationRow, rows["bob"].id)
        assert row is not None
        row.status = "sent"
        session.add(row)
        session.commit()
    assert records.persist_record(inp).deliver == []
    assert len(rows_of(db_engine, rid)) == 1
    # Without e-mail or webhooks everything is an inbox row: nothing is left to send.
    inbox_only = RecordActivities(db_engine)
    again = inp.model_copy(
        update={"notifications": [n.model_copy(update={"key": n.key + "b"}) for n in notes]}
    )
    assert inbox_only.persist_record(again).deliver == []


async def test_wrong_smtp_password_is_recorded_then_retried_until_delivered(
    temporal_client: Client, db_engine: Engine, task_queue: str, tls: Tls
) -> None:
    mailbox = Mailbox(credentials=(SMTP_USER, "the-server-wants-another"))
    with smtp_listener(tls, mailbox) as port:
        async with build_worker(temporal_client, db_engine, task_queue, email=smtp_sender(port, tls)):
            snap, handle = await accepted_record(temporal_client, db_engine, task_queue)
            failed = await eventually(
                lambda: row_in(db_engine, snap.id, "bob", "failed"),
                "the first attempt to fail",
            )
            assert failed.error is not None and "authentication as 'itilflow' failed: 535" in failed.error
            # Temporal keeps the activity's failure too: it must not carry the password either.
            last_failure = await _last_activity_failure(handle)
            assert "535" in last_failure and SMTP_PASSWORD not in last_failure
            assert mailbox.received == []
            mailbox.credentials = (SMTP_USER, SMTP_PASSWORD)  # the operator fixes the mail server
            rows = await eventually(
                lambda: all_sent(db_engine, snap.id),
                "the retry to deliver",
            )
    assert rows["bob"].attempts >= 2 and rows["bob"].error is None
    assert all(SMTP_PASSWORD not in (r.error or "") for r in rows.values())
    # Exactly one message per recipient: the retry sent only what had not been sent.
    assert len(mailbox.to("bob@example.test")) == 1 and len(mailbox.to("carol@example.test")) == 1


async def _last_activity_failure(handle: WorkflowHandle[Any, Any]) -> str:
    async def probe() -> str | None:
        desc = await handle.describe()
        for act in desc.raw_description.pending_activities:
            if act.activity_type.name == "notify" and act.HasField("last_failure"):
                return str(act.last_failure.message)
        return None

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = await probe()
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError("the notify activity never reported a failure to Temporal")


# --- webhooks through Temporal --------------------------------------------------------------------------
async def test_signed_webhook_is_retried_after_a_500_and_accepted_once(
    temporal_client: Client, db_engine: Engine, task_queue: str
) -> None:
    receiver = HookReceiver(secret=HOOK_SECRET, statuses=[500])
    with hook_server(receiver) as url:
        webhook = WebhookSender(url=url, secret=HOOK_SECRET, timeout=5.0)
        async with build_worker(temporal_client, db_engine, task_queue, webhook=webhook):
            snap, _ = await accepted_record(temporal_client, db_engine, task_queue)
            row = await eventually(
                lambda: row_in(db_engine, snap.id, "webhook", "sent"),
                "the webhook to be delivered",
            )
    assert [d.status for d in receiver.deliveries] == [500, 200]
    assert all(d.valid and d.timestamp.isdigit() for d in receiver.deliveries)
    # One event id for every attempt, and exactly one accepted delivery of it.
    assert {d.event_id for d in receiver.deliveries} == {row.key}
    assert receiver.accepted == Counter({row.key: 1})
    assert row.attempts == 2 and row.error is None
    assert row.address is not None and "query-token" not in row.address  # no credentials stored
    payload = json.loads(receiver.deliveries[-1].body)
    assert payload["id"] == row.key and payload["record_id"] == snap.id
    assert payload["recipients"] == ["bob", "carol"]
    assert payload["texts"]["zh"]["subject"] == f"{snap.number} 已分派给您：{TITLE}"
    assert payload["texts"]["en"]["subject"] == f"{snap.number} assigned to you: {TITLE}"
    # Without e-mail on this worker, the users got theirs in the inbox.
    inbox = rows_of(db_engine, snap.id)
    assert inbox["bob"].channel == inbox["carol"].channel == "inbox"
    # The receiver's checks reject a tampered body, another secret and a replayed old timestamp.
    last = receiver.deliveries[-1]
    assert verify(HOOK_SECRET, last.timestamp, last.body, last.signature)
    assert not verify(HOOK_SECRET, last.timestamp, last.body.replace(b"bob", b"eve"), last.signature)
    assert not verify("another-secret", last.timestamp, last.body, last.signature)
    old = str(int(time.time()) - 3600)
    assert not verify(HOOK_SECRET, old, last.body, sign(HOOK_SECRET, old, last.body))


async def test_webhook_gone_is_recorded_failed_and_not_retried(
    temporal_client: Client, db_engine: Engine, task_queue: str
) -> None:
    receiver = HookReceiver(secret=HOOK_SECRET, statuses=[410, 410, 410])
    with hook_server(receiver) as url:
        webhook = WebhookSender(url=url, secret=HOOK_SECRET, timeout=5.0)
        async with build_worker(temporal_client, db_engine, task_queue, webhook=webhook):
            snap, handle = await accepted_record(temporal_client, db_engine, task_queue)
            failure = await _activity_failed_event(handle)
            desc = await handle.describe()
    assert failure.application_failure_info.non_retryable
    assert failure.application_failure_info.type == "DeliveryError" and "HTTP 410" in failure.message
    assert list(desc.raw_description.pending_activities) == []
    row = rows_of(db_engine, snap.id)["webhook"]
    assert row.status == "failed" and row.attempts == 1
    assert row.error is not None and row.error.startswith("permanent: ") and "HTTP 410" in row.error
    assert "query-token" not in row.error and HOOK_SECRET not in row.error
    assert [d.status for d in receiver.deliveries] == [410]


async def _activity_failed_event(handle: WorkflowHandle[Any, Any]) -> Any:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        async for event in handle.fetch_history_events():
            if event.HasField("activity_task_failed_event_attributes"):
                return event.activity_task_failed_event_attributes.failure
        await asyncio.sleep(0.2)
    raise AssertionError("the notify activity never failed for good")


# --- the channels on their own, against the same real listeners -----------------------------------------
def test_untrusted_certificate_fails_and_names_the_fix(tls: Tls) -> None:
    mailbox = Mailbox(credentials=(SMTP_USER, SMTP_PASSWORD))
    with smtp_listener(tls, mailbox) as port:
        with pytest.raises(DeliveryError) as info:
            smtp_sender(port, tls, ca_file=None).send(to="bob@example.test", subject="s", body="b")
    assert "certificate not trusted" in info.value.reason and "CA file" in info.value.reason
    assert info.value.channel_down and not info.value.permanent
    assert mailbox.mechanisms == []  # the password never went out


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_implicit_tls_with_auth_login(tls: Tls) -> None:
    mailbox = Mailbox(credentials=(SMTP_USER, SMTP_PASSWORD))
    with smtp_listener(tls, mailbox, implicit_tls=True, auth_exclude_mechanism=["PLAIN"]) as port:
        sender = smtp_sender(port, tls, starttls=False, implicit_tls=True)
        sender.send(to="dave@example.test", subject="变更 CHG-1 已批准", body="批准 ✓", key="k1")
    (got,) = mailbox.received
    assert got.tls and got.login == SMTP_USER and mailbox.mechanisms == ["LOGIN"]
    assert got.message["Subject"] == "变更 CHG-1 已批准" and got.message.get_content().strip() == "批准 ✓"


def test_refused_recipient_is_permanent(tls: Tls) -> None:
    mailbox = Mailbox(credentials=(SMTP_USER, SMTP_PASSWORD), refuse={"nobody@example.test"})
    with smtp_listener(tls, mailbox) as port:
        with pytest.raises(DeliveryError) as info:
            smtp_sender(port, tls).send(to="nobody@example.test", subject="s", body="b")
    assert info.value.permanent and "550" in info.value.reason and "nobody@example.test" in info.value.reason


def test_secrets_stay_out_of_reprs_and_clear_text() -> None:
    smtp = SmtpSender(host="mail.example.test", starttls=True, username="u", password=SMTP_PASSWORD)
    hook = WebhookSender(url="https://user:pw@hooks.example.test/x?token=t", secret=HOOK_SECRET)
    assert SMTP_PASSWORD not in repr(smtp) and HOOK_SECRET not in repr(hook)
    assert hook.display_url == "https://hooks.example.test/x"
    with pytest.raises(ValueError, match="clear text"):
        SmtpSender(host="mail.example.test", username="u", password=SMTP_PASSWORD)
    with pytest.raises(ValueError, match="http"):
        WebhookSender(url="ftp://hooks.example.test/", secret=HOOK_SECRET)


def test_channels_from_settings() -> None:
    settings = Settings(
        smtp_host="mail.example.test",
        smtp_port=587,
        smtp_starttls=True,
        smtp_username="u",
        smtp_password=SecretStr(SMTP_PASSWORD),
        webhook_url="https://hooks.example.test/itil",
        webhook_secret=SecretStr(HOOK_SECRET),
    )
    email, webhook = channels(settings)
    assert email is not None and email.starttls and email.verify_tls and email.port == 587
    assert webhook is not None and webhook.display_url == "https://hooks.example.test/itil"
    assert SMTP_PASSWORD not in repr(email) and HOOK_SECRET not in repr(webhook)
    with pytest.raises(ValueError, match="webhook_secret"):
        channels(Settings(webhook_url="https://hooks.example.test/itil"))
