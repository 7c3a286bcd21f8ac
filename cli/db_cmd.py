"""`itilflow db upgrade`: apply migrations to DATABASE_URL."""

from __future__ import annotations

import argparse

from core.db import migrate
from core.settings import get_settings


def _upgrade(_args: argparse.Namespace) -> int:
    url = get_settings().resolved_database_url()
    migrate(url)
    print("database schema is current")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("db", help="database migrations")
    dsub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    dsub.add_parser("upgrade", help="migrate the database to the newest schema").set_defaults(func=_upgrade)
