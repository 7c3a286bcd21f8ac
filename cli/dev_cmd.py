"""`itilflow dev`: Temporal, the worker, the API and demo users in one command (see devenv/)."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.settings import get_settings
from devenv.options import DEFAULT_API_PORT, DEFAULT_TEMPORAL_PORT, DevOptions
from devenv.supervisor import main


def _dev(args: argparse.Namespace) -> int:
    ui_port = None if args.no_ui else (args.ui_port or args.temporal_port + 1000)
    return main(
        DevOptions(
            data_dir=Path(args.data_dir) if args.data_dir else get_settings().data_dir,
            host=args.host,
            api_port=args.api_port,
            temporal_port=args.temporal_port,
            ui_port=ui_port,
            demo=not args.no_demo,
            log_level=args.log_level,
            worker_metrics_port=args.worker_metrics_port,
        )
    )


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "dev",
        help="run everything locally: Temporal dev server, worker, API, demo users and data",
        description=(
            "Start the Temporal dev server (its database in DATA_DIR), migrate the database (SQLite in "
            "DATA_DIR unless DATABASE_URL is set), run the worker (in a process of its own) and the API, "
            "publish the shipped definitions and create demo users whose tokens are printed and written to "
            "DATA_DIR/demo-tokens.json. Restarting with the same DATA_DIR keeps everything. "
            "Ctrl-C stops it all."
        ),
    )
    p.add_argument("--data-dir", help="where everything is kept (default: $ITILFLOW_DATA_DIR or .itilflow)")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--api-port", type=int, default=DEFAULT_API_PORT, help="HTTP API port (default 8000)")
    p.add_argument(
        "--temporal-port", type=int, default=DEFAULT_TEMPORAL_PORT, help="Temporal gRPC port (default 7233)"
    )
    p.add_argument("--ui-port", type=int, help="Temporal web UI port (default: Temporal port + 1000)")
    p.add_argument("--no-ui", action="store_true", help="do not start the Temporal web UI")
    p.add_argument(
        "--worker-metrics-port",
        type=int,
        help="the worker's Prometheus /metrics port (default: a free one, printed at start; 0: none)",
    )
    p.add_argument("--no-demo", action="store_true", help="do not load the demo records on the first start")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    p.set_defaults(func=_dev)
