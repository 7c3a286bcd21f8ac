"""Bulk import, idempotent by each class's key, checked whole before anything is written.

An import is one transaction: every row is checked first (class, attributes, unique keys in the file
and in the database, relationships' classes and cycles), and if any row has an error nothing is
written and every error is reported with its line and column. A dry run stops after the checks. A row
whose CI exists (same class and key) updates it, or changes nothing if it is equal: importing the same
file twice writes nothing the second time. Writes are batched (one statement per 1,000 rows).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, insert, select, update
from sqlmodel import Session

from cmdb.bulk_parse import CiInput, Parsed, RelationInput
from cmdb.cis import check, key_of, unique_values
from cmdb.errors import change_required
from cmdb.model import CmdbModel
from cmdb.models import now
from cmdb.relations import refusal
from cmdb.statistics import refresh_statistics
from cmdb.tables import CiKeyRow, CiRow, CiVersionRow, RelationRow
from cmdb.views import ImportReport, RowIssue

CHUNK = 1000
T = TypeVar("T")
CIS: Table = CiRow.__table__  # type: ignore[attr-defined]
KEYS: Table = CiKeyRow.__table__  # type: ignore[attr-defined]
RELS: Table = RelationRow.__table__  # type: ignore[attr-defined]
VERSIONS: Table = CiVersionRow.__table__  # type: ignore[attr-defined]


def chunks(items: list[T], size: int = CHUNK) -> Iterator[list[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class _Plan:
    """What the import would do, and what is wrong with it."""

    def __init__(self) -> None:
        self.errors: list[RowIssue] = []
        self.create: list[dict[str, Any]] = []  # CI rows to insert (with "_keys" and "_line")
        self.change: list[tuple[int, dict[str, Any], dict[str, Any]]] = []  # id, new values, changes
        self.unchanged = 0
        self.ref: dict[tuple[str, str], int | dict[str, Any]] = {}  # (class, key) -> id or a row to create
        self.relations: list[tuple[str, Any, Any]] = []
        self.relations_existing = 0


def _keys_in_db(session: Session, classes: Iterable[str]) -> dict[tuple[str, str, str], int]:
    out: dict[tuple[str, str, str], int] = {}
    for part in chunks(sorted(set(classes)), 50):
        for c, a, v, i in session.execute(
            select(KEYS.c.class_name, KEYS.c.attribute, KEYS.c.value, KEYS.c.ci_id).where(
                KEYS.c.class_name.in_(part)
            )
        ):
            out[(c, a, v)] = i
    return out


def _plan_cis(session: Session, model: CmdbModel, rows: list[CiInput], lang: str, plan: _Plan) -> None:
    def err(row: CiInput, path: str, en: str, zh: str) -> None:
        plan.errors.append(
            RowIssue(line=row.line, column=row.column(path), message=zh if lang == "zh" else en)
        )

    db_keys = _keys_in_db(session, (r.class_name for r in rows if isinstance(r.class_name, str)))
    in_file: dict[tuple[str, str, str], int] = {}
    matched: dict[int, tuple[CiInput, str, dict[str, Any]]] = {}
    for row in rows:
        cls = model.ci_class(row.class_name) if isinstance(row.class_name, str) else None
        if cls is None:
            err(row, "class", f"unknown class '{row.class_name}'", f"未知的类 '{row.class_name}'")
            continue
        attrs, issues = check(cls, row.name, row.attributes)
        for issue in issues:
            err(row, issue.path, issue.en, issue.zh)
        key = key_of(cls, row.name, attrs) if isinstance(row.name, str) else None
        existing = db_keys.get((cls.name, cls.key, key)) if key is not None else None
        clash = False
        for attribute, value in unique_values(
            cls, row.name if isinstance(row.name, str) else "", attrs
        ).items():
            path = "name" if attribute == "name" else f"attributes.{attribute}"
            other = in_file.setdefault((cls.name, attribute, value), row.line)
            if other != row.line:
                err(
                    row,
                    path,
                    f"'{value}' repeats line {other}; it must be unique",
                    f"'{value}' 与第 {other} 行重复，须唯一",
                )
                clash = True
            holder = db_keys.get((cls.name, attribute, value))
            if holder is not None and holder != existing:
                err(
                    row,
                    path,
                    f"'{value}' belongs to CI {holder}; it must be unique",
                    f"'{value}' 已属于配置项 {holder}，须唯一",
                )
                clash = True
        if clash or issues or key is None:
            continue
        keys = unique_values(cls, row.name, attrs)
        if existing is None:
            new = {"class_name": cls.name, "name": row.name, "attributes": attrs, "_keys": keys}
            plan.create.append(new)
            plan.ref[(cls.name, key)] = new
        else:
            matched[existing] = (row, row.name, attrs)
            plan.ref[(cls.name, key)] = existing
    for part in chunks(sorted(matched)):
        for ci_id, name, attributes in session.execute(
            select(CIS.c.id, CIS.c.name, CIS.c.attributes).where(CIS.c.id.in_(part))
        ):
            row, new_name, attrs = matched[ci_id]
            changes = {
                k: [attributes.get(k), attrs.get(k)]
                for k in sorted(set(attributes) | set(attrs))
                if attributes.get(k) != attrs.get(k)
            }
            if new_name != name:
                changes["name"] = [name, new_name]
            if changes:
                cls = model.ci_class(row.class_name)
                assert cls is not None
                if cls.requires_change:
                    refusal = change_required(cls.label.en, cls.label.zh, name, ci_id)
                    err(row, "class", refusal.en, refusal.zh)
                    continue
                keys = unique_values(cls, new_name, attrs)
                plan.change.append(
                    (
                        ci_id,
                        {"class_name": cls.name, "name": new_name, "attributes": attrs, "_keys": keys},
                        changes,
                    )
                )
            else:
                plan.unchanged += 1


def _resolve(session: Session, model: CmdbModel, plan: _Plan, end: Any) -> tuple[Any, str]:
    """The CI a relationship's end names ({"class", "key"}): a row of this import, else a stored CI."""
    if not isinstance(end, dict) or set(end) != {"class", "key"} or not isinstance(end["class"], str):
        return None, ""
    cls = model.ci_class(end["class"])
    if cls is None:
        return None, ""
    key = str(end["key"])
    found = plan.ref.get((cls.name, key))
    if found is None:
        hit = session.execute(
            select(KEYS.c.ci_id).where(
                KEYS.c.class_name == cls.name, KEYS.c.attribute == cls.key, KEYS.c.value == key
            )
        ).first()
        found = hit[0] if hit else None
    return found, cls.name


