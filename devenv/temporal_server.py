"""Run the Temporal dev server (``temporal server start-dev``) for `itilflow dev`, the tests and
``itilflow server start``; devenv/temporal_cli.py finds or builds the CLI.

Environment variables:

``TEMPORAL_ADDRESS``
    ``host:port`` of an already running Temporal server. When set, callers (the test
    fixtures, ``itilflow server start``) use it instead of starting a dev server.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import NoReturn

from devenv.lifetime import spawn_logged, stop_group
from devenv.ports import DEFAULT_HOST, free_port, port_accepts
from devenv.temporal_cli import TemporalServerError, find_temporal_cli

# Eager activity dispatch hands an activity to the worker in the reply to the workflow task that
# scheduled it, saving a poll round trip (notifications after an SLA threshold go out sooner).
DEFAULT_DYNAMIC_CONFIG = {
    "system.enableActivityEagerExecution": "true",
    # Every new task into one partition of its task queue. With the default four, a workflow's first
    # task (a start, an update-with-start) sometimes sat in a partition no poller was on until it was
    # forwarded: 1.5-2.5 s stalls at the p99 of starts (bench/api.py, bench/floor.py).
    # One worker process needs no partitions. Reads stay at four, so tasks that an older version
    # wrote into the other partitions are still picked up.
    "matching.numTaskqueueWritePartitions": "1",
    # The CLI turns this on so that search attributes created while the server runs are usable at
    # once. Then every workflow task reads the search attributes from the database (to map those in
    # the history it hands out) through the server's one SQLite connection. itilflow creates none
    # at run time (only `--search-attribute`s given at start, which exist before anything runs), so
    # the cached copy is always right: about 9 % less server CPU per update (median of nine rounds of
    # bare updates with a local activity and a timer, alternating the two settings).
    "system.forceSearchAttributesCacheRefreshOnRead": "false",
}
# The dev server opens its SQLite file with no pragmas, so with SQLite's defaults: a rollback journal
# created, synced twice and deleted on every commit. Each Update commits several times; with these
# pragmas (write-ahead log, synced at checkpoints) the server spends about half the CPU per Update and
# answers about 40 % sooner (bench/api.py, direct transitions). A killed server loses nothing: the
# log is in the file system when a commit returns. A power cut may lose the last commits, which the
# dev server's users accept (production Temporal runs on PostgreSQL, MySQL or Cassandra).
FILE_DB_PRAGMAS = {"journal_mode": "wal", "synchronous": "normal"}
DEFAULT_NAMESPACE = "default"
READY_MARKER = "Server:"
"""Line printed by ``start-dev`` once the server has started and its namespaces exist."""


def resolve_temporal_address() -> str | None:
    """Return ``$TEMPORAL_ADDRESS`` (an existing server to use instead of a dev server), or None."""
    address = os.environ.get("TEMPORAL_ADDRESS", "").strip()
    return address or None


def _read_from(path: Path, offset: int) -> str:
    try:
        with path.open("rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")
    except OSError:
        return ""


class DevServer:
    """A ``temporal server start-dev`` subprocess in its own process group.

    Use as a context manager, or call :meth:`start` / :meth:`stop`. Without ``db_file`` the
    state lives in memory and is lost on stop; with it, workflows survive restarts, and the file is
    opened with ``sqlite_pragmas`` (default FILE_DB_PRAGMAS; ``{}`` for SQLite's own defaults).
    """

    def __init__(
        self,
        log_dir: Path,
        *,
        port: int | None = None,
        ui_port: int | None = None,
        headless: bool = False,
        db_file: Path | None = None,
        host: str = DEFAULT_HOST,
        namespaces: Sequence[str] = (DEFAULT_NAMESPACE,),
        dynamic_config: Mapping[str, str] | None = None,
        search_attributes: Mapping[str, str] | None = None,
        sqlite_pragmas: Mapping[str, str] | None = None,
        log_level: str = "warn",
        cli: Path | None = None,
        startup_timeout: float = 60.0,
        stop_grace: float = 10.0,
    ) -> None:
        self.log_dir = Path(log_dir)
        self.host = host
        self.port = port or free_port(host)
        self.headless = headless
        self.ui_port = None if headless else (ui_port or free_port(host))
        self.db_file = db_file
        self.namespaces = tuple(namespaces)
        self.dynamic_config = {**DEFAULT_DYNAMIC_CONFIG, **(dynamic_config or {})}
        self.search_attributes = dict(search_attributes or {})
        self.sqlite_pragmas = dict(FILE_DB_PRAGMAS if sqlite_pragmas is None else sqlite_pragmas)
        self.log_level = log_level
        self.cli = cli
        self.startup_timeout = startup_timeout
        self.stop_grace = stop_grace
        self.log_file = self.log_dir / f"temporal-{self.port}.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def address(self) -> str:
        """gRPC address for ``Client.connect`` (``host:port``)."""
        return f"{self.host}:{self.port}"

    @property
    def ui_url(self) -> str | None:
        return None if self.ui_port is None else f"http://{self.host}:{self.ui_port}"

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def command(self, cli: Path) -> list[str]:
        """The full ``start-dev`` command line."""
        cmd = [str(cli), "server", "start-dev", "--ip", self.host, "--port", str(self.port)]
        cmd += ["--headless"] if self.ui_port is None else ["--ui-port", str(self.ui_port)]
        if self.db_file is not None:
            cmd += ["--db-filename", str(self.db_file)]
            for key, value in self.sqlite_pragmas.items():
                cmd += ["--sqlite-pragma", f"{key}={value}"]
        for namespace in self.namespaces:
            cmd += ["--namespace", namespace]
        for key, value in self.dynamic_config.items():
            cmd += ["--dynamic-config-value", f"{key}={value}"]
        for key, kind in self.search_attributes.items():
            cmd += ["--search-attribute", f"{key}={kind}"]
        return cmd + ["--log-level", self.log_level]

    def start(self) -> DevServer:
        """Start the server and block until it accepts gRPC connections."""
        if self.running:
            return self
        cli = self.cli or find_temporal_cli()
        if cli is None:
            raise TemporalServerError("Temporal CLI not found; run 'itilflow server install' first")
        if port_accepts(self.host, self.port):
            raise TemporalServerError(f"{self.address} is already in use")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if self.db_file is not None:
            Path(self.db_file).parent.mkdir(parents=True, exist_ok=True)
        # What this start writes is read from here on (the log is appended to across restarts).
        self._log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        self._proc = spawn_logged(self.command(cli), self.log_file)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                self._fail(f"exited with code {self._proc.returncode} during startup")
            if port_accepts(self.host, self.port) and READY_MARKER in self.log_text():
                return
            time.sleep(0.1)
        self._fail(f"did not accept connections on {self.address} within {self.startup_timeout:g}s")

    def log_text(self) -> str:
        """What the server wrote to :attr:`log_file` since the last :meth:`start`."""
        return _read_from(self.log_file, self._log_offset)

    def _fail(self, why: str) -> NoReturn:
        self.stop()
        tail = "\n".join(self.log_text().splitlines()[-40:]) or "<empty>"
        raise TemporalServerError(f"Temporal dev server {why}. Log {self.log_file} (tail):\n{tail}")

    def wait(self) -> int:
        """Block until the server process exits; return its exit code."""
        if self._proc is None:
            raise TemporalServerError("Temporal dev server was not started")
        return self._proc.wait()

    def stop(self) -> None:
        """SIGTERM the process group; SIGKILL it after ``stop_grace`` seconds."""
        proc, self._proc = self._proc, None
        stop_group(proc, self.stop_grace)

    def __enter__(self) -> DevServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextmanager
def temporal_server(log_dir: Path, *, headless: bool = True, db_file: Path | None = None) -> Iterator[str]:
    """Yield a Temporal address: ``$TEMPORAL_ADDRESS`` if set, else that of a new :class:`DevServer`."""
    existing = resolve_temporal_address()
    if existing is not None:
        yield existing
        return
    with DevServer(log_dir, headless=headless, db_file=db_file) as server:
        yield server.address
