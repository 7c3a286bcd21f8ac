"""Records on configuration items, for people: the open records on the CIs an impact analysis reaches,
a record's own impact (the union of its CIs' analyses), and every record naming a CI (its page).
Each list holds only the records the caller may see (`lookup.may_see`, the definition's
`visibility:` too): an impact analysis must not reveal a restricted record's number or title."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import Table, select
from sqlmodel import Session

from api.auth import Principal
from api.services.lookup import find_record, may_see
from cmdb import cis, impact, models
from cmdb.on_records import RecordOnCi, records_on
from cmdb.views import ImpactOut, ReachedCi, RecordImpactOut, RecordOnCiOut
from core.tables import DefinitionRow, RecordCiRow

Direction = Literal["upstream", "downstream", "both"]
_INDEX: Table = RecordCiRow.__table__  # type: ignore[attr-defined]
_DEFINITIONS: Table = DefinitionRow.__table__  # type: ignore[attr-defined]
MAX_RECORD_CIS = 50  # a record naming more CIs is analysed on its first fifty


def _titles(session: Session, keys: set[str], lang: str) -> dict[str, str]:
    if not keys:
        return {}
    rows = session.connection().execute(
        select(_DEFINITIONS.c.key, _DEFINITIONS.c.title_en, _DEFINITIONS.c.title_zh)
        .where(_DEFINITIONS.c.key.in_(sorted(keys)), _DEFINITIONS.c.status != "draft")
        .order_by(_DEFINITIONS.c.version)
    )
    zh = lang.startswith("zh")
    return {r.key: ((r.title_zh if zh else r.title_en) or r.title_en or r.key) for r in rows}


def visible(session: Session, user: Principal, rows: list[RecordOnCi], lang: str) -> list[RecordOnCiOut]:
    shown = [
        r
        for r in rows
        if may_see(
            session, user, r.id, r.requester, r.assignee, r.fields, (r.definition_key, r.definition_version)
        )
    ]
    titles = _titles(session, {r.definition_key for r in shown}, lang)
    key = "zh" if lang.startswith("zh") else "en"
    return [
        RecordOnCiOut(
            ci=r.ci_id,
            field=r.field,
            id=r.id,
            number=r.number,
            process=r.definition_key,
            process_title=titles.get(r.definition_key, r.definition_key),
            title=r.title,
            state=r.state,
            state_label=(r.state_label or {}).get(key) or r.state,
            priority=r.priority,
            final=r.final,
        )
        for r in shown
    ]


def ci_impact(
    session: Session, user: Principal, ci_id: int, depth: int, direction: Direction, lang: str
) -> ImpactOut:
    result = impact.analyse(
        session, models.current(session)[1], start=ci_id, depth=depth, direction=direction
    )
    on = records_on(session, [ci_id, *(r.id for r in result.reached)], open_only=True)
    result.records = visible(session, user, on, lang)
    return result


def ci_records(session: Session, user: Principal, ci_id: int, lang: str) -> list[RecordOnCiOut]:
    """Every record (open or closed) naming the CI, newest first."""
    return visible(session, user, records_on(session, [ci_id], open_only=False), lang)


def record_impact(
    session: Session, user: Principal, ref: str, depth: int, direction: Direction, lang: str
) -> RecordImpactOut:
    row = find_record(session, ref=ref, user=user)  # 404 unless the caller may see it
    ids = sorted(
        {
            ci
            for (ci,) in session.connection().execute(
                select(_INDEX.c.ci_id).where(_INDEX.c.record_id == row.id).limit(MAX_RECORD_CIS)
            )
        }
    )
    model = models.current(session)[1]
    own: list[ReachedCi] = []
    best: dict[int, ReachedCi] = {}
    services: dict[int, ReachedCi] = {}
    truncated = False
    for ci_id in ids:
        result = impact.analyse(session, model, start=ci_id, depth=depth, direction=direction)
        truncated = truncated or result.truncated
        for reached in result.reached:
            if reached.id not in ids and (reached.id not in best or best[reached.id].depth > reached.depth):
                best[reached.id] = reached
        for service in result.services:
            services.setdefault(service.id, service)
        origin = cis.load(session, ci_id)
        own.append(
            ReachedCi(
                id=ci_id,
                class_name=origin.class_name,
                name=origin.name,
                depth=0,
                direction="downstream",
                path=[ci_id],
                business_service=any(s.id == ci_id for s in result.services),
            )
        )
    reached_all = sorted(best.values(), key=lambda r: (r.depth, r.id))
    on = records_on(session, [*ids, *best], open_only=True)
    others = [r for r in on if r.id != row.id]
    return RecordImpactOut(
        record=row.number,
        cis=own,
        depth=depth,
        direction=direction,
        reached=reached_all,
        services=sorted(services.values(), key=lambda r: (r.depth, r.id)),
        truncated=truncated,
        records=visible(session, user, others, lang),
    )
