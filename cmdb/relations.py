"""Relationships between CIs: allowed by their type's classes, never duplicated, never closing a loop
of a type that forbids cycles (checked in the database with a recursive query)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from cmdb.cis import add_version, check_record, ensure_active, load
from cmdb.errors import CmdbError, not_found
from cmdb.issues import Issue
from cmdb.model import CmdbModel, RelationType
from cmdb.models import now
from cmdb.tables import CiRow, RelationRow
from cmdb.views import RelationOut

# Whether `source` is reachable from `target` along relationships of one type: adding source -> target
# would then close a loop. UNION (not UNION ALL) keeps each CI once, so the walk ends on any graph.
_REACHES = text(
    """
    WITH RECURSIVE reach(id) AS (
        SELECT CAST(:target AS INTEGER)
        UNION
        SELECT r.target_id FROM cmdb_relations r JOIN reach ON r.source_id = reach.id WHERE r.type = :type
    )
    SELECT 1 FROM reach WHERE id = :source LIMIT 1
    """
)


def relation_type(model: CmdbModel, name: str, path: str = "type") -> RelationType:
    rel = model.relation(name)
    if rel is None:
        known = ", ".join(r.name for r in model.relations)
        raise CmdbError(
            422,
            "InvalidRelation",
            f"unknown relationship type '{name}'",
            f"未知的关系类型 '{name}'",
            [Issue(path, f"unknown relationship type; known: {known}", f"未知的关系类型；已有：{known}")],
        )
    return rel


def refusal(rel: RelationType, source: str, target: str, prefix: str = "") -> Issue | None:
    """Why a `source` class CI may not `rel` a `target` class CI, if it may not."""
    if rel.sources and source not in rel.sources:
        return Issue(
            f"{prefix}source",
            f"a '{source}' cannot be the source of '{rel.name}' (allowed: {', '.join(rel.sources)})",
            f"'{source}' 不能作为 '{rel.label.zh}' 关系的起点（允许：{', '.join(rel.sources)}）",
        )
    if rel.targets and target not in rel.targets:
        return Issue(
            f"{prefix}target",
            f"a '{target}' cannot be the target of '{rel.name}' (allowed: {', '.join(rel.targets)})",
            f"'{target}' 不能作为 '{rel.label.zh}' 关系的终点（允许：{', '.join(rel.targets)}）",
        )
    return None


def closes_loop(session: Session, rel: RelationType, source_id: int, target_id: int) -> bool:
    if not rel.acyclic:
        return False
    if source_id == target_id:
        return True
    found = session.connection().execute(
        _REACHES, {"target": target_id, "source": source_id, "type": rel.name}
    )
    return found.first() is not None


def loop_issue(rel: RelationType, prefix: str = "") -> Issue:
    return Issue(
        f"{prefix}target",
        f"'{rel.name}' forbids cycles, and the target already leads back to the source",
        f"'{rel.label.zh}' 关系不允许形成环，而终点已能经此类关系回到起点",
    )


def create(
    session: Session,
    *,
    model: CmdbModel,
    type_name: str,
    source_id: int,
    target_id: int,
    actor: str,
    record: str | None = None,
) -> RelationRow:
    rel = relation_type(model, type_name)
    source, target = load(session, source_id), load(session, target_id)
    ensure_active(source)
    ensure_active(target)
    check_record(session, record)
    issue = refusal(rel, source.class_name, target.class_name)
    if issue is None and closes_loop(session, rel, source_id, target_id):
        issue = loop_issue(rel)
    if issue is not None:
        raise CmdbError(
            422, "InvalidRelation", "the relationship is not allowed", "不允许建立此关系", [issue]
        )
    row = RelationRow(
        type=rel.name,
        source_id=source_id,
        target_id=target_id,
        created_by=actor,
        created_at=now(),
        record_number=record,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise CmdbError(
            409,
            "DuplicateRelation",
            f"CI {source_id} already {rel.label.en} CI {target_id}",
            f"配置项 {source_id} 已{rel.label.zh}配置项 {target_id}",
        ) from None
    change = {"relation": {"type": rel.name, "source": source_id, "target": target_id}}
    for end in {source_id, target_id}:
        add_version(session, end, actor, "related", change, record)
    return row


def delete(session: Session, *, relation_id: int, actor: str, record: str | None = None) -> None:
    row = session.get(RelationRow, relation_id)
    if row is None:
        raise not_found(f"relationship {relation_id}", f"关系 {relation_id}")
    check_record(session, record)
    change = {"relation": {"type": row.type, "source": row.source_id, "target": row.target_id}}
    for end in {row.source_id, row.target_id}:
        add_version(session, end, actor, "unrelated", change, record)
    session.delete(row)
    session.flush()


def of(session: Session, model: CmdbModel, ci_id: int) -> list[RelationOut]:
    """A CI's relationships, each read from its side (outgoing: the type's label; incoming: its inverse)."""
    rows = session.exec(
        select(RelationRow, CiRow)
        .join(
            CiRow,
            or_(
                (RelationRow.source_id == ci_id) & (CiRow.id == RelationRow.target_id),
                (RelationRow.target_id == ci_id) & (CiRow.id == RelationRow.source_id),
            ),
        )
        .order_by(col(RelationRow.id))
        .limit(1000)
    ).all()
    out = []
    for rel, other in rows:
        kind = model.relation(rel.type)
        outgoing = rel.source_id == ci_id
        label = (
            (kind.label if outgoing else kind.inverse).model_dump()
            if kind
            else {"zh": rel.type, "en": rel.type}
        )
        out.append(
            RelationOut(
                id=rel.id or 0,
                type=rel.type,
                label=label,
                direction="outgoing" if outgoing else "incoming",
                ci=other.id or 0,
                ci_name=other.name,
                ci_class=other.class_name,
                created_by=rel.created_by,
                created_at=rel.created_at,
                record=rel.record_number,
            )
        )
    return out
