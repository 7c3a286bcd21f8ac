"""Which records checked reference values name, as the read model says now, with the words (title,
state labels) of the processes they should belong to, and which CIs `ci` fields name
(cmdb/named.py): the worker's `resolve_references` activity (the workflow's own check) and the
launcher's pre-check of a new record both read it here.

It reads every record, whatever a definition's `visibility:` says: the check is the engine's, not a
person's read, and tells no more than which process and state the named record has."""

from __future__ import annotations

from sqlalchemy import Engine, Table, bindparam, select

from client import launch  # launch checks new records here: a module reference breaks the cycle
from cmdb.named import class_words, model_in_force, named_cis
from core.db import session_scope
from core.tables import RecordRow
from workflows.contracts import (
    ReferencedCi,
    ReferencedProcess,
    ReferencedRecord,
    ResolveReferencesInput,
    ResolveReferencesResult,
)

_RECORDS: Table = RecordRow.__table__  # type: ignore[attr-defined]
_COLUMNS = (_RECORDS.c.id, _RECORDS.c.number, _RECORDS.c.definition_key, _RECORDS.c.state)
_BY_ID = select(*_COLUMNS).where(_RECORDS.c.id == bindparam("ref"))
_BY_NUMBER = select(*_COLUMNS).where(_RECORDS.c.number == bindparam("ref"))


def resolve_references(engine: Engine, inp: ResolveReferencesInput) -> ResolveReferencesResult:
    found: list[ReferencedRecord] = []
    with session_scope(engine) as session:
        for ref in dict.fromkeys(inp.refs):
            row = session.execute(_BY_ID, {"ref": ref}).first() if len(ref) <= 64 else None
            if row is None:
                row = session.execute(_BY_NUMBER, {"ref": ref}).first()
            if row is not None:
                found.append(
                    ReferencedRecord(
                        ref=ref, id=row.id, number=row.number, definition=row.definition_key, state=row.state
                    )
                )
        cis: list[ReferencedCi] = []
        class_labels: dict[str, dict[str, str]] = {}
        if inp.cis:
            model = model_in_force(session)
            named = named_cis(session, inp.cis)
            class_labels = class_words(model, {c for _, _, c, _ in named} | set(inp.ci_classes))
            cis = [
                ReferencedCi(
                    id=ci_id,
                    name=name,
                    class_name=cls,
                    class_label=class_labels.get(cls, {}),
                    retired=retired,
                )
                for ci_id, name, cls, retired in named
            ]
    words = [_words(engine, key) for key in inp.processes]
    return ResolveReferencesResult(
        found=found, processes=[p for p in words if p is not None], cis=cis, class_labels=class_labels
    )


def _words(engine: Engine, key: str) -> ReferencedProcess | None:
    """The newest published version's title and state labels; none when it is not published."""
    try:
        d = launch.pinned_definition(engine, key).definition
    except launch.DefinitionNotFound:
        return None
    states = {s.name: s.label.model_dump() for s in d.states if s.label is not None}
    return ReferencedProcess(key=key, title=d.title.model_dump(), states=states)
