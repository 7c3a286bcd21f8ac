"""The agents' queues in the read model (issue 16), on SQLite and PostgreSQL: the SLA due instant each
record's write keeps (records.sla_due_at), "breaching soon", and the list ordered by it with a keyset
cursor that neither skips nor repeats a record."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from api.auth import Principal
from api.services import search
from api.web.record_list import queue_args
from core.db import session_scope
from core.tables import RecordRow

pytestmark = pytest.mark.db


def _seed(engine: Engine, tag: str) -> dict[str, RecordRow]:
    now = datetime.now(UTC)
    rows = {
        "soon": {"assignee": "q-ann", "group": f"g-{tag}", "due": now + timedelta(hours=1)},
        "later": {"assignee": None, "group": f"g-{tag}", "due": now + timedelta(hours=9)},
        "none": {"assignee": None, "group": f"g-{tag}", "due": None},
        "other": {"assignee": None, "group": "elsewhere", "due": now + timedelta(hours=2)},
    }
    out = {}
    with session_scope(engine) as session:
        for name, r in rows.items():
            row = RecordRow(
                id=uuid.uuid4().hex,
                number=f"Q{tag}{name}",
                definition_key=f"queues-{tag}",
                definition_version=1,
                title=f"{name} {tag}",
                state="open",
                state_category="open",
                assignee=r["assignee"],
                assignment_group=r["group"],
                fields={},
                snapshot={},
                created_at=now,
                updated_at=now,
                sla_due_at=r["due"],
            )
            session.add(row)
            out[name] = row
    return out


def test_queues_and_the_due_order(db_engine: Engine) -> None:
    tag = uuid.uuid4().hex[:6]
    rows = _seed(db_engine, tag)
    agent = Principal(username="q-ann", roles=["agent"], groups=[f"g-{tag}"])

    def numbers(queue: str | None, sort: str | None = None, **more: object) -> list[str]:
        with session_scope(db_engine) as session:
            args = {**queue_args(queue, sort, agent), **more}
            page = search.list_records(session=session, user=agent, definition=f"queues-{tag}", **args)  # type: ignore[arg-type]
            return [r.number for r in page.items]

    assert numbers("mine") == [rows["soon"].number]
    assert sorted(numbers("groups")) == sorted(rows[n].number for n in ("soon", "later", "none"))
    assert sorted(numbers("unassigned")) == sorted(rows[n].number for n in ("later", "none"))
    assert numbers("due_soon") == [rows["soon"].number, rows["other"].number]  # soonest first
    # Ordered by the due instant; records without a running clock are not in that order.
    assert numbers(None, "due") == [rows[n].number for n in ("soon", "other", "later")]
    with session_scope(db_engine) as session:
        first = search.list_records(
            session=session, user=agent, definition=f"queues-{tag}", order="due", limit=2
        )
        assert [r.number for r in first.items] == [rows["soon"].number, rows["other"].number]
        assert first.items[0].sla_due_at is not None and first.next_cursor
        rest = search.list_records(
            session=session,
            user=agent,
            definition=f"queues-{tag}",
            order="due",
            limit=2,
            cursor=first.next_cursor,
        )
        assert [r.number for r in rest.items] == [rows["later"].number] and rest.next_cursor is None
