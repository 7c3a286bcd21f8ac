"""Export of active CIs and their relationships, in the shapes the import reads back (CSV: CIs only;
JSON: CIs and relationships, each end named by its class and key)."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from cmdb.cis import key_of
from cmdb.model import CmdbModel
from cmdb.tables import CiRow, RelationRow

CIS, RELS = CiRow.__table__, RelationRow.__table__  # type: ignore[attr-defined]
MAX_EXPORT = 500_000


def _cis(session: Session, class_name: str | None) -> list[Any]:
    stmt = select(CIS.c.id, CIS.c.class_name, CIS.c.name, CIS.c.attributes).where(CIS.c.status == "active")
    if class_name is not None:
        stmt = stmt.where(CIS.c.class_name == class_name)
    return list(session.execute(stmt.order_by(CIS.c.id).limit(MAX_EXPORT)))


def to_data(session: Session, model: tuple[int, CmdbModel], class_name: str | None = None) -> dict[str, Any]:
    version, m = model
    rows = _cis(session, class_name)
    keys: dict[int, dict[str, str]] = {}
    cis = []
    for ci_id, cls_name, name, attributes in rows:
        cls = m.ci_class(cls_name)
        key = key_of(cls, name, attributes) if cls is not None else name
        keys[ci_id] = {"class": cls_name, "key": key or name}
        cis.append({"class": cls_name, "name": name, "attributes": attributes})
    relations = [
        {"type": t, "source": keys[s], "target": d_key}
        for t, s, d in session.execute(
            select(RELS.c.type, RELS.c.source_id, RELS.c.target_id).order_by(RELS.c.id)
        )
        if s in keys and (d_key := keys.get(d)) is not None
    ]
    return {"model_version": version, "cis": cis, "relations": relations}


def to_csv(session: Session, class_name: str | None = None) -> str:
    rows = _cis(session, class_name)
    columns = sorted({k for _, _, _, attributes in rows for k in attributes})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["class", "name", *columns])
    for _, cls_name, name, attributes in rows:
        writer.writerow([cls_name, name, *(_cell(attributes.get(c)) for c in columns)])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
