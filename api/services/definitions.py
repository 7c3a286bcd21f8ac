"""The definition lifecycle: draft -> published -> retired, with who did what and when.

A version's source never changes once stored; publishing makes it the one new records get, while
running records keep the version they were pinned to. Every step is kept in `definition_events`.
"""

from __future__ import annotations

from typing import Literal, cast

from sqlmodel import Session, col, select

from api.auth import Principal
from api.identity import audit
from api.problems import FieldError, ProblemError, conflict, not_found
from api.schemas import (
    DefinitionEventOut,
    DefinitionListItem,
    DefinitionOut,
    DefinitionRef,
    DefinitionVersionOut,
    ValidationOut,
)
from core.store import add_definition_version, get_definition, latest_published, set_definition_status
from core.tables import DefinitionEventRow, DefinitionRow
from definitions.creations import automatic_creations, creation_cycle
from definitions.diagram import to_mermaid
from definitions.fieldrights import rules_for
from definitions.loader import LoadResult, definition_hash, load_text
from definitions.model import BUILTIN_FIELDS, Definition
from definitions.permissions import permits
from workflows.contracts import FieldSpec

Status = Literal["draft", "published", "retired"]
# Built-in fields a client sets when it creates a record (title is its own body field; the requester
# defaults to the caller).
START_BUILTINS = ("assignee", "assignment_group")


def check_source(source: str) -> LoadResult:
    return load_text(source)


def validation(source: str, lang: str = "en") -> ValidationOut:
    """The definition's problems, each in the caller's language (definitions/issue_words.py)."""
    result = check_source(source)
    return ValidationOut(
        valid=result.ok, errors=[FieldError(path=i.path, message=i.text(lang)) for i in result.issues]
    )


def _ref(row: DefinitionRow) -> DefinitionRef:
    return DefinitionRef(key=row.key, version=row.version, status=cast(Status, row.status))


def _parsed(row: DefinitionRow) -> Definition:
    result = load_text(row.source)
    if result.definition is None:  # stored sources were valid when stored
        raise ProblemError(500, f"stored definition {row.key} v{row.version} no longer parses")
    return result.definition


def start_fields(d: Definition, user: Principal | None = None) -> list[FieldSpec]:
    """What a new record takes, in the shape of a transition's required fields; with `user`, each says
    whether they may set it (`editable`)."""
    initial = d.state(d.initial)
    required_here = set(initial.required if initial else [])
    derived = {d.priority_matrix.priority_field} if d.priority_matrix else set()
    specs = [
        FieldSpec(
            name=f.name,
            type=f.type,
            required=f.required or f.name in required_here,
            values=f.values,
            label=f.label.model_dump() if f.label else None,
            reference=f.reference,
            reference_states=f.reference_states,
        )
        for f in d.fields
        if f.name not in derived and f.name not in ("title", "requester")
    ]
    declared = {f.name for f in d.fields}
    specs += [
        FieldSpec(name=name, type=BUILTIN_FIELDS[name], required=name in required_here)
        for name in START_BUILTINS
        if name not in declared
    ]
    if user is None:
        return specs
    return [s.model_copy(update={"editable": creator_may_set(d, user, s.name)}) for s in specs]


def creator_may_set(d: Definition, user: Principal, name: str) -> bool:
    """Whether no `field_rights` rule of the initial state keeps field `name` from this creator: the
    engine's own check at creation (ProcessEngine.create), which reads the creator as the requester."""
    rules = rules_for(d, name, d.initial)
    record = {"requester": user.username}
    return not rules or any(
        permits(d, r.editors, username=user.username, roles=user.roles, groups=user.groups, fields=record)
        for r in rules
    )


def create_draft(session: Session, *, source: str, user: Principal) -> DefinitionRef:
    result = check_source(source)
    if not result.ok or result.definition is None:
        raise ProblemError(
            422,
            f"the definition has {len(result.issues)} problem(s); each is listed with its path",
            errors=[{"path": i.path, "message": i.message, "zh": i.text("zh")} for i in result.issues],
            kind="InvalidDefinition",
            zh=f"定义有 {len(result.issues)} 个问题，逐条列出了位置",
        )
    d = result.definition
    row = add_definition_version(
        session,
        key=d.key,
        source=source,
        digest=definition_hash(d),
        title_en=d.title.en,
        title_zh=d.title.zh,
        actor=user.username,
    )
    return _ref(row)


def _row(session: Session, key: str, version: int | None) -> DefinitionRow:
    row = get_definition(session, key, version)
    if row is None:
        what = f"definition '{key}'" + (f" version {version}" if version is not None else "")
        raise not_found(f"no {what}", zh=f"没有该定义版本（{what}）")
    return row


def definition_row(session: Session, key: str, version: int) -> DefinitionRow:
    """A stored version, or 404."""
    return _row(session, key, version)


def publish(session: Session, *, key: str, version: int, user: Principal) -> DefinitionRef:
    row = _row(session, key, version)
    if row.status != "draft":
        raise conflict(
            f"{key} version {version} is {row.status}; only a draft can be published",
            "WrongState",
            zh=f"{key} 第 {version} 版状态为 {row.status}；只有草稿可以发布",
        )
    _refuse_creation_cycle(session, row)
    _refuse_unknown_reference_states(session, row)
    audit.record(session, actor=user.username, action="definition.published", target=f"{key} v{version}")
    return _ref(set_definition_status(session, row, status="published", actor=user.username))


