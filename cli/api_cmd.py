"""`itilflow api`: serve the HTTP API (DATABASE_URL, TEMPORAL_ADDRESS)."""

from __future__ import annotations

import argparse
import signal
from typing import Any

import uvicorn

from api.app import create_app
from core import gctune, jsonlog, tracing
from core.settings import get_settings


def _api(args: argparse.Namespace) -> int:
    settings = get_settings()
    jsonlog.install(args.log_level, json_lines=settings.log_format == "json")
    tracing.install(settings, "itilflow-api")  # before the app: it traces requests when this is on
    app = create_app(settings)
    gctune.settle()
    # access_log stays on: it logs method, path and status only, never headers (so never tokens);
    # log_config=None leaves logging to jsonlog (secrets in paths and queries are masked there).
    # uvicorn answers SIGTERM by stopping gracefully and then raising the signal again with the handler
    # it found: this one ends the process through `finally`, so the spans still batched are sent.
    signal.signal(signal.SIGTERM, _exit)
    try:
        uvicorn.run(
            app, host=args.host, port=args.port, log_level=args.log_level, proxy_headers=True, log_config=None
        )
    finally:
        tracing.shutdown()
    return 0


def _exit(*_: Any) -> None:
    raise SystemExit(0)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("api", help="serve the HTTP API (DATABASE_URL, TEMPORAL_ADDRESS)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    p.set_defaults(func=_api)
