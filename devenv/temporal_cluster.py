"""The production Temporal server on PostgreSQL: built from its Go module, its schemas set up by the
project, run as one process with every service (frontend, history, matching, worker) and several
history shards.

The dev server (`devenv/temporal_server.py`) keeps everything in one SQLite file and has no shards
and no TLS; production runs the official server (`go.temporal.io/server/cmd/server`) on PostgreSQL.
Both binaries are built once at set-up, offline from then on (nothing is downloaded at run time):

    GOBIN=<tmp> CGO_ENABLED=0 go install go.temporal.io/server/cmd/server@v1.29.1
    GOBIN=<tmp> CGO_ENABLED=0 go install go.temporal.io/server/cmd/tools/sql@v1.29.1

and copied to `.cache/bin/temporal-server` and `.cache/bin/temporal-sql-tool`, with the module's
PostgreSQL schemas (`schema/postgresql/v12`) copied to `.cache/temporal-schema/` (the Go module cache
may be cleaned; the schema must stay with the binary that expects it).

The configuration is the module's `config/development-postgres12.yaml` reduced to what itilflow needs
(no archival, no cross-cluster), rendered from `ClusterSettings` into a folder of its own.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn
from urllib.parse import unquote, urlsplit

import yaml

from devenv.lifetime import signal_group, spawn_logged, stop_group
from devenv.ports import DEFAULT_HOST, port_accepts
from devenv.temporal_cli import TemporalServerError, cache_bin_dir, project_root
from devenv.temporal_server import DEFAULT_DYNAMIC_CONFIG

SERVER_MODULE = "go.temporal.io/server"
SERVER_VERSION = "v1.29.1"
SERVER_BINARY = "temporal-server"
SQL_TOOL_BINARY = "temporal-sql-tool"
SCHEMA_SUBDIR = Path("schema") / "postgresql" / "v12"
PLUGIN = "postgres12"
ENVIRONMENT = "itilflow"
"""The config file's name (`<config dir>/<environment>.yaml`), as the server's `--env` wants it."""


def schema_dir() -> Path:
    """Where the installed server's PostgreSQL schemas are (`temporal/`, `visibility/`)."""
    return project_root() / ".cache" / "temporal-schema" / "postgresql" / "v12"


def find_server() -> Path | None:
    """The installed `temporal-server`, or None."""
    path = cache_bin_dir() / SERVER_BINARY
    return path if path.is_file() else None


def installed() -> bool:
    return (
        find_server() is not None and (cache_bin_dir() / SQL_TOOL_BINARY).is_file() and schema_dir().is_dir()
    )


def install_server(force: bool = False) -> Path:
    """Build the Temporal server and its SQL tool into `.cache/bin` and copy the schemas (once)."""
    if installed() and not force:
        server = find_server()
        assert server is not None
        return server
    go = shutil.which("go")
    if go is None:
        raise TemporalServerError(
            f"Go toolchain not found on PATH; it is needed to build {SERVER_MODULE}@{SERVER_VERSION}"
        )
    target_bin = cache_bin_dir()
    target_bin.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="itilflow-gobin-") as gobin:
        env = {**os.environ, "GOBIN": gobin, "CGO_ENABLED": "0"}
        for package, built, name in (
            ("cmd/server", "server", SERVER_BINARY),
            ("cmd/tools/sql", "sql", SQL_TOOL_BINARY),
        ):
            target = f"{SERVER_MODULE}/{package}@{SERVER_VERSION}"
            rc = subprocess.call([go, "install", target], env=env)
            if rc != 0 or not (Path(gobin) / built).is_file():
                raise TemporalServerError(
                    f"'go install {target}' failed (exit code {rc}); see the output above"
                )
            shutil.move(str(Path(gobin) / built), target_bin / name)
    modcache = subprocess.run([go, "env", "GOMODCACHE"], capture_output=True, text=True, check=True).stdout
    source = Path(modcache.strip()) / f"{SERVER_MODULE}@{SERVER_VERSION}" / SCHEMA_SUBDIR
    if schema_dir().exists():
        for path in [schema_dir(), *schema_dir().rglob("*")]:
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(schema_dir())
    shutil.copytree(source, schema_dir())
    for path in [schema_dir(), *schema_dir().rglob("*")]:  # the module cache is read-only; the copy
        path.chmod(0o755 if path.is_dir() else 0o644)  # need not be (a later install replaces it)
    return target_bin / SERVER_BINARY


