"""The `itilflow` command. Each command group lives in its own module and registers itself here."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Modules with `register(subparsers)`; each adds its commands and sets `func` on its parsers.
COMMAND_MODULES = (
    "cli.definitions_cmd",
    "cli.server_cmd",
    "cli.worker_cmd",
    "cli.db_cmd",
    "cli.users_cmd",
    "cli.api_cmd",
    "cli.dev_cmd",
    "cli.report_cmd",
    "cli.audit_cmd",
    "cli.cmdb_cmd",
    "cli.schedules_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="itilflow", description="ITIL processes as durable state machines.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a command group that is not part of this build
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    code = func(args)
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
