"""The CIs that records name: what the engine's check of a `ci` field needs to know of each (name,
class and its words, retired or not), read by primary key. The process engine cannot read the CMDB;
the worker's `resolve_references` activity and the launcher's pre-check ask here
(client/references.py)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Table, bindparam, select
from sqlmodel import Session

from cmdb.model import CmdbModel
from cmdb.models import current
from cmdb.tables import CiRow

_CIS: Table = CiRow.__table__  # type: ignore[attr-defined]
_BY_IDS = select(_CIS.c.id, _CIS.c.name, _CIS.c.class_name, _CIS.c.status).where(
    _CIS.c.id.in_(bindparam("ids", expanding=True))
)
MAX_NAMED = 500  # more CIs than that in one action is not a record's list of affected CIs


def named_cis(session: Session, ids: Iterable[int]) -> list[tuple[int, str, str, bool]]:
    """(id, name, class, retired) of each CI of `ids` that exists."""
    wanted = sorted(set(ids))[:MAX_NAMED]
    if not wanted:
        return []
    rows = session.connection().execute(_BY_IDS, {"ids": wanted}).all()
    return [(row.id, row.name, row.class_name, row.status == "retired") for row in rows]


def class_words(model: CmdbModel, names: Iterable[str]) -> dict[str, dict[str, str]]:
    """The zh and en labels of the classes `names` that the model declares."""
    words: dict[str, dict[str, str]] = {}
    for name in names:
        cls = model.ci_class(name)
        if cls is not None:
            words[name] = cls.label.model_dump()
    return words


def model_in_force(session: Session) -> CmdbModel:
    return current(session)[1]