def _refuse_creation_cycle(session: Session, row: DefinitionRow) -> None:
    """Refuse a publication that closes a loop of processes creating each other's records without
    anyone acting (A's timed transition creates a B, whose SLA threshold creates an A, …): each
    record would start the next, forever. A process creating itself is refused at validation."""
    rows = session.exec(select(DefinitionRow).order_by(col(DefinitionRow.key), col(DefinitionRow.version)))
    sources = {r.key: r.source for r in rows if r.status == "published"}  # the newest published wins
    sources[row.key] = row.source
    creates: dict[str, set[str]] = {}
    for key, source in sources.items():
        definition = load_text(source).definition
        if definition is not None:
            creates[key] = {spec.definition for _, spec in automatic_creations(definition)}
    cycle = creation_cycle(creates)
    if cycle is not None and row.key in cycle:
        path = " → ".join(cycle)
        raise ProblemError(
            422,
            f"publishing {row.key} would make processes create each other's records without anyone "
            f"acting, forever: {path} / 发布后这些流程会无人操作地互相创建记录，永不停止：{path}",
            errors=[{"path": "effects.create_record.definition", "message": f"creation loop {path}"}],
            kind="CreationLoop",
        )


def _refuse_unknown_reference_states(session: Session, row: DefinitionRow) -> None:
    """A checked reference field's states must be states of the process it names, when that process is
    published (itself included); one published later is not checked back: until it is, no record of it
    exists and the engine refuses every value (docs/process-owners-guide.md)."""
    d = load_text(row.source).definition
    errors: list[dict[str, str]] = []
    for i, f in enumerate(d.fields if d is not None else []):
        if not (f.reference and f.reference_states):
            continue
        target = d if d is not None and f.reference == d.key else None
        if target is None:
            published = latest_published(session, f.reference)
            target = load_text(published.source).definition if published is not None else None
        known = {s.name for s in target.states} if target is not None else None
        errors += [
            {"path": f"fields[{i}].reference_states[{j}]", "message": f"'{f.reference}' has no state '{s}'"}
            for j, s in enumerate(f.reference_states)
            if known is not None and s not in known
        ]
    if errors:
        where = "; ".join(f"{e['path']}: {e['message']}" for e in errors)
        raise ProblemError(
            422,
            "a reference field names states its process does not have / "
            f"引用字段列出的状态在被引用流程中不存在：{where}",
            errors=errors,
            kind="InvalidDefinition",
        )


def retire(session: Session, *, key: str, version: int, user: Principal) -> DefinitionRef:
    row = _row(session, key, version)
    if row.status == "retired":
        raise conflict(
            f"{key} version {version} is already retired", "WrongState", zh=f"{key} 第 {version} 版已停用"
        )
    audit.record(session, actor=user.username, action="definition.retired", target=f"{key} v{version}")
    return _ref(set_definition_status(session, row, status="retired", actor=user.username))


def list_definitions(session: Session) -> list[DefinitionListItem]:
    rows = session.exec(
        select(DefinitionRow).order_by(col(DefinitionRow.key), col(DefinitionRow.version))
    ).all()
    latest: dict[str, DefinitionRow] = {}
    published: dict[str, int] = {}
    for row in rows:
        latest[row.key] = row
        if row.status == "published":
            published[row.key] = row.version
    return [
        DefinitionListItem(
            key=row.key,
            version=row.version,
            status=cast(Status, row.status),
            title={"zh": row.title_zh, "en": row.title_en},
            published_version=published.get(row.key),
        )
        for row in latest.values()
    ]


def _default_row(session: Session, key: str, version: int | None) -> DefinitionRow:
    """A given version, else the one new records get, else the newest draft."""
    if version is None:
        row = latest_published(session, key)
        if row is not None:
            return row
    return _row(session, key, version)


def get_one(
    session: Session, *, key: str, version: int | None, user: Principal | None = None
) -> DefinitionOut:
    row = _default_row(session, key, version)
    d = _parsed(row)
    return DefinitionOut(
        key=row.key,
        version=row.version,
        status=cast(Status, row.status),
        title={"zh": row.title_zh, "en": row.title_en},
        hash=row.hash,
        source=row.source,
        definition=d.model_dump(mode="json", by_alias=True, exclude_none=True),
        start_fields=start_fields(d, user),
        created_by=row.created_by,
        created_at=row.created_at,
        published_by=row.published_by,
        published_at=row.published_at,
        retired_by=row.retired_by,
        retired_at=row.retired_at,
    )


def versions(session: Session, *, key: str) -> list[DefinitionVersionOut]:
    rows = session.exec(
        select(DefinitionRow).where(DefinitionRow.key == key).order_by(col(DefinitionRow.version))
    ).all()
    if not rows:
        raise not_found(f"no definition '{key}'", zh=f"没有流程定义“{key}”")
    events = session.exec(
        select(DefinitionEventRow)
        .where(DefinitionEventRow.key == key)
        .order_by(col(DefinitionEventRow.at), col(DefinitionEventRow.id))
    ).all()
    return [
        DefinitionVersionOut(
            key=row.key,
            version=row.version,
            status=cast(Status, row.status),
            hash=row.hash,
            created_by=row.created_by,
            created_at=row.created_at,
            published_by=row.published_by,
            published_at=row.published_at,
            retired_by=row.retired_by,
            retired_at=row.retired_at,
            publication_requested_by=row.publication_requested_by,
            publication_requested_at=row.publication_requested_at,
            events=[
                DefinitionEventOut(action=e.action, actor=e.actor, at=e.at)
                for e in events
                if e.version == row.version
            ],
        )
        for row in rows
    ]


def diagram(session: Session, *, key: str, version: int | None, lang: str) -> str:
    return to_mermaid(_parsed(_default_row(session, key, version)), lang=lang)