def settings_from_url(url: str, **overrides: Any) -> ClusterSettings:
    """Settings from a PostgreSQL URL (`postgresql://user:password@host:port`; a database in the
    path names the main database, the visibility one is `<name>_visibility`)."""
    parts = urlsplit(url)
    if parts.scheme.split("+")[0] not in ("postgresql", "postgres") or not parts.hostname:
        raise TemporalServerError(f"not a PostgreSQL URL: {parts.scheme}://{parts.hostname or ''}")
    values: dict[str, Any] = {"pg_host": parts.hostname, "pg_port": parts.port or 5432}
    if parts.username:
        values["pg_user"] = unquote(parts.username)
    if parts.password:
        values["pg_password"] = unquote(parts.password)
    database = parts.path.lstrip("/")
    if database:
        values["database"] = database
        values["visibility_database"] = f"{database}_visibility"
    values.update({k: v for k, v in overrides.items() if v is not None})
    return ClusterSettings(**values)


def _free_low_port(host: str) -> int:
    """A free port below 32768: the server records its services' ports in `cluster_membership`,
    whose columns are PostgreSQL smallints (the kernel's ephemeral ports are above)."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randint(20000, 32767)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return port
    raise TemporalServerError(f"no free port between 20000 and 32767 on {host}")


@dataclass
class ClusterSettings:
    """Where the server's databases are and where it listens. Ports default to free ones."""

    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_user: str = "temporal"
    pg_password: str = "temporal"
    database: str = "temporal"
    visibility_database: str = "temporal_visibility"
    shards: int = 4
    host: str = DEFAULT_HOST
    frontend_port: int = 0
    ports: dict[str, int] = field(default_factory=dict)
    namespace: str = "default"
    retention_days: int = 30

    def __post_init__(self) -> None:
        if not self.frontend_port:
            self.frontend_port = _free_low_port(self.host)
        for name in (
            "frontend_membership",
            "frontend_http",
            "history",
            "history_membership",
            "matching",
            "matching_membership",
            "worker",
            "worker_membership",
            "metrics",
        ):
            self.ports.setdefault(name, _free_low_port(self.host))

    @property
    def address(self) -> str:
        return f"{self.host}:{self.frontend_port}"


def render_config(settings: ClusterSettings, dynamic_config_file: Path) -> dict[str, Any]:
    """The server's configuration (the module's development-postgres12.yaml, trimmed)."""

    def store(database: str, conns: int) -> dict[str, Any]:
        return {
            "sql": {
                "pluginName": PLUGIN,
                "databaseName": database,
                "connectAddr": f"{settings.pg_host}:{settings.pg_port}",
                "connectProtocol": "tcp",
                "user": settings.pg_user,
                "password": settings.pg_password,
                "maxConns": conns,
                "maxIdleConns": conns,
                "maxConnLifetime": "1h",
            }
        }

    p = settings.ports

    def rpc(grpc: int, membership: int, **extra: int) -> dict[str, Any]:
        return {"rpc": {"grpcPort": grpc, "membershipPort": membership, "bindOnIP": settings.host, **extra}}

    return {
        "log": {"stdout": True, "level": "warn"},
        "persistence": {
            "defaultStore": "postgres-default",
            "visibilityStore": "postgres-visibility",
            "numHistoryShards": settings.shards,
            "datastores": {
                "postgres-default": store(settings.database, 20),
                "postgres-visibility": store(settings.visibility_database, 4),
            },
        },
        "global": {
            "membership": {"maxJoinDuration": "30s", "broadcastAddress": settings.host},
            "metrics": {
                "prometheus": {
                    "framework": "tally",
                    "timerType": "histogram",
                    "listenAddress": f"{settings.host}:{p['metrics']}",
                }
            },
        },
        "services": {
            "frontend": rpc(settings.frontend_port, p["frontend_membership"], httpPort=p["frontend_http"]),
            "history": rpc(p["history"], p["history_membership"]),
            "matching": rpc(p["matching"], p["matching_membership"]),
            "worker": rpc(p["worker"], p["worker_membership"]),
        },
        "clusterMetadata": {
            "enableGlobalNamespace": False,
            "failoverVersionIncrement": 10,
            "masterClusterName": "active",
            "currentClusterName": "active",
            "clusterInformation": {
                "active": {
                    "enabled": True,
                    "initialFailoverVersion": 1,
                    "rpcName": "frontend",
                    "rpcAddress": settings.address,
                }
            },
        },
        "dcRedirectionPolicy": {"policy": "noop"},
        "dynamicConfigClient": {"filepath": str(dynamic_config_file), "pollInterval": "60s"},
    }


def dynamic_config() -> dict[str, Any]:
    """The dev server's settings that matter in production too (eager activities, one write
    partition per task queue: see devenv/temporal_server.py), in the server's file format."""
    out: dict[str, Any] = {}
    for key, value in DEFAULT_DYNAMIC_CONFIG.items():
        parsed: Any = {"true": True, "false": False}.get(value, value)
        if isinstance(parsed, str) and parsed.isdigit():
            parsed = int(parsed)
        out[key] = [{"value": parsed}]
    return out


# --- schemas ------------------------------------------------------------------------------------------


