"""Configuration items: checked against the model in force, unique keys held in `cmdb_ci_keys`, and
every change kept as a version (who, when, what, through which record)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from cmdb.errors import CmdbError, change_required, invalid, not_found
from cmdb.issues import Issue
from cmdb.model import CiClass, CmdbModel
from cmdb.models import now
from cmdb.tables import CiKeyRow, CiRow, CiVersionRow, RelationRow
from cmdb.values import Bad, key_text, normalise
from cmdb.views import CiOut, RelationOut, VersionOut, VersionPage
from core.tables import RecordRow

MAX_NAME = 200


def class_of(model: CmdbModel, name: str, path: str = "class") -> CiClass:
    cls = model.ci_class(name)
    if cls is None:
        known = ", ".join(c.name for c in model.classes)
        raise invalid(
            [Issue(path, f"unknown class '{name}'; known: {known}", f"未知的类 '{name}'；已有：{known}")],
            f"unknown CI class '{name}'",
            f"未知的配置项类 '{name}'",
        )
    return cls


def check(
    cls: CiClass, name: Any, attributes: Mapping[str, Any], prefix: str = ""
) -> tuple[dict[str, Any], list[Issue]]:
    """The attributes normalised, and every issue, each with its field's path."""
    issues: list[Issue] = []
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        issues.append(
            Issue(
                f"{prefix}name",
                f"a name of 1 to {MAX_NAME} characters is required",
                f"名称必填，1 至 {MAX_NAME} 个字符",
            )
        )
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        attr = cls.attribute(key)
        path = f"{prefix}attributes.{key}"
        if attr is None:
            known = ", ".join(a.name for a in cls.attributes) or "none"
            issues.append(
                Issue(
                    path,
                    f"class '{cls.name}' has no attribute '{key}'; known: {known}",
                    f"类 '{cls.name}' 没有属性 '{key}'；已有：{known}",
                )
            )
            continue
        if value is None or value == "":
            continue
        try:
            out[key] = normalise(attr, value)
        except Bad as bad:
            issues.append(Issue(path, bad.en, bad.zh))
    for attr in cls.attributes:
        path = f"{prefix}attributes.{attr.name}"
        if attr.required and attr.name not in out and not any(i.path == path for i in issues):
            issues.append(
                Issue(
                    path,
                    f"'{attr.label.en}' is required for class '{cls.name}'",
                    f"类 '{cls.name}' 的 '{attr.label.zh}' 为必填",
                )
            )
    return out, issues


def unique_values(cls: CiClass, name: str, attributes: Mapping[str, Any]) -> dict[str, str]:
    """attribute -> key text of every unique value the CI holds (its name, if the class key is name)."""
    keys = {a.name: key_text(attributes[a.name]) for a in cls.attributes if a.unique and a.name in attributes}
    if cls.key == "name":
        keys["name"] = name
    return keys


def key_of(cls: CiClass, name: str, attributes: Mapping[str, Any]) -> str | None:
    """The CI's identifying value (its class's key attribute)."""
    value = name if cls.key == "name" else attributes.get(cls.key)
    return None if value is None else key_text(value)


def check_record(session: Session, record: str | None, path: str = "record") -> None:
    """A change made through a record names one that exists."""
    if (
        record is not None
        and session.exec(select(RecordRow.id).where(RecordRow.number == record)).first() is None
    ):
        raise invalid(
            [Issue(path, f"no record numbered '{record}'", f"没有编号为 '{record}' 的记录")],
            f"the record '{record}' does not exist",
            f"记录 '{record}' 不存在",
        )


def _duplicates(
    session: Session, cls: CiClass, keys: Mapping[str, str], ci_id: int | None, prefix: str = ""
) -> list[Issue]:
    if not keys:
        return []
    rows = session.exec(
        select(CiKeyRow).where(
            CiKeyRow.class_name == cls.name,
            or_(*[(col(CiKeyRow.attribute) == a) & (col(CiKeyRow.value) == v) for a, v in keys.items()]),
        )
    ).all()
    return [
        Issue(
            f"{prefix}{'name' if r.attribute == 'name' else 'attributes.' + r.attribute}",
            f"'{r.value}' is already the {r.attribute} of CI {r.ci_id};"
            f" it must be unique in class '{cls.name}'",
            f"'{r.value}' 已是配置项 {r.ci_id} 的 {r.attribute}，在类 '{cls.name}' 中必须唯一",
        )
        for r in rows
        if r.ci_id != ci_id
    ]


def duplicate_error(issues: list[Issue]) -> CmdbError:
    return CmdbError(409, "DuplicateKey", "a unique key is already taken", "唯一标识已被占用", issues)


def _set_keys(session: Session, ci: CiRow, keys: Mapping[str, str]) -> None:
    session.exec(delete(CiKeyRow).where(col(CiKeyRow.ci_id) == ci.id))  # type: ignore[call-overload]
    for attribute, value in keys.items():
        session.add(CiKeyRow(class_name=ci.class_name, attribute=attribute, value=value, ci_id=ci.id))
    try:
        session.flush()
    except IntegrityError:  # another writer took a key between the check and now
        raise duplicate_error(
            [Issue("attributes", "a unique key was taken meanwhile", "唯一标识刚被占用")]
        ) from None


def add_version(
    session: Session, ci_id: int, actor: str, action: str, changes: dict[str, Any], record: str | None
) -> None:
    session.add(
        CiVersionRow(ci_id=ci_id, at=now(), actor=actor, action=action, changes=changes, record_number=record)
    )


