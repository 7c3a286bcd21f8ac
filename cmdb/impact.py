"""Impact analysis: which CIs a CI's failure reaches (downstream: those relying on it) and what it
relies on (upstream), to a given depth, walked in the database with a recursive query on SQLite and
PostgreSQL alike. The graph is never loaded into Python. Each row's class and name are looked up by
primary key (scalar subqueries): a join let PostgreSQL hash the whole CI table when its statistics
were stale, as after a bulk import.

A relationship `source --type--> target` means the source relies on the target, so downstream walks
edges from target to source. Each path carries the CIs it passed (",1,5,9,"), so a walk never
revisits a CI on its own path, whatever cycles the graph has; a CI reached by several paths is
reported once, at its smallest depth. The walk is breadth-first and stops after `MAX_PATHS` rows
(`truncated`), so a hub reached by millions of paths costs a bounded amount.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import TextClause, text
from sqlmodel import Session

from cmdb.cis import load
from cmdb.model import CmdbModel
from cmdb.views import ImpactOut, ReachedCi

MAX_DEPTH = 10
MAX_PATHS = 50_000
MAX_REACHED = 10_000
Direction = Literal["upstream", "downstream"]


def _walk(here: str, there: str, limit_inside: bool) -> TextClause:
    # `here`/`there` are column names fixed below, never input.
    return text(
        f"""
        WITH RECURSIVE walk(id, depth, path) AS (
            SELECT CAST(:start AS INTEGER), 0, ',' || CAST(:start AS TEXT) || ','
            UNION ALL
            SELECT r.{there}, walk.depth + 1, walk.path || CAST(r.{there} AS TEXT) || ','
            FROM walk JOIN cmdb_relations r ON r.{here} = walk.id
            WHERE walk.depth < :depth
              AND walk.path NOT LIKE '%,' || CAST(r.{there} AS TEXT) || ',%'
            {"LIMIT :cap" if limit_inside else ""}
        )
        SELECT w.id, w.depth, w.path,
               (SELECT c.class_name FROM cmdb_cis c WHERE c.id = w.id),
               (SELECT c.name FROM cmdb_cis c WHERE c.id = w.id)
        FROM (SELECT id, depth, path FROM walk WHERE depth > 0 LIMIT :cap) w
        """
    )


_WAYS: tuple[tuple[Direction, str, str], ...] = (
    ("upstream", "source_id", "target_id"),
    ("downstream", "target_id", "source_id"),
)
# PostgreSQL computes a recursive query only as far as the outer query reads it, so the outer LIMIT
# stops the walk; SQLite is told inside the recursive part (which PostgreSQL does not allow).
WALKS: dict[tuple[str, Direction], TextClause] = {
    (dialect, way): _walk(here, there, dialect == "sqlite")
    for dialect in ("sqlite", "postgresql")
    for way, here, there in _WAYS
}


def analyse(
    session: Session,
    model: CmdbModel,
    *,
    start: int,
    depth: int,
    direction: Literal["upstream", "downstream", "both"],
) -> ImpactOut:
    origin = load(session, start)
    services = {c.name for c in model.classes if c.business_service}
    reached: list[ReachedCi] = []
    truncated = False
    for way in ("upstream", "downstream"):
        if direction not in (way, "both"):
            continue
        rows = (
            session.connection()
            .execute(
                WALKS[(session.get_bind().dialect.name, way)],
                {"start": start, "depth": depth, "cap": MAX_PATHS},
            )
            .all()
        )
        # On SQLite the limit counts the start row too, which the outer query leaves out.
        truncated = truncated or len(rows) >= MAX_PATHS - 1
        # Rows come breadth-first, so the first row of a CI has its smallest depth; models are built
        # for those only (a hub reached by many paths costs one).
        # Rows come breadth-first; a CI's model is built once, for its smallest depth.
        best: dict[int, tuple[int, str, str, str]] = {}
        for ci_id, d, path, class_name, name in rows:
            if ci_id not in best or best[ci_id][0] > d:
                best[ci_id] = (d, path, class_name, name)
        found = [
            ReachedCi(
                id=ci_id,
                class_name=class_name,
                name=name,
                depth=d,
                direction=way,
                path=[int(p) for p in path.strip(",").split(",")],
                business_service=class_name in services,
            )
            for ci_id, (d, path, class_name, name) in best.items()
        ]
        reached += sorted(found, key=lambda r: (r.depth, r.id))
    if len(reached) > MAX_REACHED:
        reached, truncated = reached[:MAX_REACHED], True
    hit = [r for r in reached if r.business_service]
    if origin.class_name in services:
        assert origin.id is not None
        hit.insert(
            0,
            ReachedCi(
                id=origin.id,
                class_name=origin.class_name,
                name=origin.name,
                depth=0,
                direction="downstream",
                path=[origin.id],
                business_service=True,
            ),
        )
    seen: set[int] = set()
    unique = [r for r in hit if not (r.id in seen or seen.add(r.id))]  # type: ignore[func-returns-value]
    return ImpactOut(
        start=start, depth=depth, direction=direction, reached=reached, services=unique, truncated=truncated
    )
