"""`itilflow server install|start`: the Temporal dev server, built offline from its Go module."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli import cluster_cmd
from core.settings import get_settings
from devenv.temporal_cli import TemporalServerError, install_temporal_cli, temporal_cli_version
from devenv.temporal_server import DevServer


def _install(args: argparse.Namespace) -> int:
    if args.cluster:
        return cluster_cmd.install_cluster(force=args.force)
    try:
        cli = install_temporal_cli(force=args.force)
    except TemporalServerError as exc:
        print(f"error: {exc}")
        return 1
    print(f"{cli}: {temporal_cli_version(cli)}")
    return 0


def _start(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir or get_settings().data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    server = DevServer(
        data_dir,
        port=args.port,
        ui_port=args.ui_port,
        db_file=data_dir / "temporal.db",
        headless=args.ui_port is None,
    )
    server.start()
    print(f"Temporal dev server at {server.address}" + (f", UI {server.ui_url}" if server.ui_url else ""))
    try:
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "server", help="the Temporal server: the dev server, or the production server on PostgreSQL"
    )
    ssub = parser.add_subparsers(dest="server_command", metavar="ACTION", required=True)
    p = ssub.add_parser("install", help="build the Temporal CLI v1.5.1 into .cache/bin (once)")
    p.add_argument("--force", action="store_true", help="rebuild even if present")
    p.add_argument(
        "--cluster",
        action="store_true",
        help="build the production Temporal server and temporal-sql-tool instead (for PostgreSQL)",
    )
    p.set_defaults(func=_install)
    p = ssub.add_parser("start", help="run a persistent dev server in the foreground")
    p.add_argument("--data-dir")
    p.add_argument("--port", type=int, default=7233)
    p.add_argument("--ui-port", type=int)
    p.set_defaults(func=_start)
    cluster_cmd.register(ssub)
