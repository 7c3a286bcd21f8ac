"""Which record a reference (id or number) names, and whether the caller may see it.

Who may see which record (the same rule for every read and action; a record the caller may not see
is answered like one that does not exist, 404, which reveals nothing):

- `admin`, `process_owner`, `agent`: every record, to read and act on (staff work on other people's
  records); `auditor`: every record, to read only.
- everyone else — requesters, approvers, integrators (service accounts), any process role without
  `agent` — the records they requested, are assigned to or are named in (a user field: the
  implementer, the customer's contact…), and the records whose approval they are asked to decide or
  have decided (by name, through a group the task names, or as an approver's substitute). A CAB
  member sees the changes before the CAB, not every data-access request; a monitoring integration
  sees the incidents it opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session, select

from api.auth import Principal
from api.problems import not_found
from api.services.visibility import restriction
from core.tables import ApprovalRow, RecordRow

# Roles that work on other people's records, and those that may read them all (auditors).
STAFF_ROLES = ("admin", "process_owner", "agent")
READ_ALL_ROLES = (*STAFF_ROLES, "auditor")


@dataclass(frozen=True)
class RecordKey:
    """What acting on a record needs from the read model (not its snapshot, which is kilobytes of JSON)."""

    id: str
    number: str
    state: str
    final: bool
    definition: str = ""  # its definition key (metrics label the actions by it)


def can_see_all(user: Principal) -> bool:
    """Whether the caller reads every record; the list and the look-ups filter everyone else."""
    return user.has_role(*READ_ALL_ROLES)


def may_see(
    session: Session,
    user: Principal,
    record_id: str,
    requester: str | None,
    assignee: str | None,
    fields: dict[str, Any] | None = None,
    definition: tuple[str, int] | None = None,
) -> bool:
    """The visibility rule above, for one record (the module's docstring); `definition` (key,
    version) applies that version's `visibility:` section, if it has one (api/services/visibility.py)."""
    restricted = restriction(session, *definition) if definition is not None else None
    if restricted is not None:
        return restricted.names(user) or participates(session, user, record_id, requester, assignee, fields)
    if can_see_all(user):
        return True
    return participates(session, user, record_id, requester, assignee, fields)


def participates(
    session: Session,
    user: Principal,
    record_id: str,
    requester: str | None,
    assignee: str | None,
    fields: dict[str, Any] | None,
) -> bool:
    """Requester, assignee, named in a field, or an approver of the record."""
    if user.username in (requester, assignee):
        return True
    return named_in(user, fields) or decides_on(session, user, record_id)


def named_in(user: Principal, fields: dict[str, Any] | None) -> bool:
    """Whether a field of the record names the caller (a user field holds a username, or a list of them)."""
    for value in (fields or {}).values():
        if value == user.username or (isinstance(value, list) and user.username in value):
            return True
    return False


def decides_on(session: Session, user: Principal, record_id: str) -> bool:
    """Whether the caller is asked to decide, or has decided, an approval of the record."""
    groups = set(user.groups)
    for data in session.execute(
        core_select(_APPROVALS.c.data).where(_APPROVALS.c.record_id == record_id)
    ).scalars():
        task = data or {}
        if user.username in task.get("eligible", ()) or groups & set(task.get("groups", ())):
            return True
        # Decided: by name, or as someone's substitute (a delegation).
        if any(user.username in (d.get("by"), d.get("substitute")) for d in task.get("decisions", ())):
            return True
    return False


def find_record(session: Session, *, ref: str, user: Principal) -> RecordRow:
    """A record by id or number, if the caller may see it (else 404, which reveals nothing)."""
    row = session.get(RecordRow, ref) if len(ref) <= 64 else None
    if row is None:
        row = session.exec(select(RecordRow).where(RecordRow.number == ref)).first()
    if row is None or not may_see(
        session, user, row.id, row.requester, row.assignee, row.fields, _version(row)
    ):
        raise not_found(f"no record '{ref}'", zh=f"没有记录“{ref}”")
    return row


def _version(row: Any) -> tuple[str, int]:
    return (row.definition_key, row.definition_version)


# Actions look records up on every request: prebuilt Core statements, not ORM loads.
_RECORDS: Table = RecordRow.__table__  # type: ignore[attr-defined]
_APPROVALS: Table = ApprovalRow.__table__  # type: ignore[attr-defined]
_KEY_COLUMNS = (
    _RECORDS.c.id,
    _RECORDS.c.number,
    _RECORDS.c.state,
    _RECORDS.c.final,
    _RECORDS.c.requester,
    _RECORDS.c.assignee,
    _RECORDS.c.fields,
    _RECORDS.c.definition_key,
    _RECORDS.c.definition_version,
)
_KEY_BY_ID = core_select(*_KEY_COLUMNS).where(_RECORDS.c.id == bindparam("ref"))
_KEY_BY_NUMBER = core_select(*_KEY_COLUMNS).where(_RECORDS.c.number == bindparam("ref"))


def _record_key(row: Any) -> RecordKey:
    return RecordKey(
        id=row.id, number=row.number, state=row.state, final=row.final, definition=row.definition_key
    )


def find_record_key(session: Session, *, ref: str, user: Principal, reading: bool = False) -> RecordKey:
    """`find_record` for an action (or, `reading`, for a read such as the history): the same look-up
    and visibility rule, without loading the record."""
    row = session.execute(_KEY_BY_ID, {"ref": ref}).first() if len(ref) <= 64 else None
    if row is None:
        row = session.execute(_KEY_BY_NUMBER, {"ref": ref}).first()
    allowed = (
        may_see(session, user, row.id, row.requester, row.assignee, row.fields, _version(row))
        if reading and row is not None
        else row is not None and _may_act(session, user, row)
    )
    if row is None or not allowed:
        raise not_found(f"no record '{ref}'", zh=f"没有记录“{ref}”")
    return _record_key(row)


def _may_act(session: Session, user: Principal, row: Any) -> bool:
    """Acting needs the visibility rule without the read-only roles: an auditor reads, never acts
    (unless they are also a participant). On a restricted definition, only its participants and
    those its section lets see (other than through `auditor`) act."""
    restricted = restriction(session, *_version(row))
    if restricted is not None:
        if restricted.lets_act(user):
            return True
    elif user.has_role(*STAFF_ROLES):
        return True
    return participates(session, user, row.id, row.requester, row.assignee, row.fields)


def record_key_by_id(session: Session, record_id: str) -> RecordKey | None:
    """A record's key by its id, without the visibility rule: for an approval's record, where the
    workflow decides who may act (an approver need not see the record otherwise)."""
    row = session.execute(_KEY_BY_ID, {"ref": record_id}).first()
    return _record_key(row) if row is not None else None


def may_see_key(session: Session, user: Principal, record_id: str) -> bool:
    """`may_see` for a record known by id only."""
    row = session.execute(_KEY_BY_ID, {"ref": record_id}).first()
    return row is not None and may_see(
        session, user, row.id, row.requester, row.assignee, row.fields, _version(row)
    )
