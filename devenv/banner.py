"""What `itilflow dev` prints once it is ready: the demo users and their tokens, and where things are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI

from devenv.options import DevOptions
from devenv.temporal_server import DevServer


def web_path(app: FastAPI) -> str | None:
    """Where the web page is served, when this build has one."""
    paths = {getattr(route, "path", "") for route in app.routes}
    return next((p for p in ("/", "/ui", "/ui/", "/web", "/app") if p in paths), None)


def summary(
    opts: DevOptions,
    base: str,
    web: str | None,
    temporal: DevServer,
    tokens: dict[str, dict[str, Any]],
    tokens_file: Path,
) -> list[str]:
    lines = ["", "Demo users (token file: " + str(tokens_file) + "):"]
    for username, info in tokens.items():
        roles = ",".join(info["roles"])
        groups = ",".join(info["groups"]) or "-"
        lines.append(f"  {username:<16} roles={roles:<28} groups={groups}")
        lines.append(f"  {'':<16} {info['title']}")
        lines.append(f"  {'':<16} token {info['token']}")
    lines += [
        "",
        f"API:          {base}/api/v1",
        f"API docs:     {base}/docs",
        f"Health:       {base}/healthz",
        f"Metrics:      {base}/metrics"
        + (
            f" (worker: http://{opts.host}:{opts.worker_metrics_port}/metrics)"
            if opts.worker_metrics_port
            else ""
        ),
        f"Web page:     {base}{web}" if web else "Web page:     (not in this build)",
        f"Temporal UI:  {temporal.ui_url}" if temporal.ui_url else "Temporal UI:  (disabled: --no-ui)",
        f"Temporal:     {temporal.address} (namespace default, task queue itilflow)",
        f"Data:         {opts.data_dir}",
        "",
        'Try:  curl -H "Authorization: Bearer $TOKEN" ' + f"{base}/api/v1/processes",
        "itilflow dev is ready. Press Ctrl-C to stop.",
    ]
    return lines
