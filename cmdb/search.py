"""Finding CIs by class, name and attribute values, a page at a time (by id, so pages never shift).

A filter on a unique attribute (hostname, asset tag) goes through the keys table's primary key; any
other attribute is compared inside the JSON column with the attribute's own type, which SQLAlchemy
writes for SQLite (json_extract) and PostgreSQL (->>) alike."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import func
from sqlmodel import Session, col, select

from cmdb.cis import class_of, out
from cmdb.errors import invalid
from cmdb.issues import Issue
from cmdb.model import CmdbModel
from cmdb.tables import CiKeyRow, CiRow
from cmdb.values import Bad, key_text, normalise
from cmdb.views import CiPage


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(
    session: Session,
    model: CmdbModel,
    *,
    class_name: str | None,
    q: str | None,
    attrs: list[str],
    status: Literal["active", "retired", "all"],
    after: int,
    limit: int,
) -> CiPage:
    stmt = select(CiRow).where(col(CiRow.id) > after)
    if status != "all":
        stmt = stmt.where(CiRow.status == status)
    if q:
        stmt = stmt.where(func.lower(CiRow.name).like(f"%{_like(q.lower())}%", escape="\\"))
    if class_name is not None:
        cls = class_of(model, class_name)
        stmt = stmt.where(CiRow.class_name == class_name)
        issues: list[Issue] = []
        for i, spec in enumerate(attrs):
            name, sep, raw = spec.partition("=")
            attr = cls.attribute(name)
            path = f"query.attr[{i}]"
            if not sep or attr is None:
                known = ", ".join(a.name for a in cls.attributes) or "none"
                issues.append(
                    Issue(
                        path,
                        f"write attr=NAME=VALUE with an attribute of '{cls.name}' ({known})",
                        f"请写成 attr=属性名=值，属性须属于 '{cls.name}'（{known}）",
                    )
                )
                continue
            try:
                value: Any = normalise(attr, raw)
            except Bad as bad:
                issues.append(Issue(path, bad.en, bad.zh))
                continue
            if attr.unique:
                stmt = stmt.where(
                    col(CiRow.id).in_(
                        select(CiKeyRow.ci_id).where(
                            CiKeyRow.class_name == cls.name,
                            CiKeyRow.attribute == attr.name,
                            CiKeyRow.value == key_text(value),
                        )
                    )
                )
                continue
            field = CiRow.__table__.c.attributes[attr.name]  # type: ignore[attr-defined]
            typed = {
                "integer": field.as_integer(),
                "number": field.as_float(),
                "boolean": field.as_boolean(),
            }.get(attr.type, field.as_string())
            stmt = stmt.where(typed == value)
        if issues:
            raise invalid(issues, "the search filter is malformed", "查询条件有误")
    elif attrs:
        raise invalid(
            [Issue("query.attr", "filtering by attribute needs a class", "按属性筛选须同时指定类")],
            "filtering by attribute needs a class",
            "按属性筛选须同时指定类",
        )
    rows = session.exec(stmt.order_by(col(CiRow.id)).limit(limit + 1)).all()
    items = [out(r) for r in rows[:limit]]
    return CiPage(items=items, next_after=items[-1].id if len(rows) > limit else None)