def create(
    session: Session,
    *,
    model: tuple[int, CmdbModel],
    class_name: str,
    name: str,
    attributes: Mapping[str, Any],
    actor: str,
    record: str | None = None,
) -> CiRow:
    version, m = model
    cls = class_of(m, class_name)
    attrs, issues = check(cls, name, attributes)
    if issues:
        raise invalid(issues)
    check_record(session, record)
    keys = unique_values(cls, name, attrs)
    clash = _duplicates(session, cls, keys, None)
    if clash:
        raise duplicate_error(clash)
    at = now()
    ci = CiRow(
        class_name=cls.name,
        name=name,
        attributes=attrs,
        model_version=version,
        created_by=actor,
        created_at=at,
        updated_by=actor,
        updated_at=at,
    )
    session.add(ci)
    session.flush()
    assert ci.id is not None
    _set_keys(session, ci, keys)
    add_version(
        session,
        ci.id,
        actor,
        "created",
        {"name": [None, name], **{k: [None, v] for k, v in attrs.items()}},
        record,
    )
    return ci


def load(session: Session, ci_id: int) -> CiRow:
    ci = session.get(CiRow, ci_id)
    if ci is None:
        raise not_found(f"configuration item {ci_id}", f"配置项 {ci_id}")
    return ci


def ensure_changeable(model: CmdbModel, ci: CiRow, through_change: bool) -> None:
    """A CI of a class that requires a change is changed only by a change's applied proposal."""
    cls = model.ci_class(ci.class_name)
    if cls is not None and cls.requires_change and not through_change:
        raise change_required(cls.label.en, cls.label.zh, ci.name, ci.id)


def ensure_active(ci: CiRow) -> None:
    if ci.status != "active":
        raise CmdbError(
            409,
            "Retired",
            f"CI {ci.id} is retired; it takes no more changes",
            f"配置项 {ci.id} 已退役，不再接受变更",
        )


def update(
    session: Session,
    *,
    model: tuple[int, CmdbModel],
    ci_id: int,
    name: str | None,
    attributes: Mapping[str, Any],
    actor: str,
    record: str | None = None,
    through_change: bool = False,
) -> CiRow:
    """Change a CI's name and attributes (an attribute set to null is removed); the whole CI is checked
    against the model in force. Nothing changed: no version."""
    version, m = model
    ci = load(session, ci_id)
    ensure_active(ci)
    ensure_changeable(m, ci, through_change)
    cls = class_of(m, ci.class_name)
    merged = {**ci.attributes, **attributes}
    merged = {k: v for k, v in merged.items() if v is not None}
    new_name = ci.name if name is None else name
    attrs, issues = check(cls, new_name, merged)
    if issues:
        raise invalid(issues)
    check_record(session, record)
    changes = {
        k: [ci.attributes.get(k), attrs.get(k)]
        for k in sorted(set(ci.attributes) | set(attrs))
        if ci.attributes.get(k) != attrs.get(k)
    }
    if new_name != ci.name:
        changes["name"] = [ci.name, new_name]
    if not changes:
        return ci
    keys = unique_values(cls, new_name, attrs)
    clash = _duplicates(session, cls, keys, ci.id)
    if clash:
        raise duplicate_error(clash)
    ci.name, ci.attributes, ci.model_version = new_name, attrs, version
    ci.updated_by, ci.updated_at = actor, now()
    session.add(ci)
    _set_keys(session, ci, keys)
    add_version(session, ci_id, actor, "updated", changes, record)
    return ci


def retire(
    session: Session,
    *,
    ci_id: int,
    actor: str,
    record: str | None = None,
    model: CmdbModel | None = None,
    through_change: bool = False,
) -> CiRow:
    """Retire a CI: its unique keys are freed and its relationships removed (each kept in the history
    of both ends); the CI and its history stay. With `model`, a class that requires a change refuses a
    retirement that is not a change's."""
    ci = load(session, ci_id)
    ensure_active(ci)
    if model is not None:
        ensure_changeable(model, ci, through_change)
    check_record(session, record)
    relations = session.exec(
        select(RelationRow).where(
            or_(col(RelationRow.source_id) == ci_id, col(RelationRow.target_id) == ci_id)
        )
    ).all()
    for rel in relations:
        change = {"relation": {"type": rel.type, "source": rel.source_id, "target": rel.target_id}}
        for end in {rel.source_id, rel.target_id}:
            add_version(session, end, actor, "unrelated", change, record)
        session.delete(rel)
    session.exec(delete(CiKeyRow).where(col(CiKeyRow.ci_id) == ci_id))  # type: ignore[call-overload]
    ci.status, ci.retired_at, ci.updated_by, ci.updated_at = "retired", now(), actor, now()
    session.add(ci)
    add_version(session, ci_id, actor, "retired", {"status": ["active", "retired"]}, record)
    session.flush()
    return ci


def out(ci: CiRow, relations: list[RelationOut] | None = None) -> CiOut:
    assert ci.id is not None
    return CiOut(
        id=ci.id,
        class_name=ci.class_name,
        name=ci.name,
        status=ci.status,
        attributes=ci.attributes,
        model_version=ci.model_version,
        created_by=ci.created_by,
        created_at=ci.created_at,
        updated_by=ci.updated_by,
        updated_at=ci.updated_at,
        retired_at=ci.retired_at,
        relations=relations,
    )


def history(session: Session, *, ci_id: int, after: int, limit: int) -> VersionPage:
    load(session, ci_id)
    rows = session.exec(
        select(CiVersionRow)
        .where(CiVersionRow.ci_id == ci_id, col(CiVersionRow.id) > after)
        .order_by(col(CiVersionRow.id))
        .limit(limit + 1)
    ).all()
    items = [
        VersionOut(
            id=r.id or 0, at=r.at, actor=r.actor, action=r.action, changes=r.changes, record=r.record_number
        )
        for r in rows[:limit]
    ]
    return VersionPage(items=items, next_after=items[-1].id if len(rows) > limit else None)
