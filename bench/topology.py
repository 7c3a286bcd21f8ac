"""The production topology on this machine, as processes a benchmark can kill: a PostgreSQL of its own
(initdb into a temporary folder, a free port), the official Temporal server on it
(devenv/temporal_cluster.py), `itilflow worker` and `itilflow api` processes on the read model in the
same PostgreSQL. Used by bench/chaos.py, bench/scale.py and tests/cluster/test_chaos.py.

A PostgreSQL of its own, not the machine's: the chaos benchmark restarts it, and other sessions' tests
use the shared one. Debian's binaries (`/usr/lib/postgresql/<version>/bin`); as root, the cluster runs
as the `postgres` user (PostgreSQL refuses to run as root). Trust authentication on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from devenv.lifetime import signal_group, spawn_logged, stop_group
from devenv.ports import free_port, port_accepts
from devenv.temporal_cluster import ClusterSettings, TemporalCluster, setup_schema

HOST = "127.0.0.1"
USER = "itilflow"
READ_MODEL = "itilflow"


def pg_bin() -> Path:
    """The newest Debian PostgreSQL's binaries."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise RuntimeError("PostgreSQL's binaries are not installed (apt-get install postgresql)")
    return found[-1].parent


class LocalPostgres:
    """A PostgreSQL cluster in `root` on a free port, started and stopped with pg_ctl."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = root
        self.data = root / "pgdata"
        self.log = root / "postgres.log"
        self.port = port or free_port()
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str, timeout: float = 120) -> None:
        done = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=timeout, cwd="/")
        if done.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed: {done.stdout}{done.stderr}")

    def init(self) -> LocalPostgres:
        self.root.mkdir(parents=True, exist_ok=True)
        if self._as:
            shutil.chown(self.root, "postgres", "postgres")
            # A temporary folder is private to root (0700): let the postgres user through to its own.
            for parent in self.root.parents:
                if parent == Path(parent.anchor):
                    break
                parent.chmod(parent.stat().st_mode | 0o001)
        self._run(str(pg_bin() / "initdb"), "-D", str(self.data), "-U", USER, "-A", "trust", "-E", "UTF8")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '{HOST}'\nunix_socket_directories = '{self.root}'\n"
                "max_connections = 300\nshared_buffers = 256MB\n"
            )
        return self.start()

    def start(self) -> LocalPostgres:
        self._run(str(pg_bin() / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        """`immediate` is a crash: no checkpoint, recovery from the WAL at the next start."""
        if (self.data / "postmaster.pid").exists():
            self._run(str(pg_bin() / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, database: str, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{USER}:{USER}@{HOST}:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        self._run(str(pg_bin() / "createdb"), "-h", HOST, "-p", str(self.port), "-U", USER, name)


@dataclass
class Service:
    """One `itilflow worker` or `itilflow api` process, in its own process group."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    port: int | None = None
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 90) -> Service:
        marker = self.log.stat().st_size if self.log.exists() else 0
        self.proc = spawn_logged(self.command, self.log, env=self.env)
        self.starts += 1
        deadline = time.monotonic() + timeout
        while not self.ready(marker):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{self.name} did not start:\n{tail}")
            time.sleep(0.2)
        return self

    def ready(self, marker: int) -> bool:
        if self.port is None:  # a worker: it logs once Temporal sees it polling
            with self.log.open("rb") as f:
                f.seek(marker)
                return b"worker polling task queue" in f.read()
        try:
            with urllib.request.urlopen(f"http://{HOST}:{self.port}/healthz", timeout=2) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, as when the machine or the OOM killer takes it."""
        if self.proc is not None and self.proc.poll() is None:
            signal_group(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        stop_group(self.proc, 15)


@dataclass
class Topology:
    """Everything started in `root`; `close()` stops it all (the context manager does)."""

    root: Path
    workers: int = 2
    apis: int = 2
    shards: int = 4
    worker_env: dict[str, str] = field(default_factory=dict)
    pg: LocalPostgres = field(init=False)
    cluster: TemporalCluster = field(init=False)
    worker_procs: list[Service] = field(default_factory=list)
    api_procs: list[Service] = field(default_factory=list)

    @property
    def database_url(self) -> str:
        return self.pg.url(READ_MODEL)

    @property
    def temporal_address(self) -> str:
        return self.cluster.address

    @property
    def api_urls(self) -> list[str]:
        return [f"http://{HOST}:{s.port}" for s in self.api_procs]

    def start_infrastructure(self) -> None:
        """PostgreSQL, Temporal's schemas and server, the read model's schema."""
        from core.db import migrate  # alembic: only when a topology is built

        self.pg = LocalPostgres(self.root / "pg").init()
        settings = ClusterSettings(
            pg_host=HOST,
            pg_port=self.pg.port,
            pg_user=USER,
            pg_password=USER,
            database="temporal",
            visibility_database="temporal_visibility",
            shards=self.shards,
        )
        setup_schema(settings)
        run_dir = self.root / "temporal"
        run_dir.mkdir(parents=True, exist_ok=True)
        self.cluster = TemporalCluster(settings, run_dir).start()
        self.pg.create_database(READ_MODEL)
        migrate(self.database_url)

    def _env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("ITILFLOW_", "TEMPORAL_"))}
        keep.pop("DATABASE_URL", None)
        return {
            **keep,
            "DATABASE_URL": self.database_url,
            "TEMPORAL_ADDRESS": self.temporal_address,
            "ITILFLOW_DATA_DIR": str(self.root / "data"),
            "PYTHONUNBUFFERED": "1",
            **(extra or {}),
        }

    def start_services(self) -> None:
        itilflow = [sys.executable, "-m", "cli"]
        for i in range(self.workers):
            log = self.root / f"worker{i}.log"
            svc = Service(f"worker{i}", [*itilflow, "worker"], self._env(self.worker_env), log)
            self.worker_procs.append(svc.start())
        for i in range(self.apis):
            port = free_port()
            cmd = [*itilflow, "api", "--port", str(port), "--log-level", "warning"]
            svc = Service(f"api{i}", cmd, self._env(), self.root / f"api{i}.log", port=port)
            self.api_procs.append(svc.start())

    def restart_postgres(self) -> None:
        """A crash of the database server (immediate stop: WAL recovery at the start)."""
        self.pg.stop("immediate")
        self.pg.start()

    def restart_temporal(self) -> None:
        self.cluster.kill()
        self.cluster.start()

    def temporal_up(self) -> bool:
        return port_accepts(HOST, self.cluster.settings.frontend_port)

    def close(self) -> None:
        for svc in [*self.api_procs, *self.worker_procs]:
            svc.stop()
        cluster = getattr(self, "cluster", None)
        if cluster is not None:
            cluster.stop()
        pg = getattr(self, "pg", None)
        if pg is not None:
            pg.stop("fast")

    def __enter__(self) -> Topology:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def seed(database_url: str, tokens_file: Path, extra_definitions: Sequence[Path] = ()) -> dict[str, str]:
    """The shipped definitions and `extra_definitions` published, the demo users and groups of
    `itilflow dev`, one token per user (written to `tokens_file`): {username: token}."""
    from api.auth import principal_for
    from api.services.definitions import create_draft, publish
    from core.db import make_engine, session_scope
    from core.tables import UserRow
    from devenv.seed import ensure_directory, publish_library
    from devenv.tokens import ensure_tokens

    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            ensure_directory(session)
        with session_scope(engine) as session:
            owner_row = session.get(UserRow, "owner")
            assert owner_row is not None
            owner = principal_for(session, owner_row)
            publish_library(session, owner=owner)
            for path in extra_definitions:
                draft = create_draft(session, source=path.read_text("utf-8"), user=owner)
                publish(session, key=draft.key, version=draft.version, user=owner)
        with session_scope(engine) as session:
            tokens = ensure_tokens(session, tokens_file)
    finally:
        engine.dispose()
    return {user: info["token"] for user, info in tokens.items()}
