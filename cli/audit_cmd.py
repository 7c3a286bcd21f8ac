"""`itilflow audit verify`: compare records' audit trails and read model with Temporal's history."""

from __future__ import annotations

import argparse
import asyncio
import json

from sqlalchemy import Engine, or_
from sqlmodel import Session, col, select

from client.audit_check import Comparison, compare
from client.connection import connect_from
from core.db import make_engine
from core.settings import get_settings
from core.tables import RecordRow


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("audit", help="check the audit trail against Temporal (审计核对)")
    asub = parser.add_subparsers(dest="audit_command", metavar="COMMAND", required=True)
    verify = asub.add_parser(
        "verify",
        help="compare records' audit trails and read model with their workflows' own histories",
        description=(
            "For each record: every action Temporal acknowledged is in the audit trail exactly once, "
            "at its sequence number, by its actor, with its content; nothing else from a person is "
            "there; the record row and approvals equal the workflow's state. Exits 1 if any differ. "
            "Needs the workflow histories, so records closed longer ago than the namespace's "
            "retention cannot be checked."
        ),
    )
    verify.add_argument("records", nargs="*", help="record ids or numbers (default: all open records)")
    verify.add_argument("--all", action="store_true", help="every record, open or closed")
    verify.add_argument("--json", action="store_true", help="one JSON object per record")
    verify.set_defaults(func=_verify)


def _records(engine: Engine, refs: list[str], everything: bool) -> list[RecordRow]:
    with Session(engine) as session:
        query = select(RecordRow).order_by(col(RecordRow.created_at))
        if refs:
            query = query.where(or_(col(RecordRow.id).in_(refs), col(RecordRow.number).in_(refs)))
        elif not everything:
            query = query.where(col(RecordRow.final).is_(False))
        return list(session.exec(query))


def _line(row: RecordRow, result: Comparison) -> str:
    if result.ok:
        return f"OK    {row.number}: {result.acknowledged} 项操作一致 / actions match"
    return (
        f"DIFF  {row.number}: 与 Temporal 历史不一致 / differs from Temporal's history: {result.describe()}"
    )


async def _check(args: argparse.Namespace) -> int:
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url())
    client = await connect_from(settings)
    rows = _records(engine, list(args.records), args.all)
    missing = set(args.records) - {r.id for r in rows} - {r.number for r in rows}
    failed = bool(missing)
    for ref in sorted(missing):
        print(f"MISSING {ref}: 没有这条记录 / no such record")
    for row in rows:
        result = await compare(client, engine, row.id)
        failed = failed or not result.ok
        if args.json:
            print(json.dumps({"record": row.number, "id": row.id, "ok": result.ok, **vars(result)}))
        else:
            print(_line(row, result))
    engine.dispose()
    return 1 if failed else 0


def _verify(args: argparse.Namespace) -> int:
    return asyncio.run(_check(args))
