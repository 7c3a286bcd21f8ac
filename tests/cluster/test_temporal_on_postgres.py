"""The production Temporal server (not the dev server), built at set-up from its Go module, on
PostgreSQL with several history shards: its schemas set up by the project, a record worked through
it, and the server killed with SIGKILL mid-record and started again without losing anything.

Needs PostgreSQL: it runs in the PostgreSQL phase of `make test` (ITILFLOW_TEST_DATABASE_URL), with
the read model on the same PostgreSQL server as Temporal's databases (new ones, dropped afterwards).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import Engine, create_engine, text
from temporalio.client import Client

from core.converter import data_converter
from devenv.temporal_cluster import (
    ClusterSettings,
    TemporalCluster,
    installed,
    settings_from_url,
    setup_schema,
)
from tests.engine_helpers import BOB, audit, new_record
from worker.registry import build_worker

PG_URL = os.environ.get("ITILFLOW_TEST_DATABASE_URL", "")

pytestmark = [
    pytest.mark.skipif(
        not PG_URL.startswith("postgresql"),
        reason="needs PostgreSQL: runs in the PostgreSQL phase of `make test`",
    ),
    pytest.mark.skipif(not installed(), reason="run `make setup` (itilflow server install --cluster)"),
]


def _drop(settings: ClusterSettings) -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in (settings.database, settings.visibility_database):
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TemporalCluster]:
    name = f"temporal_{uuid.uuid4().hex[:8]}"
    base = PG_URL.rsplit("/", 1)[0]
    settings = settings_from_url(f"{base}/{name}", shards=4)
    setup_schema(settings)
    setup_schema(settings)  # again: an upgrade with nothing to do changes nothing and does not fail
    server = TemporalCluster(settings, Path(tmp_path_factory.mktemp("cluster")))
    try:
        with server:
            yield server
    finally:
        _drop(settings)


@pytest_asyncio.fixture(loop_scope="session")
async def cluster_client(cluster: TemporalCluster) -> AsyncIterator[Client]:
    yield await Client.connect(cluster.address, data_converter=data_converter)


async def test_a_record_survives_the_server_killed_mid_record(
    cluster: TemporalCluster, cluster_client: Client, db_engine: Engine
) -> None:
    queue = f"cluster-{uuid.uuid4().hex[:8]}"
    async with build_worker(cluster_client, db_engine, queue):
        record = await new_record(cluster_client, db_engine, queue)
        await record.fire(BOB, "accept", assignee="bob")
        cluster.kill()
        # The same databases: everything Temporal acknowledged is still there.
        await asyncio.to_thread(cluster.start)
        await record.fire(BOB, "submit", plan="p", backout_plan="b", risk=1)
        snapshot = await record.snapshot()
    rows = audit(db_engine, snapshot.id)
    triggers = [row.details.get("trigger") for row in rows if row.action == "transition"]
    assert [row.action for row in rows].count("created") == 1 and triggers == ["accept", "submit"]
    history = await cluster_client.get_workflow_handle(snapshot.id).fetch_history()
    assert history.events, "the workflow's history lives in the server's PostgreSQL database"
    with create_engine(PG_URL).connect() as conn:  # the server's own tables, not the dev server's file
        name = cluster.settings.database
        assert conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar() == 1