def _plan_relations(
    session: Session, model: CmdbModel, rows: list[RelationInput], lang: str, plan: _Plan
) -> None:
    def err(row: RelationInput, column: str, en: str, zh: str) -> None:
        plan.errors.append(
            RowIssue(line=row.line, column=f"relations.{column}", message=zh if lang == "zh" else en)
        )

    wanted: list[tuple[RelationInput, str, Any, Any]] = []
    for row in rows:
        rel = model.relation(row.type) if isinstance(row.type, str) else None
        if rel is None:
            err(row, "type", f"unknown relationship type '{row.type}'", f"未知的关系类型 '{row.type}'")
            continue
        ends: list[tuple[Any, str]] = []
        for column, end in (("source", row.source), ("target", row.target)):
            found, cls_name = _resolve(session, model, plan, end)
            if found is None:
                err(
                    row,
                    column,
                    f"no CI {end!r} in this import or the CMDB",
                    f"本次导入与配置库中都没有配置项 {end!r}",
                )
            ends.append((found, cls_name))
        if any(f is None for f, _ in ends):
            continue
        (s, s_class), (t, t_class) = ends
        issue = refusal(rel, s_class, t_class)
        if issue is not None:
            err(row, issue.path, issue.en, issue.zh)
            continue
        wanted.append((row, rel.name, s, t))
    existing_ids = sorted({x for _, _, s, t in wanted for x in (s, t) if isinstance(x, int)})
    edges: set[tuple[str, int, int]] = set()
    for part in chunks(existing_ids):
        edges |= {
            tuple(r)
            for r in session.execute(
                select(RELS.c.type, RELS.c.source_id, RELS.c.target_id).where(RELS.c.source_id.in_(part))
            )
        }
    seen: set[tuple[str, int, int]] = set()
    for _row, type_name, s, t in wanted:
        sig = (type_name, id(s) if isinstance(s, dict) else s, id(t) if isinstance(t, dict) else t)
        if sig in seen or (isinstance(s, int) and isinstance(t, int) and (type_name, s, t) in edges):
            plan.relations_existing += 1
            continue
        seen.add(sig)
        plan.relations.append((type_name, s, t))
    _refuse_loops(session, model, plan, wanted, lang)


def node(x: Any) -> tuple[str, int]:
    """A relationship's end: a CI to be created (by identity) or a stored one (by id)."""
    return ("new", id(x)) if isinstance(x, dict) else ("ci", x)


