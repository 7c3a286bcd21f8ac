"""`itilflow schedules list|show|runs|create|pause|resume|delete`: scheduled records from the shell.

The same service as /api/v1/schedules (api/services/schedules.py), acting as an administrator named
`cli`: `create` reads the API's body from a YAML or JSON file and needs `owner` in it (or `--owner`),
since `cli` is nobody's user. Refusals print in English and Chinese and write nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import Engine
from temporalio.client import Client

from api.auth import Principal
from api.problems import ProblemError
from api.services import schedules as svc
from client.connection import connect_from
from core.db import make_engine
from core.settings import get_settings
from recurring.views import ScheduleIn, ScheduleOut

CLI_OWNER = Principal(username="cli", roles=["admin"], language="en")


def _line(s: ScheduleOut) -> str:
    state = "deleted" if s.deleted else ("paused" if s.paused else "active")
    nxt = s.next_runs[0].strftime("%Y-%m-%d %H:%M UTC") if s.next_runs else "-"
    rule = ", ".join(f"{k}={v}" for k, v in s.rule.items())
    return f"{s.id}  {s.definition:<16} {state:<7} next {nxt}  {rule}  owner={s.owner}  {s.name}"


async def _run(args: argparse.Namespace) -> int:
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url())
    needs_temporal = args.schedules_command in ("create", "pause", "resume", "delete")
    client = await connect_from(settings) if needs_temporal else None
    handler: Callable[[argparse.Namespace, Engine, Client | None, str], Awaitable[int]] = args.handler
    try:
        return await handler(args, engine, client, settings.task_queue)
    except ProblemError as problem:
        where = "; ".join(f"{e.get('path')}: {e.get('message')}" for e in problem.errors)
        print(f"refused: {problem.detail}" + (f" ({where})" if where else ""), file=sys.stderr)
        if problem.zh:
            print(f"拒绝：{problem.zh}", file=sys.stderr)
        return 2


async def _list(args: argparse.Namespace, engine: Engine, _c: Client | None, _q: str) -> int:
    for s in svc.listing(engine, args.definition):
        print(_line(s))
    return 0


async def _show(args: argparse.Namespace, engine: Engine, _c: Client | None, _q: str) -> int:
    print(svc.read(engine, args.id).model_dump_json(indent=2))
    return 0


async def _runs(args: argparse.Namespace, engine: Engine, _c: Client | None, _q: str) -> int:
    for r in svc.runs(engine, CLI_OWNER, args.id, args.limit):
        record = r.number or "-"
        print(f"{r.scheduled_at:%Y-%m-%d %H:%M:%S} UTC  {r.status:<8} {record:<14} {r.message or ''}")
    return 0


async def _create(args: argparse.Namespace, engine: Engine, client: Client | None, queue: str) -> int:
    assert client is not None
    data: Any = yaml.safe_load(Path(args.file).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ProblemError(
            422, f"{args.file}: not a mapping", zh=f"{args.file}：不是键值映射", kind="InvalidSchedule"
        )
    if args.owner:
        data["owner"] = args.owner
    try:
        body = ScheduleIn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(map(str, first["loc"]))
        raise ProblemError(
            422, f"{path}: {first['msg']}", zh=f"字段 {path} 无效", kind="InvalidSchedule"
        ) from None
    if body.owner is None:
        raise ProblemError(422, "owner: required (the CLI is nobody's user)", zh="需要指定负责人（owner）")
    made = await svc.create(client, engine, queue, CLI_OWNER, body)
    print(_line(made))
    return 0


def _state(action: str) -> Callable[[argparse.Namespace, Engine, Client | None, str], Awaitable[int]]:
    async def act(args: argparse.Namespace, engine: Engine, client: Client | None, _q: str) -> int:
        assert client is not None
        if action == "delete":
            print(_line(await svc.delete(client, engine, args.id)))
        else:
            print(_line(await svc.set_paused(client, engine, CLI_OWNER, args.id, action == "pause")))
        return 0

    return act


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("schedules", help="scheduled records (计划任务)")
    ssub = parser.add_subparsers(dest="schedules_command", metavar="COMMAND", required=True)
    p = ssub.add_parser("list", help="the schedules in force with their next run")
    p.add_argument("--definition", help="only this definition's")
    p.set_defaults(handler=_list)
    for name, handler, text in (
        ("show", _show, "one schedule as JSON"),
        ("runs", _runs, "a schedule's history of runs, newest first"),
        ("pause", _state("pause"), "pause a schedule"),
        ("resume", _state("resume"), "resume a paused schedule"),
        ("delete", _state("delete"), "stop a schedule for good (its runs stay readable)"),
    ):
        p = ssub.add_parser(name, help=text)
        p.add_argument("id")
        if name == "runs":
            p.add_argument("--limit", type=int, default=50)
        p.set_defaults(handler=handler)
    p = ssub.add_parser("create", help="a new schedule from a YAML/JSON file (the API's body)")
    p.add_argument("file")
    p.add_argument("--owner", help="the user responsible (overrides the file's)")
    p.set_defaults(handler=_create)
    parser.set_defaults(func=lambda args: asyncio.run(_run(args)))


__all__ = ["register"]
