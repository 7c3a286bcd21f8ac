"""The notification activity: resolve recipients, render in each one's language, record, deliver.

Every delivery is a row in `notifications` keyed by (notification key, recipient, channel) before it
is attempted, so a retried activity re-sends only what has not been sent, and every outcome (sent, or
failed with its reason) is kept. A failure raises, and Temporal retries the activity with backoff.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio import activity

from activities.channels import DeliveryError, EmailSender, WebhookSender
from core.db import insert_ignore, session_scope
from core.store import group_members, users_with_roles
from core.tables import GroupRow, NotificationRow, UserRow
from definitions.templates import render
from workflows.contracts import NotificationRecipient, NotifyInput, NotifyResult


def recipients_to_users(session: Session, recipients: list[NotificationRecipient]) -> list[UserRow]:
    names: set[str] = set()
    for r in recipients:
        if r.kind == "user":
            names.add(r.name)
        elif r.kind == "group":
            names.update(group_members(session, [r.name]))
        elif r.kind == "group_lead":
            group = session.get(GroupRow, r.name)
            names.update([group.lead] if group and group.lead else group_members(session, [r.name]))
        elif r.kind == "role":
            names.update(users_with_roles(session, [r.name]))
    if not names:
        return []
    users = session.exec(select(UserRow).where(UserRow.username.in_(sorted(names)))).all()  # type: ignore[attr-defined]
    return [u for u in users if u.active]


class NotificationActivities:
    def __init__(
        self, engine: Engine, *, email: EmailSender | None = None, webhook: WebhookSender | None = None
    ) -> None:
        self.engine = engine
        self.email = email
        self.webhook = webhook

    @activity.defn(name="notify")
    def notify(self, inp: NotifyInput) -> NotifyResult:
        now = datetime.now(UTC)
        with session_scope(self.engine) as session:
            users = recipients_to_users(session, inp.recipients)
            rows = []
            for user in users:
                lang = "zh" if (user.language or "zh").startswith("zh") else "en"
                ctx = {**inp.context, "recipient": user.display_name or user.username}
                subject = render(inp.subject.get(lang, ""), ctx)
                body = render(inp.body.get(lang, ""), ctx)
                channel = "email" if (self.email and user.email) else "inbox"
                rows.append(
                    {
                        "key": f"{inp.key}:{user.username}:{channel}",
                        "record_id": inp.record_id,
                        "template": inp.template_name,
                        "channel": channel,
                        "recipient": user.username,
                        "address": user.email if channel == "email" else None,
                        "language": lang,
                        "subject": subject,
                        "body": body,
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
                        "address": self.webhook.url,
                        "language": "en",
                        "subject": render(inp.subject.get("en", ""), inp.context),
                        "body": render(inp.body.get("en", ""), inp.context),
                        "status": "pending",
                        "created_at": now,
                    }
                )
            insert_ignore(session, NotificationRow, rows, ["key"])
        return self._deliver_pending(inp)

    def _deliver_pending(self, inp: NotifyInput) -> NotifyResult:
        delivered = failed = 0
        errors: list[str] = []
        with session_scope(self.engine) as session:
            pending = session.exec(
                select(NotificationRow).where(
                    NotificationRow.key.startswith(f"{inp.key}:"),  # type: ignore[attr-defined]
                    NotificationRow.status != "sent",
                )
            ).all()
            for row in pending:
                row.attempts += 1
                try:
                    if row.channel == "email" and self.email and row.address:
                        self.email.send(to=row.address, subject=row.subject, body=row.body)
                    elif row.channel == "webhook" and self.webhook:
                        self.webhook.send(
                            {
                                "event": "notification",
                                "template": row.template,
                                "record_id": row.record_id,
                                "subject": row.subject,
                                "body": row.body,
                                "context": inp.context,
                                "key": inp.key,
                            }
                        )
                    row.status, row.sent_at, row.error = "sent", datetime.now(UTC), None
                    delivered += 1
                except DeliveryError as exc:
                    row.status, row.error = "failed", str(exc)
                    failed += 1
                    errors.append(str(exc))
                session.add(row)
        if errors:
            # Recorded above; raising makes Temporal retry with backoff.
            raise DeliveryError("; ".join(errors))
        return NotifyResult(delivered=delivered, failed=failed)
