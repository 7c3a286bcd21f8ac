"""What `itilflow dev` is asked to run (its command-line options) and how it reports that it cannot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_API_PORT = 8000
DEFAULT_TEMPORAL_PORT = 7233


class DevError(RuntimeError):
    """`itilflow dev` cannot start; the message says why and what to do."""


@dataclass
class DevOptions:
    data_dir: Path
    host: str = "127.0.0.1"
    api_port: int = DEFAULT_API_PORT
    temporal_port: int = DEFAULT_TEMPORAL_PORT
    ui_port: int | None = DEFAULT_TEMPORAL_PORT + 1000  # None: no Temporal UI
    demo: bool = True
    log_level: str = "info"
    # The worker's /metrics: None picks a free port (printed; several `itilflow dev` on one machine
    # must not collide), 0 serves none.
    worker_metrics_port: int | None = None
    out: Callable[[str], None] = field(default=lambda line: print(line, flush=True))
