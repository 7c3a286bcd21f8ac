"""The record list: filters, a text search and keyset pagination over the SQL read model.

Pages are keyed on (created_at, id), newest first, so a page stays stable while records change; the
cursor is opaque to clients (base64 of that pair).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import or_
from sqlmodel import Session, col, select

from api.auth import Principal
from api.problems import unprocessable
from api.schemas import RecordPage, RecordSummary
from api.services import visibility
from api.services.lookup import can_see_all
from core.tables import RecordRow


def _encode_cursor(row: RecordRow, order: str = "created") -> str:
    key = row.sla_due_at if order == "due" and row.sla_due_at is not None else row.created_at
    raw = json.dumps([key.isoformat(), row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, record_id = json.loads(raw)
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None or not isinstance(record_id, str) or len(record_id) > 64:
            raise ValueError("not a cursor this API wrote")  # ours are aware and carry a record id
        return moment, record_id
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise unprocessable(
            "the cursor is not one this API returned",
            [{"path": "query.cursor", "message": "invalid cursor"}],
            zh="游标不是本 API 返回的",
        ) from None


def summary(row: RecordRow) -> RecordSummary:
    """A list entry: the read model's columns, without the snapshot (kilobytes of JSON per record)."""
    return RecordSummary(
        id=row.id,
        number=row.number,
        definition=row.definition_key,
        definition_version=row.definition_version,
        title=row.title,
        state=row.state,
        state_category=row.state_category,
        priority=row.priority,
        requester=row.requester,
        assignee=row.assignee,
        assignment_group=row.assignment_group,
        breached=row.breached,
        final=row.final,
        created_at=row.created_at,
        updated_at=row.updated_at,
        sla_due_at=row.sla_due_at,
    )


def list_records(
    *,
    session: Session,
    user: Principal,
    definition: str | None = None,
    state: str | None = None,
    assignee: str | None = None,
    assignment_group: str | None = None,
    requester: str | None = None,
    priority: str | None = None,
    q: str | None = None,
    breached: bool | None = None,
    limit: int = 50,
    cursor: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    ids: Sequence[str] | None = None,
    unassigned: bool = False,
    groups: Sequence[str] | None = None,
    open_only: bool = False,
    due_before: datetime | None = None,
    order: Literal["created", "due"] = "created",
) -> RecordPage:
    """Newest first, keyset-paginated on (created_at, id): stable while records change. `created_from`
    and `created_to` bound the creation time ([from, to)); `ids` limits the list to those records (the
    dashboard's drill-down: the records behind a figure). The agents' queues: `unassigned` (no
    assignee), `groups` (assigned to one of these groups), `open_only` (not closed), `due_before` (a
    running clock breaches by then); `order="due"` lists the records with a running clock, the one
    that breaches first first (keyset on the due instant and id)."""
    query = select(RecordRow)
    if created_from is not None:
        query = query.where(col(RecordRow.created_at) >= created_from)
    if created_to is not None:
        query = query.where(col(RecordRow.created_at) < created_to)
    if ids is not None:
        query = query.where(col(RecordRow.id).in_(list(ids)))
    equal = {
        RecordRow.definition_key: definition,
        RecordRow.state: state,
        RecordRow.assignee: assignee,
        RecordRow.assignment_group: assignment_group,
        RecordRow.requester: requester,
        RecordRow.priority: priority,
    }
    for column, value in equal.items():
        if value is not None:
            query = query.where(col(column) == value)
    if breached is not None:
        query = query.where(col(RecordRow.breached) == breached)
    if unassigned:
        query = query.where(col(RecordRow.assignee).is_(None))
    if groups is not None:
        query = query.where(col(RecordRow.assignment_group).in_(list(groups)))
    if open_only:
        query = query.where(col(RecordRow.final).is_(False))
    if due_before is not None:
        query = query.where(col(RecordRow.sla_due_at) <= due_before)
    if order == "due":
        query = query.where(col(RecordRow.sla_due_at).is_not(None))
    if q:
        query = query.where(
            or_(
                col(RecordRow.title).icontains(q, autoescape=True),
                col(RecordRow.number).icontains(q, autoescape=True),
            )
        )
    if not can_see_all(user):
        mine = or_(col(RecordRow.requester) == user.username, col(RecordRow.assignee) == user.username)
        shown = visibility.named(session, user)  # a `visibility:` section naming their role or group
        query = query.where(mine if shown is None else or_(mine, shown))
    else:
        # A definition's `visibility:` hides its records from whoever it does not name.
        hidden = visibility.listed(session, user)
        if hidden is not None:
            query = query.where(hidden)
    if cursor:
        at, record_id = _decode_cursor(cursor)
        if order == "due":
            due = col(RecordRow.sla_due_at)
            query = query.where(or_(due > at, (due == at) & (col(RecordRow.id) > record_id)))
        else:
            query = query.where(
                or_(
                    col(RecordRow.created_at) < at,
                    (col(RecordRow.created_at) == at) & (col(RecordRow.id) < record_id),
                )
            )
    if order == "due":
        query = query.order_by(col(RecordRow.sla_due_at).asc(), col(RecordRow.id).asc())
    else:
        query = query.order_by(col(RecordRow.created_at).desc(), col(RecordRow.id).desc())
    query = query.limit(limit + 1)
    rows = list(session.exec(query).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return RecordPage(
        items=[summary(r) for r in rows], next_cursor=_encode_cursor(rows[-1], order) if more else None
    )
