"""`itilflow cmdb import|export|impact`: the CMDB from the database in DATABASE_URL.

The commands use the same code as the API (`cmdb/`), in one transaction each: an import with any row
in error writes nothing and lists every error with its line and column (exit 1). There is no size
limit here, unlike the API's request body: a large CMDB is loaded with this command.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sqlalchemy import Engine

from cmdb import bulk, export, impact, models
from cmdb.bulk_parse import parse_csv, parse_json
from cmdb.errors import CmdbError
from cmdb.on_records import records_on
from cmdb.views import ImpactOut, RecordOnCiOut
from core.db import make_engine, migrate, session_scope
from core.settings import get_settings


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("cmdb", help="the configuration management database (配置管理数据库)")
    csub = parser.add_subparsers(dest="cmdb_command", metavar="ACTION", required=True)
    imp = csub.add_parser("import", help="import CIs (CSV or JSON) and relationships (JSON)")
    imp.add_argument("file", type=Path)
    imp.add_argument("--format", choices=("csv", "json"), help="default: from the file's extension")
    imp.add_argument("--dry-run", action="store_true", help="check every row and report; write nothing")
    imp.add_argument("--actor", default="cli", help="who the CI versions name (default: cli)")
    imp.add_argument("--record", help="the record (e.g. a change number) the import is done through")
    imp.add_argument("--lang", choices=("zh", "en"), default="en")
    imp.set_defaults(func=_import)
    exp = csub.add_parser("export", help="export active CIs (CSV) or CIs and relationships (JSON)")
    exp.add_argument("--format", choices=("csv", "json"), default="json")
    exp.add_argument("--class", dest="class_name", help="only this class")
    exp.add_argument("--output", "-o", type=Path, help="default: standard output")
    exp.set_defaults(func=_export)
    imp_ = csub.add_parser("impact", help="the CIs and business services a CI's failure reaches")
    imp_.add_argument("ci", type=int, help="the CI's id")
    imp_.add_argument("--depth", type=int, default=3, choices=range(1, impact.MAX_DEPTH + 1), metavar="1-10")
    imp_.add_argument("--direction", choices=("upstream", "downstream", "both"), default="both")
    imp_.add_argument("--json", action="store_true")
    imp_.set_defaults(func=_impact)


def _engine() -> Engine:
    url = get_settings().resolved_database_url()
    migrate(url)
    return make_engine(url)


def _import(args: argparse.Namespace) -> int:
    kind = args.format or ("csv" if args.file.suffix.lower() == ".csv" else "json")
    text = args.file.read_text(encoding="utf-8-sig")
    parsed = parse_csv(text) if kind == "csv" else parse_json(text)
    with session_scope(_engine()) as session:
        try:
            if args.record:
                from cmdb.cis import check_record

                check_record(session, args.record)
            report = bulk.run(
                session,
                models.current(session),
                parsed,
                actor=args.actor,
                lang=args.lang,
                dry_run=args.dry_run,
                record=args.record,
            )
        except CmdbError as exc:
            print(f"itilflow cmdb import: {exc.detail(args.lang)}", file=sys.stderr)
            for issue in exc.issues:
                print(f"  {issue.path}: {issue.message(args.lang)}", file=sys.stderr)
            return 1
    for e in report.errors:
        print(f"{args.file}: line {e.line}, column {e.column}: {e.message}", file=sys.stderr)
    what = "would be" if args.dry_run or report.errors else "were"
    print(
        f"{report.rows} rows: {report.created} CIs created, {report.updated} updated, {report.unchanged} "
        f"unchanged; {report.relations_created} relationships created, {report.relations_existing} existing "
        f"({what} written{'; nothing was written' if report.errors else ''})"
    )
    return 1 if report.errors else 0


def _export(args: argparse.Namespace) -> int:
    with session_scope(_engine()) as session:
        if args.format == "csv":
            out = export.to_csv(session, args.class_name)
        else:
            out = json.dumps(
                export.to_data(session, models.current(session), args.class_name),
                ensure_ascii=False,
                indent=1,
            )
    if args.output:
        args.output.write_text(out, encoding="utf-8")
    else:
        sys.stdout.write(out)
    return 0


def _impact(args: argparse.Namespace) -> int:
    with session_scope(_engine()) as session:
        try:
            result = impact.analyse(
                session, models.current(session)[1], start=args.ci, depth=args.depth, direction=args.direction
            )
            # The operator reads the database itself: every open record on the CIs, unfiltered.
            rows = records_on(session, [args.ci, *(r.id for r in result.reached)], open_only=True)
            result.records = [
                RecordOnCiOut(
                    ci=r.ci_id,
                    field=r.field,
                    id=r.id,
                    number=r.number,
                    process=r.definition_key,
                    process_title=r.definition_key,
                    title=r.title,
                    state=r.state,
                    state_label=(r.state_label or {}).get("en") or r.state,
                    priority=r.priority,
                    final=r.final,
                )
                for r in rows
            ]
        except CmdbError as exc:
            print(f"itilflow cmdb impact: {exc.detail('en')}", file=sys.stderr)
            return 1
    if args.json:
        print(result.model_dump_json(by_alias=True, indent=1))
    else:
        print(render(result))
    return 0


def render(result: ImpactOut) -> str:
    lines = [
        f"CI {result.start}, {result.direction} to depth {result.depth}: {len(result.reached)} CIs reached"
    ]
    for r in result.reached:
        path = " > ".join(map(str, r.path))
        lines.append(f"  {r.direction:<10} {r.depth}  {r.class_name:<18} {r.id:>8}  {r.name}   [{path}]")
    names = ", ".join(f"{s.name} ({s.id})" for s in result.services) or "none"
    lines.append(f"business services affected (受影响的业务服务): {names}")
    for rec in result.records:
        where = f"{rec.process:<16} {rec.state_label:<14} on CI {rec.ci}"
        lines.append(f"  open record (未关闭工单) {rec.number}  {where}: {rec.title}")
    if result.truncated:
        lines.append("(the walk stopped at its limit; narrow the depth)")
    return "\n".join(lines)
