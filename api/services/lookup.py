"""Which record a reference (id or number) names, and whether the caller may see it.

One visibility rule for every read and action: staff see every record, anyone else only the records
they requested or are assigned. A record the caller may not see is answered like one that does not
exist (404), which reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session, select

from api.auth import Principal
from api.problems import not_found
from core.tables import RecordRow

# Roles that work on other people's records; a plain requester sees only their own.
STAFF_ROLES = ("admin", "process_owner", "agent", "approver", "integrator")


@dataclass(frozen=True)
class RecordKey:
    """What acting on a record needs from the read model (not its snapshot, which is kilobytes of JSON)."""

    id: str
    number: str
    state: str
    final: bool


def can_see_all(user: Principal) -> bool:
    """Staff work on other people's records; the list and the look-ups filter everyone else."""
    return user.has_role(*STAFF_ROLES)


def find_record(session: Session, *, ref: str, user: Principal) -> RecordRow:
    """A record by id or number, if the caller may see it (else 404, which reveals nothing)."""
    row = session.get(RecordRow, ref) if len(ref) <= 64 else None
    if row is None:
        row = session.exec(select(RecordRow).where(RecordRow.number == ref)).first()
    if row is None or not (can_see_all(user) or user.username in (row.requester, row.assignee)):
        raise not_found(f"no record '{ref}'")
    return row


# Actions look records up on every request: prebuilt Core statements, not ORM loads.
_RECORDS: Table = RecordRow.__table__  # type: ignore[attr-defined]
_KEY_COLUMNS = (
    _RECORDS.c.id,
    _RECORDS.c.number,
    _RECORDS.c.state,
    _RECORDS.c.final,
    _RECORDS.c.requester,
    _RECORDS.c.assignee,
)
_KEY_BY_ID = core_select(*_KEY_COLUMNS).where(_RECORDS.c.id == bindparam("ref"))
_KEY_BY_NUMBER = core_select(*_KEY_COLUMNS).where(_RECORDS.c.number == bindparam("ref"))


def _record_key(row: Any) -> RecordKey:
    return RecordKey(id=row.id, number=row.number, state=row.state, final=row.final)


def find_record_key(session: Session, *, ref: str, user: Principal) -> RecordKey:
    """`find_record` for an action: the same look-up and visibility rule, without loading the record."""
    row = session.execute(_KEY_BY_ID, {"ref": ref}).first() if len(ref) <= 64 else None
    if row is None:
        row = session.execute(_KEY_BY_NUMBER, {"ref": ref}).first()
    if row is None or not (can_see_all(user) or user.username in (row.requester, row.assignee)):
        raise not_found(f"no record '{ref}'")
    return _record_key(row)


def record_key_by_id(session: Session, record_id: str) -> RecordKey | None:
    """A record's key by its id, without the visibility rule: for an approval's record, where the
    workflow decides who may act (an approver need not see the record otherwise)."""
    row = session.execute(_KEY_BY_ID, {"ref": record_id}).first()
    return _record_key(row) if row is not None else None
