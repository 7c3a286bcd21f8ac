"""`itilflow users delegate|delegations|undelegate`: an approver's substitute for a date range.

The admin's path from the shell (the same service as `POST /api/v1/delegations`): the CLI acts as
an admin, so it may set a delegation for anyone; the admin audit trail records `cli:<os user>`.
Dates are whole days in UTC; `--until` includes its day.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from api.auth import Principal
from api.identity.audit import cli_actor
from api.problems import unprocessable
from api.services import delegations

CLI_ADMIN = Principal(username="cli", roles=["admin"], language="en")


def _day(value: str, what: str) -> datetime:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise unprocessable(f"{what}: not a date (YYYY-MM-DD): {value!r}") from None
    if not (2000 <= day.year < 2100):
        raise unprocessable(f"{what}: must be between 2000 and 2099")
    return datetime.combine(day, time(0), tzinfo=UTC)


def _delegate(session, args) -> int:  # type: ignore[no-untyped-def]
    made = delegations.create(
        session,
        caller=CLI_ADMIN,
        principal=args.name,
        substitute=args.to,
        starts_at=_day(args.start, "--from") if args.start else None,
        ends_at=_day(args.until, "--until") + timedelta(days=1),
        reason=args.reason,
        actor=cli_actor(),
    )
    print(
        f"delegation {made.id}: {made.substitute} decides for {made.principal} "
        f"until {made.ends_at:%Y-%m-%d %H:%M} UTC"
    )
    return 0


def _list(session, args) -> int:  # type: ignore[no-untyped-def]
    for d in delegations.listing(session, caller=CLI_ADMIN, principal=args.user, limit=1000):
        state = "revoked" if d.revoked_at else ("in force" if d.in_force else "not in force")
        print(
            f"{d.id:>6}  {d.principal:<20} -> {d.substitute:<20} "
            f"{d.starts_at:%Y-%m-%d %H:%M} .. {d.ends_at:%Y-%m-%d %H:%M} UTC  {state}"
        )
    return 0


def _undelegate(session, args) -> int:  # type: ignore[no-untyped-def]
    gone = delegations.revoke(session, caller=CLI_ADMIN, delegation_id=args.id, actor=cli_actor())
    print(f"revoked delegation {gone.id} ({gone.principal} -> {gone.substitute})")
    return 0


def register(usub: argparse._SubParsersAction, run: Callable[[argparse.Namespace], Any]) -> None:  # type: ignore[type-arg]
    p = usub.add_parser("delegate", help="let a substitute decide a user's approvals for a date range")
    p.add_argument("name", help="the approver")
    p.add_argument("--to", required=True, help="the substitute's username")
    p.add_argument("--until", required=True, help="last day, YYYY-MM-DD (UTC, included)")
    p.add_argument("--from", dest="start", help="first day, YYYY-MM-DD (UTC); now if left out")
    p.add_argument("--reason")
    p.set_defaults(func=run, handler=_delegate)
    p = usub.add_parser("delegations", help="list delegations, newest first")
    p.add_argument("--user", help="only those given by this approver")
    p.set_defaults(func=run, handler=_list)
    p = usub.add_parser("undelegate", help="revoke a delegation by id")
    p.add_argument("id", type=int)
    p.set_defaults(func=run, handler=_undelegate)
