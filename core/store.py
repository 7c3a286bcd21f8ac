"""Plain functions over the database that several layers share: numbering, directory, definitions.

Keyword-only arguments, a session passed in, no hidden globals: the API, the activities and the CLI
call the same functions, so a rule lives in one place.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import String, Table, bindparam, cast, func, or_, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from core.db import insert_ignore
from core.tables import (
    DefinitionEventRow,
    DefinitionRow,
    GroupRow,
    MembershipRow,
    NumberAssignmentRow,
    NumberSequenceRow,
    RecordRow,
    UserRow,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


# -- numbering ----------------------------------------------------------------------------------------


_SEQUENCES: Table = NumberSequenceRow.__table__  # type: ignore[attr-defined]
_ASSIGNMENTS: Table = NumberAssignmentRow.__table__  # type: ignore[attr-defined]
# Every record start runs these (Core statements built once: the ORM version cost more than the I/O).
_ASSIGNED = core_select(_ASSIGNMENTS.c.number).where(_ASSIGNMENTS.c.record_id == bindparam("record_id"))
_NEXT = (
    update(_SEQUENCES)
    .where(_SEQUENCES.c.prefix == bindparam("p"))
    .values(last=_SEQUENCES.c.last + 1)
    .returning(_SEQUENCES.c.last)
)
_ASSIGN = _ASSIGNMENTS.insert()


def allocate_number(session: Session, *, record_id: str, prefix: str) -> str:
    """The record's number (INC0000042). Idempotent per record id: a retry gets the same number."""
    existing = session.execute(_ASSIGNED, {"record_id": record_id}).scalar()
    if existing is not None:
        return str(existing)
    last = session.execute(_NEXT, {"p": prefix}).scalar()
    if last is None:  # the first record with this prefix
        insert_ignore(session, NumberSequenceRow, [{"prefix": prefix, "last": 0}], ["prefix"])
        last = session.execute(_NEXT, {"p": prefix}).scalar_one()
    number = f"{prefix}{int(last):07d}"
    session.execute(_ASSIGN, {"record_id": record_id, "number": number})
    return number


# -- directory ----------------------------------------------------------------------------------------


_MEMBERS: Table = MembershipRow.__table__  # type: ignore[attr-defined]
# Every API request reads the caller's groups: built once.
_GROUPS_OF = (
    core_select(_MEMBERS.c.group)
    .where(_MEMBERS.c.username == bindparam("username"))
    .order_by(_MEMBERS.c.group)
)
_USERS: Table = UserRow.__table__  # type: ignore[attr-defined]
_GROUP_TABLE: Table = GroupRow.__table__  # type: ignore[attr-defined]
# Every notification and approver look-up runs these: Core statements built once, rows not ORM objects
# (a notification's recipients cost about 1 ms of the worker's CPU per action as ORM queries).
_ACTIVE_MEMBERS = (
    core_select(_MEMBERS.c.username)
    .join(_USERS, _USERS.c.username == _MEMBERS.c.username)
    .where(_MEMBERS.c.group.in_(bindparam("groups", expanding=True)), _USERS.c.active)
)
_LEADS = core_select(_GROUP_TABLE.c.name, _GROUP_TABLE.c.lead).where(
    _GROUP_TABLE.c.name.in_(bindparam("groups", expanding=True))
)
_CONTACTS = (
    core_select(_USERS.c.username, _USERS.c.display_name, _USERS.c.email, _USERS.c.language)
    .where(_USERS.c.username.in_(bindparam("names", expanding=True)), _USERS.c.active)
    .order_by(_USERS.c.username)
)


def user_groups(session: Session, username: str) -> list[str]:
    return [str(g) for (g,) in session.execute(_GROUPS_OF, {"username": username})]


def group_members(session: Session, groups: Iterable[str]) -> list[str]:
    """The active members of these groups."""
    names = sorted(set(groups))
    if not names:
        return []
    return sorted({str(u) for (u,) in session.execute(_ACTIVE_MEMBERS, {"groups": names})})


def users_with_roles(session: Session, roles: Iterable[str]) -> list[str]:
    """The active users holding any of these roles."""
    wanted = sorted(set(roles))
    if not wanted:
        return []
    # Roles are a JSON list, which SQLite and PostgreSQL query differently. A LIKE for the role as the
    # column's JSON text spells it (json.dumps, SQLAlchemy's serializer) finds the candidates inside
    # the database rather than one ORM object per user in Python; the exact test on the list follows.
    text = cast(_USERS.c.roles, String)
    spelt = [text.like(f"%{_like_escape(json.dumps(role))}%", escape="\\") for role in wanted]
    stmt = core_select(_USERS.c.username, _USERS.c.roles).where(_USERS.c.active, or_(*spelt))
    return sorted(str(name) for name, held in session.execute(stmt) if set(wanted) & set(held or []))


