"""`itilflow api`: serve the HTTP API (DATABASE_URL, TEMPORAL_ADDRESS)."""

from __future__ import annotations

import argparse

import uvicorn

from api.app import create_app
from core import gctune
from core.settings import get_settings


def _api(args: argparse.Namespace) -> int:
    app = create_app(get_settings())
    gctune.settle()
    # access_log stays on: it logs method, path and status only, never headers (so never tokens).
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, proxy_headers=True)
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("api", help="serve the HTTP API (DATABASE_URL, TEMPORAL_ADDRESS)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    p.set_defaults(func=_api)