def _refuse_loops(
    session: Session,
    model: CmdbModel,
    plan: _Plan,
    wanted: list[tuple[RelationInput, str, Any, Any]],
    lang: str,
) -> None:
    """Relationships of a type that forbids cycles may not close one, with the stored ones. Checked
    per type on the edges of that type (Kahn's algorithm): the CIs left over lie on or behind a loop,
    and a new relationship between two of them is reported."""
    for rel in model.relations:
        new = [(row, s, t) for row, name, s, t in wanted if name == rel.name]
        if not rel.acyclic or not new:
            continue
        graph: dict[Any, list[Any]] = defaultdict(list)
        indegree: dict[Any, int] = defaultdict(int)
        pairs = [(node(s), node(t)) for _, s, t in new]
        for part in chunks(
            list(session.execute(select(RELS.c.source_id, RELS.c.target_id).where(RELS.c.type == rel.name))),
            10_000,
        ):
            pairs += [(("ci", a), ("ci", b)) for a, b in part]
        for a, b in pairs:
            graph[a].append(b)
            indegree[b] += 1
            indegree.setdefault(a, 0)
        queue = deque(n for n, d in indegree.items() if d == 0)
        while queue:
            n = queue.popleft()
            for m in graph[n]:
                indegree[m] -= 1
                if indegree[m] == 0:
                    queue.append(m)
        left = {n for n, d in indegree.items() if d > 0}
        for row, s, t in new:
            if node(s) in left and node(t) in left or node(s) == node(t):
                msg = (
                    f"'{rel.label.zh}' 关系不允许形成环，此关系会闭合一个环",
                    f"'{rel.name}' forbids cycles; this relationship closes one",
                )
                plan.errors.append(
                    RowIssue(
                        line=row.line, column="relations.target", message=msg[0] if lang == "zh" else msg[1]
                    )
                )


def run(
    session: Session,
    model: tuple[int, CmdbModel],
    parsed: Parsed,
    *,
    actor: str,
    lang: str = "en",
    dry_run: bool = False,
    record: str | None = None,
) -> ImportReport:
    version, m = model
    plan = _Plan()
    plan.errors += parsed.errors
    _plan_cis(session, m, parsed.cis, lang, plan)
    _plan_relations(session, m, parsed.relations, lang, plan)
    plan.errors.sort(key=lambda e: (e.column.startswith("relations."), e.line))
    report = ImportReport(
        dry_run=dry_run,
        rows=len(parsed.cis) + len(parsed.relations),
        created=len(plan.create),
        updated=len(plan.change),
        unchanged=plan.unchanged,
        relations_created=len(plan.relations),
        relations_existing=plan.relations_existing,
        errors=plan.errors,
    )
    if dry_run or plan.errors:
        return report
    _write(session, version, plan, actor, record)
    refresh_statistics(session, len(plan.create) + len(plan.change) + len(plan.relations))
    return report


def _write(session: Session, version: int, plan: _Plan, actor: str, record: str | None) -> None:
    at = now()
    conn = session.connection()
    versions: list[dict[str, Any]] = []
    keys: list[dict[str, Any]] = []
    for part in chunks(plan.create):
        values = [
            {
                "class_name": c["class_name"],
                "name": c["name"],
                "status": "active",
                "attributes": c["attributes"],
                "model_version": version,
                "created_by": actor,
                "created_at": at,
                "updated_by": actor,
                "updated_at": at,
            }
            for c in part
        ]
        ids = (
            conn.execute(insert(CIS).returning(CIS.c.id, sort_by_parameter_order=True), values)
            .scalars()
            .all()
        )
        for c, ci_id in zip(part, ids, strict=True):
            c["id"] = ci_id
            keys += [
                {"class_name": c["class_name"], "attribute": a, "value": v, "ci_id": ci_id}
                for a, v in c["_keys"].items()
            ]
            versions.append(
                {
                    "ci_id": ci_id,
                    "action": "created",
                    "changes": {
                        "name": [None, c["name"]],
                        **{k: [None, v] for k, v in c["attributes"].items()},
                    },
                }
            )
    if plan.change:
        changed = [ci_id for ci_id, _, _ in plan.change]
        for ids in chunks(changed):
            conn.execute(KEYS.delete().where(KEYS.c.ci_id.in_(ids)))
        conn.execute(
            update(CIS)
            .where(CIS.c.id == bindparam("ci"))
            .values(
                name=bindparam("n"),
                attributes=bindparam("a"),
                model_version=version,
                updated_by=actor,
                updated_at=at,
            ),
            [{"ci": ci_id, "n": new["name"], "a": new["attributes"]} for ci_id, new, _ in plan.change],
        )
        for ci_id, new, changes in plan.change:
            keys += [
                {"class_name": new["class_name"], "attribute": a, "value": v, "ci_id": ci_id}
                for a, v in new["_keys"].items()
            ]
            versions.append({"ci_id": ci_id, "action": "updated", "changes": changes})
    for part in chunks(keys):
        conn.execute(insert(KEYS), part)
    relations = [
        {
            "type": t,
            "source_id": s["id"] if isinstance(s, dict) else s,
            "target_id": d["id"] if isinstance(d, dict) else d,
            "created_by": actor,
            "created_at": at,
            "record_number": record,
        }
        for t, s, d in plan.relations
    ]
    for part in chunks(relations):
        conn.execute(insert(RELS), part)
    for r in relations:
        change = {"relation": {"type": r["type"], "source": r["source_id"], "target": r["target_id"]}}
        versions += [
            {"ci_id": end, "action": "related", "changes": change} for end in {r["source_id"], r["target_id"]}
        ]
    for part in chunks(versions):
        conn.execute(
            insert(VERSIONS), [{**v, "at": at, "actor": actor, "record_number": record} for v in part]
        )
