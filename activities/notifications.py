"""The notification activity: resolve recipients, render in each one's language, record, deliver.

Every delivery is a row in `notifications` keyed by (notification key, recipient, channel), inserted
before it is attempted, so a retried activity re-sends only what has not been sent. Each attempt updates
its row at once (attempts, status, the reason of a failure), in its own transaction, so a crash after a
send loses at most that one outcome. A failure raises and Temporal retries the activity with backoff
(NOTIFY_RETRY in workflows/process.py); a permanent failure (rejected recipient, HTTP 410) is recorded
with the PERMANENT prefix, never attempted again, and alone does not make the activity retry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.channels import DeliveryError, EmailSender, WebhookSender
from core.db import insert_ignore, session_scope, write_scope
from core.store import Contact, active_contacts, group_leads, group_members, users_with_roles
from core.tables import NotificationRow
from definitions.templates import render
from workflows.contracts import NotificationRecipient, NotifyInput, NotifyResult

PERMANENT = "permanent: "
activity_log = logging.getLogger("itilflow.notifications")
LANGUAGES = ("zh", "en")
# A delivery starts only if it can finish (its channel's timeout plus this margin) within the attempt's
# start-to-close time: an attempt that overran would run alongside the next one and send twice.
DEADLINE_MARGIN = timedelta(seconds=5)


def recipients_to_contacts(session: Session, recipients: list[NotificationRecipient]) -> list[Contact]:
    """The active users these recipients name, each once: a group lead is the group's lead, or its
    members when it has none (an inactive lead is nobody: the notification says who it was meant for)."""
    names = {r.name for r in recipients if r.kind == "user"}
    groups = {r.name for r in recipients if r.kind == "group"}
    leads = group_leads(session, {r.name for r in recipients if r.kind == "group_lead"})
    names.update(lead for lead in leads.values() if lead)
    groups.update(group for group, lead in leads.items() if not lead)
    # A group_lead recipient naming a group with no row still reaches its members, as it always has.
    groups.update(r.name for r in recipients if r.kind == "group_lead" and r.name not in leads)
    names.update(group_members(session, groups))
    names.update(users_with_roles(session, {r.name for r in recipients if r.kind == "role"}))
    return active_contacts(session, names)


def language_of(user: Contact) -> str:
    """zh unless the user chose English: the directory default, and the standards' language."""
    return "en" if (user.language or "zh").lower().startswith("en") else "zh"


def text_in(texts: dict[str, str], lang: str) -> str:
    """The template text in `lang`, else in the other language rather than an empty message."""
    return texts.get(lang) or next((texts[other] for other in LANGUAGES if texts.get(other)), "")


def retryable_pending(rows: list[NotificationRow]) -> list[NotificationRow]:
    return [
        r for r in rows if r.status in ("pending", "failed") and not (r.error or "").startswith(PERMANENT)
    ]


@dataclass
class Failure:
    key: str
    reason: str
    permanent: bool
    retry_after: float | None = None