def _sql_tool(settings: ClusterSettings, database: str, *args: str) -> None:
    tool = cache_bin_dir() / SQL_TOOL_BINARY
    if not tool.is_file():
        raise TemporalServerError(
            "temporal-sql-tool not found; run 'itilflow server install --cluster' first"
        )
    cmd = [
        str(tool),
        "--plugin",
        PLUGIN,
        "--ep",
        settings.pg_host,
        "-p",
        str(settings.pg_port),
        "-u",
        settings.pg_user,
        "--db",
        database,
        *args,
    ]
    # The password goes in the environment, never on a command line others can read (ps).
    env = {**os.environ, "SQL_PASSWORD": settings.pg_password}
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
        raise TemporalServerError(f"temporal-sql-tool {' '.join(args)} on {database} failed:\n{tail}")


def setup_schema(settings: ClusterSettings, *, create_databases: bool = True) -> None:
    """Create (if asked) and set up or upgrade both databases to the installed server's schema.

    Safe to run again: `setup-schema -v 0.0` only creates the version table when it is missing, and
    `update-schema` applies the versions not yet applied (this is how a server upgrade is done)."""
    for database, kind in ((settings.database, "temporal"), (settings.visibility_database, "visibility")):
        if create_databases:
            try:
                _sql_tool(settings, database, "create-database")
            except TemporalServerError as exc:
                if "already exists" not in str(exc):
                    raise
        _sql_tool(settings, database, "setup-schema", "-v", "0.0")
        _sql_tool(settings, database, "update-schema", "-d", str(schema_dir() / kind / "versioned"))


# --- the server process -------------------------------------------------------------------------------


class TemporalCluster:
    """`temporal-server start` with every service in one process, in its own process group."""

    def __init__(
        self,
        settings: ClusterSettings,
        run_dir: Path,
        *,
        startup_timeout: float = 120.0,
        stop_grace: float = 15.0,
    ) -> None:
        self.settings = settings
        self.run_dir = Path(run_dir)
        self.startup_timeout = startup_timeout
        self.stop_grace = stop_grace
        self.log_file = self.run_dir / "temporal-server.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return self.settings.address

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def write_config(self) -> Path:
        """Render the configuration into `<run_dir>/config/` and return that folder."""
        config_dir = self.run_dir / "config"
        config_dir.mkdir(parents=True, exist_ok=True)
        dynamic = config_dir / "dynamicconfig.yaml"
        dynamic.write_text(yaml.safe_dump(dynamic_config()))
        config = config_dir / f"{ENVIRONMENT}.yaml"
        config.touch(mode=0o600)  # it holds the database password
        config.write_text(yaml.safe_dump(render_config(self.settings, dynamic)))
        return config_dir

    def command(self, server: Path) -> list[str]:
        return [
            str(server),
            "--root",
            str(self.run_dir),
            "--config",
            "config",
            "--env",
            ENVIRONMENT,
            "--allow-no-auth",
            "start",
        ]

    def start(self) -> TemporalCluster:
        """Start the server, wait until its frontend answers, register the namespace if missing."""
        if self.running:
            return self
        server = find_server()
        if server is None:
            raise TemporalServerError(
                "temporal-server not found; run 'itilflow server install --cluster' first"
            )
        if port_accepts(self.settings.host, self.settings.frontend_port):
            raise TemporalServerError(f"{self.address} is already in use")
        self.write_config()
        self._proc = spawn_logged(self.command(server), self.log_file, cwd=self.run_dir)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        from devenv.namespaces import ensure_namespace  # the temporalio client, only when needed

        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                self._fail(f"exited with code {self._proc.returncode} during startup")
            if port_accepts(self.settings.host, self.settings.frontend_port):
                try:
                    ensure_namespace(self.address, self.settings.namespace, self.settings.retention_days)
                    return
                except Exception:  # noqa: BLE001 - the frontend answers before the history shards
                    pass
            time.sleep(0.5)
        self._fail(f"did not serve namespace {self.settings.namespace} within {self.startup_timeout:g}s")

    def _fail(self, why: str) -> NoReturn:
        self.stop()
        text = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
        tail = "\n".join(text.splitlines()[-40:]) or "<empty>"
        raise TemporalServerError(f"Temporal server {why}. Log {self.log_file} (tail):\n{tail}")

    def wait(self) -> int:
        if self._proc is None:
            raise TemporalServerError("Temporal server was not started")
        return self._proc.wait()

    def kill(self) -> None:
        """SIGKILL the server (a crash, for the fault tests); `start` brings it back."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            signal_group(proc.pid, signal.SIGKILL)
            proc.wait()

    def stop(self) -> None:
        """SIGTERM the process group; SIGKILL it after `stop_grace` seconds."""
        proc, self._proc = self._proc, None
        stop_group(proc, self.stop_grace)

    def __enter__(self) -> TemporalCluster:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
