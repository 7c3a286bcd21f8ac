"""Locate, build and run the local Temporal development server.

itilflow never downloads anything at run time. The Temporal server used for development
and tests is the official Temporal CLI dev server (``temporal server start-dev``), built
once from its Go module into the git-ignored folder ``<project root>/.cache/bin/``::

    GOBIN=<root>/.cache/bin CGO_ENABLED=0 go install \\
        -ldflags="-s -w -X github.com/temporalio/cli/temporalcli.Version=1.5.1" \\
        github.com/temporalio/cli/cmd/temporal@v1.5.1

(the linker flags are those of the official release build; without them the binary reports
version ``0.0.0-DEV``, though Go still records ``v1.5.1`` in its build info).

Environment variables:

``TEMPORAL_CLI_PATH``
    Explicit path to a ``temporal`` binary; used when it exists.
``ITILFLOW_HOME``
    Project root (the folder holding ``pyproject.toml``). Default: found by walking up
    from this file, falling back to the current directory (e.g. for a non-editable install).
``TEMPORAL_ADDRESS``
    ``host:port`` of an already running Temporal server. When set, callers (the test
    fixtures, ``itilflow server start``) use it instead of starting a dev server.
"""

from __future__ import annotations

import mmap
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import NoReturn

TEMPORAL_CLI_MODULE = "github.com/temporalio/cli/cmd/temporal"
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
TEMPORAL_CLI_MODULE_VERSION = "v1.5.1"
VERSION_LDFLAGS = (
    f"-s -w -X github.com/temporalio/cli/temporalcli.Version={TEMPORAL_CLI_MODULE_VERSION.removeprefix('v')}"
)
"""Linker flags of the official release build, so that ``temporal --version`` shows the version."""
DEFAULT_HOST = "127.0.0.1"
DEFAULT_NAMESPACE = "default"
READY_MARKER = "Server:"
"""Line printed by ``start-dev`` once the server has started and its namespaces exist."""


class TemporalServerError(RuntimeError):
    """The Temporal CLI could not be found, built or started."""


# --------------------------------------------------------------------------- locating


def project_root() -> Path:
    """Return ``$ITILFLOW_HOME``, else the nearest ancestor holding ``pyproject.toml``, else cwd."""
    home = os.environ.get("ITILFLOW_HOME")
    if home:
        return Path(home).expanduser().resolve()
    for parent in Path(__file__).resolve().parents:
        if (parent / "pyproject.toml").is_file():
            return parent
    return Path.cwd()


def cache_bin_dir() -> Path:
    """Folder the Temporal CLI is built into (``<root>/.cache/bin``)."""
    return project_root() / ".cache" / "bin"


def find_temporal_cli() -> Path | None:
    """Return the Temporal CLI: ``$TEMPORAL_CLI_PATH``, ``<root>/.cache/bin/temporal``, or PATH."""
    explicit = os.environ.get("TEMPORAL_CLI_PATH")
    if explicit and Path(explicit).is_file():
        return Path(explicit)
    cached = cache_bin_dir() / "temporal"
    if cached.is_file():
        return cached
    on_path = shutil.which("temporal")
    return Path(on_path) if on_path else None


def temporal_cli_version(cli: Path) -> str:
    """Return the first line of ``temporal --version`` (e.g. ``temporal version 1.5.1 (...)``).

    A plain ``go install`` without :data:`VERSION_LDFLAGS` reports ``0.0.0-DEV``; see
    :func:`temporal_cli_module_version` for the version Go recorded in the binary.
    """
    result = subprocess.run([str(cli), "--version"], capture_output=True, text=True, check=True, timeout=30)
    return result.stdout.strip().splitlines()[0]


def temporal_cli_module_version(cli: Path) -> str | None:
    """Return the CLI module version in the binary's Go build info (as ``go version -m``), if any."""
    marker = f"\nmod\t{TEMPORAL_CLI_MODULE.removesuffix('/cmd/temporal')}\t".encode()
    with cli.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        start = data.find(marker)
        if start < 0:
            return None
        start += len(marker)
        end = data.find(b"\t", start, start + 100)
        return data[start:end].decode() if end > start else None


def install_temporal_cli(force: bool = False) -> Path:
    """Return the Temporal CLI, building it with ``go install`` into ``.cache/bin`` when missing.

    With ``force`` the build runs even if a binary is already found. The build output is
    streamed to this process's stdout/stderr.
    """
    if not force:
        found = find_temporal_cli()
        if found is not None:
            return found
    go = shutil.which("go")
    if go is None:
        raise TemporalServerError(
            "Go toolchain not found on PATH; it is needed to build the Temporal CLI "
            f"({TEMPORAL_CLI_MODULE}@{TEMPORAL_CLI_MODULE_VERSION}). Install Go or set TEMPORAL_CLI_PATH."
        )
    gobin = cache_bin_dir()
    gobin.mkdir(parents=True, exist_ok=True)
    target = f"{TEMPORAL_CLI_MODULE}@{TEMPORAL_CLI_MODULE_VERSION}"
    env = {**os.environ, "GOBIN": str(gobin), "CGO_ENABLED": "0"}
    rc = subprocess.call([go, "install", f"-ldflags={VERSION_LDFLAGS}", target], env=env)
    binary = gobin / "temporal"
    if rc != 0 or not binary.is_file():
        raise TemporalServerError(f"'go install {target}' failed (exit code {rc}); see the output above")
    return binary


def resolve_temporal_address() -> str | None:
    """Return ``$TEMPORAL_ADDRESS`` (an existing server to use instead of a dev server), or None."""
    address = os.environ.get("TEMPORAL_ADDRESS", "").strip()
    return address or None


# --------------------------------------------------------------------------- running


def free_port(host: str = DEFAULT_HOST) -> int:
    """Return a TCP port that is free right now (bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    """True if a TCP connection to ``host:port`` succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


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
        with self.log_file.open("ab") as log:
            self._log_offset = log.tell()
            self._proc = subprocess.Popen(
                self.command(cli),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
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
        if proc is None:
            return
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=self.stop_grace)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait()

    def __enter__(self) -> DevServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM the server when its parent dies.

    A parent killed with SIGKILL cannot stop its children; without this the dev server would be
    left running (holding its ports) after `itilflow dev` or a test process was killed.
    Linux ties this to the *thread* that started the child: start servers from a long-lived thread.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


@contextmanager
def temporal_server(log_dir: Path, *, headless: bool = True, db_file: Path | None = None) -> Iterator[str]:
    """Yield a Temporal address: ``$TEMPORAL_ADDRESS`` if set, else that of a new :class:`DevServer`."""
    existing = resolve_temporal_address()
    if existing is not None:
        yield existing
        return
    with DevServer(log_dir, headless=headless, db_file=db_file) as server:
        yield server.address
