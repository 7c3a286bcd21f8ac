"""The records that name CIs in their `ci` fields, through the read model's CI index (`record_cis`,
written with each record): impact analysis lists the open ones on the CIs a failure reaches, a CI's
page lists all of its records. Who may see which record is the API's rule, not this module's: it
returns what the caller's filter needs (requester, assignee, fields, the definition version)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, select
from sqlmodel import Session

from cmdb.idlists import ids_in
from core.tables import RecordCiRow, RecordRow

_INDEX: Table = RecordCiRow.__table__  # type: ignore[attr-defined]
_RECORDS: Table = RecordRow.__table__  # type: ignore[attr-defined]
MAX_RECORDS = 200  # the newest, as a list for people; the count says how many there are


@dataclass(frozen=True)
class RecordOnCi:
    ci_id: int
    field: str
    id: str
    number: str
    definition_key: str
    definition_version: int
    title: str
    state: str
    state_category: str
    priority: str | None
    final: bool
    requester: str | None
    assignee: str | None
    fields: dict[str, Any]
    state_label: dict[str, str] | None


def records_on(session: Session, ci_ids: Iterable[int], *, open_only: bool) -> list[RecordOnCi]:
    """The records naming any of `ci_ids` (newest first, at most MAX_RECORDS rows of record × CI)."""
    ids = sorted(set(ci_ids))
    if not ids:
        return []
    dialect = session.get_bind().dialect.name
    query = (
        select(
            _INDEX.c.ci_id,
            _INDEX.c.field,
            _RECORDS.c.id,
            _RECORDS.c.number,
            _RECORDS.c.definition_key,
            _RECORDS.c.definition_version,
            _RECORDS.c.title,
            _RECORDS.c.state,
            _RECORDS.c.state_category,
            _RECORDS.c.priority,
            _RECORDS.c.final,
            _RECORDS.c.requester,
            _RECORDS.c.assignee,
            _RECORDS.c.fields,
            _RECORDS.c.snapshot,
        )
        .join(_RECORDS, _RECORDS.c.id == _INDEX.c.record_id)
        .where(ids_in(_INDEX.c.ci_id, dialect))
        .order_by(_RECORDS.c.updated_at.desc(), _RECORDS.c.id, _INDEX.c.ci_id)
        .limit(MAX_RECORDS)
    )
    if open_only:
        query = query.where(_RECORDS.c.final.is_(False))
    return [
        RecordOnCi(
            ci_id=r.ci_id,
            field=r.field,
            id=r.id,
            number=r.number,
            definition_key=r.definition_key,
            definition_version=r.definition_version,
            title=r.title,
            state=r.state,
            state_category=r.state_category,
            priority=r.priority,
            final=r.final,
            requester=r.requester,
            assignee=r.assignee,
            fields=r.fields or {},
            state_label=(r.snapshot or {}).get("state_label"),
        )
        for r in session.connection().execute(query, {"ids": ids}).all()
    ]