def group_leads(session: Session, groups: Iterable[str]) -> dict[str, str | None]:
    """Each existing group's lead (None when it has none)."""
    names = sorted(set(groups))
    if not names:
        return {}
    return {str(name): lead for name, lead in session.execute(_LEADS, {"groups": names})}


class Contact(NamedTuple):
    """What a notification needs of a user: who, how to address them, in which language."""

    username: str
    display_name: str
    email: str | None
    language: str


def active_contacts(session: Session, usernames: Iterable[str]) -> list[Contact]:
    """These users' contacts, the inactive and unknown left out, ordered by username."""
    names = sorted(set(usernames))
    if not names:
        return []
    return [Contact(*row) for row in session.execute(_CONTACTS, {"names": names})]


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def resolve_approvers(
    session: Session, *, users: list[str], groups: list[str], roles: list[str]
) -> list[str]:
    """Expand groups and roles into active users; named users are kept as named."""
    return sorted(set(users) | set(group_members(session, groups)) | set(users_with_roles(session, roles)))


def upsert_user(
    session: Session,
    *,
    username: str,
    roles: list[str],
    display_name: str = "",
    email: str | None = None,
    language: str = "zh",
    groups: Iterable[str] = (),
    service_account: bool = False,
) -> UserRow:
    user = session.get(UserRow, username)
    if user is None:
        user = UserRow(username=username, created_at=utcnow(), roles=roles)
    user.roles = list(roles)
    user.display_name = display_name or user.display_name or username
    user.email = email if email is not None else user.email
    user.language = language
    user.service_account = service_account
    session.add(user)
    for group in groups:
        if session.get(GroupRow, group) is None:
            session.add(GroupRow(name=group, label=group))
        if session.get(MembershipRow, (group, username)) is None:
            session.add(MembershipRow(group=group, username=username))
    session.flush()
    return user


# -- definitions --------------------------------------------------------------------------------------


def definition_versions(session: Session, key: str) -> list[DefinitionRow]:
    return list(
        session.exec(
            select(DefinitionRow).where(DefinitionRow.key == key).order_by(col(DefinitionRow.version))
        ).all()
    )


def get_definition(session: Session, key: str, version: int | None = None) -> DefinitionRow | None:
    query = select(DefinitionRow).where(DefinitionRow.key == key)
    if version is not None:
        return session.exec(query.where(DefinitionRow.version == version)).first()
    return session.exec(query.order_by(col(DefinitionRow.version).desc())).first()


def latest_published(session: Session, key: str) -> DefinitionRow | None:
    return session.exec(
        select(DefinitionRow)
        .where(DefinitionRow.key == key, DefinitionRow.status == "published")
        .order_by(col(DefinitionRow.version).desc())
    ).first()


def add_definition_version(
    session: Session, *, key: str, source: str, digest: str, title_en: str, title_zh: str, actor: str
) -> DefinitionRow:
    last = session.exec(select(func.max(DefinitionRow.version)).where(DefinitionRow.key == key)).one()
    row = DefinitionRow(
        key=key,
        version=int(last or 0) + 1,
        status="draft",
        source=source,
        hash=digest,
        title_en=title_en,
        title_zh=title_zh,
        created_by=actor,
        created_at=utcnow(),
    )
    session.add(row)
    session.add(
        DefinitionEventRow(key=key, version=row.version, action="created", actor=actor, at=row.created_at)
    )
    session.flush()
    return row


def set_definition_status(session: Session, row: DefinitionRow, *, status: str, actor: str) -> DefinitionRow:
    now = utcnow()
    row.status = status
    if status == "published":
        row.published_by, row.published_at = actor, now
    elif status == "retired":
        row.retired_by, row.retired_at = actor, now
    session.add(row)
    session.add(DefinitionEventRow(key=row.key, version=row.version, action=status, actor=actor, at=now))
    session.flush()
    return row


def seal_committed(session: Session, record_id: str, seq: int) -> None:
    """Temporal has committed the record up to `seq` (an Update's result says so): its audit rows up to
    there are sealed. Used for a record's closing action, which no later workflow task re-asserts."""
    records = RecordRow.__table__  # type: ignore[attr-defined]
    session.execute(
        update(records)
        .where(records.c.id == record_id, records.c.committed_seq < seq)
        .values(committed_seq=seq)
    )
