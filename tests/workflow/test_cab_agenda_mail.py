"""The CAB agenda sent to the CAB's members through real components: the API prepares one message per
active member (the agenda as that member may see it, in their language), the worker delivers them by
e-mail over STARTTLS to a real SMTP listener, or to the web inbox for a member without an address; a
retried request with the same Idempotency-Key sends nothing more; a group without members is refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine
from sqlmodel import select
from temporalio.client import Client

from api.app import create_app
from api.auth import issue_token
from core.db import session_scope
from core.settings import Settings
from core.store import upsert_user
from core.tables import DefinitionRow, NotificationRow, RecordRow
from tests.paths import LIBRARY
from tests.workflow.test_notifications import (
    SMTP_PASSWORD,
    SMTP_USER,
    Mailbox,
    Tls,
    eventually,
    smtp_listener,
    smtp_sender,
    tls,  # noqa: F401 - the fixture
)
from worker.registry import build_worker


def _setup(db_engine: Engine, tag: str) -> tuple[dict[str, str], str]:
    """A CAB group of three (zh with e-mail and every record in view, en approver who sees none, one
    without an address), a change manager, and one change awaiting the CAB next week."""
    group = f"cab-{tag}"
    start = datetime.now(UTC) + timedelta(days=9)
    number = f"CHGT{tag.upper()}"
    tokens = {}
    with session_scope(db_engine) as s:
        for name, roles, lang, email in (
            (f"zhm-{tag}", ["agent", "approver"], "zh", f"zhm-{tag}@example.test"),
            (f"enm-{tag}", ["approver"], "en", f"enm-{tag}@example.test"),
            (f"nom-{tag}", ["agent", "approver"], "en", None),
        ):
            upsert_user(s, username=name, roles=roles, groups=[group], language=lang, email=email)
        upsert_user(s, username=f"chm-{tag}", roles=["change_manager", "agent"], language="en")
        tokens["chm"] = issue_token(s, username=f"chm-{tag}", name="agenda test")
        upsert_user(s, username=f"agent-{tag}", roles=["agent"], language="en")
        tokens["agent"] = issue_token(s, username=f"agent-{tag}", name="agenda test")
        key = f"change_{tag}"
        s.add(
            DefinitionRow(
                key=key,
                version=1,
                status="published",
                source=(LIBRARY / "change.yaml")
                .read_text(encoding="utf-8")
                .replace("key: change\n", f"key: {key}\n", 1),
                hash=tag,
                created_by="test",
                created_at=datetime.now(UTC),
            )
        )
        s.add(
            RecordRow(
                id=uuid.uuid4().hex,
                number=number,
                definition_key=key,
                definition_version=1,
                title=f"升级核心交换机 {tag}",
                state="cab_review",
                state_category="open",
                requester=f"chm-{tag}",
                fields={
                    "planned_start": start.isoformat(),
                    "planned_end": (start + timedelta(hours=2)).isoformat(),
                },
                snapshot={},
                created_at=datetime.now(UTC),
                updated_at=datetime.now(UTC),
            )
        )
    return tokens, number


async def test_the_agenda_reaches_each_member_as_they_may_see_it(
    temporal_client: Client,
    db_engine: Engine,
    database_url: str,
    task_queue: str,
    tls: Tls,  # noqa: F811
) -> None:
    tag = uuid.uuid4().hex[:6]
    tokens, number = _setup(db_engine, tag)
    settings = Settings(database_url=database_url, task_queue=task_queue)
    app = create_app(settings, client=temporal_client, engine=db_engine)
    mailbox = Mailbox(credentials=(SMTP_USER, SMTP_PASSWORD))
    with smtp_listener(tls, mailbox) as port:
        async with build_worker(temporal_client, db_engine, task_queue, email=smtp_sender(port, tls)):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
                headers = {"Authorization": f"Bearer {tokens['chm']}", "Idempotency-Key": f"agenda-{tag}"}
                body = {"group": f"cab-{tag}", "weeks": 2}
                r = await http.post("/api/v1/schedule/cab-agenda/send", json=body, headers=headers)
                assert r.status_code == 202, r.text
                sent = r.json()
                assert sent["recipients"] == [f"enm-{tag}", f"nom-{tag}", f"zhm-{tag}"]
                assert sent["changes"] >= 1 and len(sent["meetings"]) == 2

                zh = await eventually(lambda: mailbox.to(f"zhm-{tag}@example.test") or None, "the zh e-mail")
                text = zh[0].message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
                assert (
                    "变更委员会议程" in str(zh[0].message["Subject"])
                    and number in text
                    and "计划时间" in text
                )
                en = await eventually(lambda: mailbox.to(f"enm-{tag}@example.test") or None, "the en e-mail")
                en_text = en[0].message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
                assert (
                    "CAB agenda" in str(en[0].message["Subject"]) and number not in en_text
                )  # not theirs to see

                def inbox_row() -> NotificationRow | None:
                    with session_scope(db_engine) as s:
                        return s.exec(
                            select(NotificationRow).where(NotificationRow.recipient == f"nom-{tag}")
                        ).first()

                row = await eventually(inbox_row, "the inbox copy")
                assert row.channel == "inbox" and number in row.body

                # The same request again: the stored answer, and no second e-mail.
                again = await http.post("/api/v1/schedule/cab-agenda/send", json=body, headers=headers)
                assert again.status_code == 202 and again.json() == sent
                assert len(mailbox.to(f"zhm-{tag}@example.test")) == 1

                r = await http.post(
                    "/api/v1/schedule/cab-agenda/send",
                    json={"group": f"nobody-{tag}"},
                    headers={**headers, "Idempotency-Key": f"none-{tag}"},
                )
                assert r.status_code == 422 and r.json()["errors"][0]["path"] == "group"
                r = await http.post(
                    "/api/v1/schedule/cab-agenda/send",
                    json=body,
                    headers={"Authorization": f"Bearer {tokens['agent']}", "Idempotency-Key": f"x-{tag}"},
                )
                assert r.status_code == 403