class NotificationActivities:
    def __init__(
        self, engine: Engine, *, email: EmailSender | None = None, webhook: WebhookSender | None = None
    ) -> None:
        self.engine = engine
        self.email = email
        self.webhook = webhook

    @activity.defn(name="notify")
    def notify(self, inp: NotifyInput) -> NotifyResult:
        return self.deliver(inp)

    def deliver(self, inp: NotifyInput) -> NotifyResult:
        """Record and send; also called by the worker's SLA alarm clock, outside any activity."""
        with write_scope(self.engine) as session:
            users = recipients_to_contacts(session, inp.recipients)
            insert_ignore(session, NotificationRow, self._rows(inp, users), ["key"])
        return self._deliver_pending(inp, [u.username for u in users])

    def deliver_many(self, notes: list[NotifyInput]) -> None:
        """`deliver` for many notifications at once (the SLA alarm clock's burst): their rows in one
        transaction, recipients resolved once per distinct list; then only those with e-mails or
        webhooks to send go on one by one. Raises only if the rows could not be written; a failed
        send is left for the durable timer's notify activity, as in `deliver`."""
        contacts: dict[tuple[tuple[str, str], ...], list[Contact]] = {}
        outgoing: list[tuple[NotifyInput, list[str]]] = []
        with write_scope(self.engine) as session:
            rows: list[dict[str, Any]] = []
            for inp in notes:
                who = tuple((r.kind, r.name) for r in inp.recipients)
                if who not in contacts:
                    contacts[who] = recipients_to_contacts(session, inp.recipients)
                mine = self._rows(inp, contacts[who])
                rows += mine
                if any(row["channel"] != "inbox" for row in mine):
                    outgoing.append((inp, [u.username for u in contacts[who]]))
            insert_ignore(session, NotificationRow, rows, ["key"])
        for inp, users in outgoing:
            try:
                self._deliver_pending(inp, users)
            except Exception as exc:  # noqa: BLE001 - the durable timer's activity retries it
                activity_log.warning("notification %s not sent now (the SLA timer will): %s", inp.key, exc)

    def record(self, session: Session, notes: list[NotifyInput]) -> list[str]:
        """Write these notifications' rows in the caller's transaction (persist_record's: the outbox).

        Inbox rows are complete once written. Returns the keys of the notifications that still have
        e-mails or webhooks to send, for the workflow to hand to the `notify` activity and its retries;
        a key already delivered (by the SLA alarm clock, or an earlier attempt) is not returned."""
        rows = [
            row for inp in notes for row in self._rows(inp, recipients_to_contacts(session, inp.recipients))
        ]
        insert_ignore(session, NotificationRow, rows, ["key"])
        outgoing = [row["key"] for row in rows if row["channel"] != "inbox"]
        if not outgoing:
            return []
        stored = session.exec(select(NotificationRow).where(col(NotificationRow.key).in_(outgoing))).all()
        undelivered = {row.key for row in retryable_pending(list(stored))}
        return [inp.key for inp in notes if any(k.startswith(f"{inp.key}:") for k in undelivered)]

    # ------------------------------------------------------------------------------------------------
    def _rows(self, inp: NotifyInput, users: list[Contact]) -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        rows = []
        for user in users:
            lang = language_of(user)
            ctx = {**inp.context, "recipient": user.display_name or user.username}
            if lang == "zh" and "state_label_zh" in ctx:
                ctx["state_label"] = ctx["state_label_zh"]
            # Users without an address (or a worker without SMTP) read it in the in-app inbox.
            channel = "email" if (self.email is not None and user.email) else "inbox"
            rows.append(
                {
                    "key": f"{inp.key}:{user.username}:{channel}",
                    "record_id": inp.record_id,
                    "template": inp.template_name,
                    "channel": channel,
                    "recipient": user.username,
                    "address": user.email if channel == "email" else None,
                    "language": lang,
                    "subject": render(text_in(inp.subject, lang), ctx),
                    "body": render(text_in(inp.body, lang), ctx),
                    "status": "pending" if channel == "email" else "sent",
                    "created_at": now,
                    "sent_at": None if channel == "email" else now,
                }
            )
        if self.webhook is not None:
            rows.append(
                {
                    "key": f"{inp.key}:webhook",
                    "record_id": inp.record_id,
                    "template": inp.template_name,
                    "channel": "webhook",
                    "recipient": "webhook",
                    "address": self.webhook.display_url,
                    "language": "en",
                    "subject": render(text_in(inp.subject, "en"), inp.context),
                    "body": render(text_in(inp.body, "en"), inp.context),
                    "status": "pending",
                    "created_at": now,
                    # A multi-row INSERT needs the same columns in every row.
                    "sent_at": None,
                }
            )
        return rows

    def _webhook_payload(self, row: NotificationRow, inp: NotifyInput, users: list[str]) -> dict[str, Any]:
        """Both languages: a webhook feeds chat rooms and tools whose audience the engine cannot know."""
        texts = {
            lang: {
                "subject": render(text_in(inp.subject, lang), inp.context),
                "body": render(text_in(inp.body, lang), inp.context),
            }
            for lang in LANGUAGES
        }
        return {
            "id": row.key,
            "event": "notification",
            "template": row.template,
            "record_id": row.record_id,
            "recipients": users,
            "subject": row.subject,
            "body": row.body,
            "texts": texts,
            "context": inp.context,
            "created_at": row.created_at.isoformat(),
        }

    def _send(self, row: NotificationRow, inp: NotifyInput, users: list[str]) -> None:
        if row.channel == "email":
            if self.email is None or not row.address:
                raise DeliveryError("e-mail is no longer configured on this worker")
            self.email.send(to=row.address, subject=row.subject, body=row.body, key=row.key)
        elif row.channel == "webhook":
            if self.webhook is None:
                raise DeliveryError("the webhook is no longer configured on this worker")
            self.webhook.send(self._webhook_payload(row, inp, users), event_id=row.key)
        else:
            raise DeliveryError(f"unknown channel {row.channel!r}", permanent=True)

    def _timeout(self, channel: str) -> timedelta:
        sender = self.email if channel == "email" else self.webhook
        return timedelta(seconds=float(getattr(sender, "timeout", 10.0)))

    def _claim(self, row: NotificationRow) -> bool:
        """Take this row for one attempt. The SLA alarm clock and the notify activity can reach the
        same row at the same moment; the attempt counter is the claim, so only one of them sends."""
        with write_scope(self.engine) as session:
            result = session.execute(
                update(NotificationRow)
                .where(
                    col(NotificationRow.id) == row.id,
                    col(NotificationRow.attempts) == row.attempts,
                    col(NotificationRow.status).in_(("pending", "failed")),
                )
                .values(attempts=row.attempts + 1)
            )
            return bool(getattr(result, "rowcount", 0))

    def _record(self, row_id: int | None, *, error: str | None) -> None:
        values: dict[str, Any] = {"error": error}
        if error is None:
            values.update(status="sent", sent_at=datetime.now(UTC))
        else:
            values.update(status="failed")
        with write_scope(self.engine) as session:
            session.execute(update(NotificationRow).where(col(NotificationRow.id) == row_id).values(**values))

    def _deliver_pending(self, inp: NotifyInput, users: list[str]) -> NotifyResult:
        with session_scope(self.engine) as session:
            rows = list(
                session.exec(
                    select(NotificationRow)
                    .where(col(NotificationRow.key).startswith(f"{inp.key}:"))
                    .order_by(col(NotificationRow.id))
                ).all()
            )
        todo = retryable_pending(rows)
        todo_ids = {r.id for r in todo}
        # Rows neither sent nor to be retried: permanent failures recorded by an earlier attempt.
        failed_before = sum(1 for r in rows if r.status != "sent" and r.id not in todo_ids)
        delivered = 0
        failures: list[Failure] = []
        skipped: list[str] = []
        down: dict[str, str] = {}
        deadline = _attempt_deadline()
        for row in todo:
            late = deadline is not None and datetime.now(UTC) + self._timeout(row.channel) > deadline
            if row.channel in down or late:
                # Not attempted: left as it is for the next activity attempt.
                skipped.append(down.get(row.channel, "attempt time used up"))
                continue
            if not self._claim(row):
                # Being sent by someone else right now: look again once that send must have ended.
                wait = self._timeout(row.channel).total_seconds() + DEADLINE_MARGIN.total_seconds()
                failures.append(Failure(row.key, "being delivered by another attempt", False, wait))
                continue
            try:
                self._send(row, inp, users)
            except DeliveryError as exc:
                reason = (PERMANENT if exc.permanent else "") + exc.reason
                self._record(row.id, error=reason)
                failures.append(Failure(row.key, exc.reason, exc.permanent, exc.retry_after))
                if exc.channel_down:
                    down[row.channel] = f"{row.channel} unavailable: {exc.reason}"
                activity.logger.warning("notification %s failed: %s", row.key, reason)
                continue
            self._record(row.id, error=None)
            delivered += 1
        permanent = [f for f in failures if f.permanent]
        if failures or skipped:
            _raise(failures, skipped, retry=bool(skipped) or len(permanent) < len(failures))
        return NotifyResult(delivered=delivered, failed=failed_before)


def _attempt_deadline() -> datetime | None:
    if not activity.in_activity():
        return None
    info = activity.info()
    if info.start_to_close_timeout is None:
        return None
    return info.started_time + info.start_to_close_timeout - DEADLINE_MARGIN


def _raise(failures: list[Failure], skipped: list[str], *, retry: bool) -> None:
    """Recorded already; the error tells Temporal whether another attempt can help."""
    reasons = [f"{f.key}: {f.reason}" for f in failures] + sorted(set(skipped))
    waits = [f.retry_after for f in failures if f.retry_after is not None and not f.permanent]
    delay = timedelta(seconds=min(max(waits), 300)) if waits and retry else None
    raise ApplicationError(
        "; ".join(reasons)[:2000],
        type="DeliveryError",
        non_retryable=not retry,
        next_retry_delay=delay,
    )
