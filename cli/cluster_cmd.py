"""`itilflow server install --cluster | schema | start-cluster`: the production Temporal server on
PostgreSQL (devenv/temporal_cluster.py; docs/production.md walks through it)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from core.settings import get_settings
from devenv.temporal_cli import TemporalServerError
from devenv.temporal_cluster import (
    SERVER_VERSION,
    ClusterSettings,
    TemporalCluster,
    install_server,
    settings_from_url,
    setup_schema,
)

PG_URL_ENV = "ITILFLOW_TEMPORAL_DATABASE_URL"


def install_cluster(force: bool = False) -> int:
    try:
        server = install_server(force=force)
    except TemporalServerError as exc:
        print(f"error: {exc}")
        return 1
    print(f"{server}: Temporal server {SERVER_VERSION} (with temporal-sql-tool and its PostgreSQL schemas)")
    return 0


def _settings(args: argparse.Namespace) -> ClusterSettings:
    url = args.database_url or os.environ.get(PG_URL_ENV)
    if not url:
        raise TemporalServerError(
            f"give --database-url or set {PG_URL_ENV} (postgresql://user:password@host:port/db)"
        )
    return settings_from_url(
        url,
        shards=args.shards if "shards" in args else None,
        frontend_port=args.port if "port" in args else None,
        host=args.host if "host" in args else None,
        namespace=args.namespace if "namespace" in args else None,
    )


def _schema(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args)
        setup_schema(settings, create_databases=not args.no_create)
    except TemporalServerError as exc:
        print(f"error: {exc}")
        return 1
    print(
        f"schemas of {settings.database} and {settings.visibility_database} are up to date ({SERVER_VERSION})"
    )
    return 0


def _start(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args)
    except TemporalServerError as exc:
        print(f"error: {exc}")
        return 1
    run_dir = Path(args.run_dir or Path(get_settings().data_dir) / "temporal-cluster")
    run_dir.mkdir(parents=True, exist_ok=True)
    cluster = TemporalCluster(settings, run_dir)
    try:
        cluster.start()
    except TemporalServerError as exc:
        print(f"error: {exc}")
        return 1
    print(
        f"Temporal server {SERVER_VERSION} at {cluster.address} ({settings.shards} history shards, "
        f"namespace {settings.namespace}); log {cluster.log_file}"
    )
    try:
        return cluster.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.stop()


def register(ssub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    def database(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--database-url",
            help=f"the server's PostgreSQL: postgresql://user:password@host:port/db (default ${PG_URL_ENV}); "
            "the visibility database is <db>_visibility",
        )

    p = ssub.add_parser(
        "schema", help="create or upgrade the production Temporal server's PostgreSQL databases"
    )
    database(p)
    p.add_argument("--no-create", action="store_true", help="the databases exist already (no CREATEDB right)")
    p.set_defaults(func=_schema)
    p = ssub.add_parser(
        "start-cluster", help="run the production Temporal server on PostgreSQL in the foreground"
    )
    database(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7233, help="frontend gRPC port (default 7233)")
    p.add_argument(
        "--shards", type=int, default=4, help="history shards; fixed once the database exists (default 4)"
    )
    p.add_argument("--namespace", default="default", help="namespace registered at start if missing")
    p.add_argument("--run-dir", help="folder for the rendered configuration and the log")
    p.set_defaults(func=_start)
