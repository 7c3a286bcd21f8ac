"""Per-definition visibility: a definition's `visibility:` section restricts who sees its records.

Without the section the global rule of `lookup` holds (admin, process_owner, agent and auditor see
every record). With it, a record is seen by its participants — requester, assignee, anyone a field
names, its approvers (asked, deciding, or deciding as a substitute) — and by holders of the listed
roles and members of the listed groups, and by nobody else: an admin or agent who is neither gets
404 like for a record that does not exist.

A record follows the definition version it was started on (its pinned version), like every other
rule of the language. A published version never changes, so each version's restriction is parsed
once per process and kept; only versions whose source mentions `visibility` are parsed at all.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import Table, and_, bindparam, not_, or_
from sqlalchemy import select as core_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from api.auth import Principal
from core.tables import DefinitionRow, RecordRow
from definitions.loader import load_text

_DEFINITIONS: Table = DefinitionRow.__table__  # type: ignore[attr-defined]
_RECORDS: Table = RecordRow.__table__  # type: ignore[attr-defined]
Version = tuple[str, int]


@dataclass(frozen=True)
class Restriction:
    roles: frozenset[str]
    groups: frozenset[str]

    def names(self, user: Principal) -> bool:
        """Whether the section lets the user see every record (a listed role or group)."""
        return bool(self.roles & set(user.roles) or self.groups & set(user.groups))

    def lets_act(self, user: Principal) -> bool:
        """Sight through a listed group or role lets one act (the workflow's permissions still decide
        what); sight through `auditor` alone reads, as auditors do everywhere."""
        return bool(self.groups & set(user.groups) or (self.roles - {"auditor"}) & set(user.roles))


_known: dict[Version, Restriction | None] = {}
_lock = threading.Lock()
# Published and retired versions whose source may hold a `visibility:` section (drafts start no record).
_CANDIDATES = core_select(_DEFINITIONS.c.key, _DEFINITIONS.c.version, _DEFINITIONS.c.source).where(
    _DEFINITIONS.c.status != "draft", _DEFINITIONS.c.source.contains("visibility")
)


_ONE = core_select(_DEFINITIONS.c.status, _DEFINITIONS.c.source).where(
    _DEFINITIONS.c.key == bindparam("key"), _DEFINITIONS.c.version == bindparam("version")
)


def _parse(source: str) -> Restriction | None:
    if "visibility" not in source:
        return None
    result = load_text(source)
    vis = result.definition.visibility if result.definition is not None else None
    return None if vis is None else Restriction(frozenset(vis.roles), frozenset(vis.groups))


def _remember(pair: Version, source: str) -> Restriction | None:
    with _lock:
        if pair in _known:
            return _known[pair]
    found = _parse(source)
    with _lock:
        _known[pair] = found
    return found


def restrictions(session: Session) -> dict[Version, Restriction]:
    """Every restricted published (or retired) version."""
    out: dict[Version, Restriction] = {}
    for key, version, source in session.execute(_CANDIDATES).all():
        found = _remember((key, version), source)
        if found is not None:
            out[(key, version)] = found
    return out


def restriction(session: Session, key: str, version: int) -> Restriction | None:
    """The restriction of one version, if it has one: a record's look-up costs a dictionary hit once
    its version was seen."""
    with _lock:
        if (key, version) in _known:
            return _known[(key, version)]
    row = session.execute(_ONE, {"key": key, "version": version}).first()
    if row is None:
        return None
    if row.status == "draft":  # a draft's source may still change; records never run on one
        return _parse(row.source)
    return _remember((key, version), row.source)


def hidden_versions(session: Session, user: Principal) -> list[Version]:
    """The restricted versions whose records the user sees only as a participant."""
    return [pair for pair, r in restrictions(session).items() if not r.names(user)]


def named(session: Session, user: Principal) -> ColumnElement[bool] | None:
    """A filter for the record list of someone who does not see every record: the records of the
    versions whose section names them (a catalogue every requester reads), as `may_see` lets them see
    each one; None when no section names them."""
    shown = [pair for pair, r in restrictions(session).items() if r.names(user)]
    if not shown:
        return None
    return or_(*(and_(_RECORDS.c.definition_key == k, _RECORDS.c.definition_version == v) for k, v in shown))


def listed(session: Session, user: Principal) -> ColumnElement[bool] | None:
    """A filter for the record list: records of hidden versions only where the user is the requester
    or the assignee (the list's own participant columns); None when nothing is hidden."""
    hidden = hidden_versions(session, user)
    if not hidden:
        return None
    in_hidden = or_(
        *(and_(_RECORDS.c.definition_key == k, _RECORDS.c.definition_version == v) for k, v in hidden)
    )
    return or_(not_(in_hidden), _RECORDS.c.requester == user.username, _RECORDS.c.assignee == user.username)
