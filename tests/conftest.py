"""Session-wide test fixtures: a real Temporal server, a client, task queues, a database URL.

Environment variables:

``TEMPORAL_ADDRESS``
    Use this running Temporal server instead of starting a dev server for the session.
``ITILFLOW_TEST_DATABASE_URL``
    Database URL for the tests (e.g. the one printed by ``scripts/setup-postgres.sh``);
    by default a fresh SQLite file in a temporary folder.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from temporalio.client import Client

from core.converter import data_converter
from devenv.temporal_server import temporal_server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run every async test in the session event loop, like the session-scoped fixtures.

    ``asyncio_default_test_loop_scope`` only exists from pytest-asyncio 0.26; this makes the
    session loop the default on older versions too. An explicit marker on a test still wins.
    """
    session_loop = pytest.mark.asyncio(loop_scope="session")
    for item in items:
        # Tests that touch the database run a second time on PostgreSQL in CI (`pytest -m db`).
        if "db_engine" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)
        if not pytest_asyncio.is_async_test(item):
            continue
        marker = item.get_closest_marker("asyncio")
        if marker is None or not {"loop_scope", "scope"} & set(marker.kwargs):
            item.add_marker(session_loop, append=False)


@pytest.fixture(scope="session")
def temporal_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``$TEMPORAL_ADDRESS``, else an in-memory dev server started for the test session."""
    with temporal_server(tmp_path_factory.mktemp("temporal"), headless=True) as address:
        yield address


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def temporal_client(temporal_address: str) -> AsyncIterator[Client]:
    client = await Client.connect(temporal_address, data_converter=data_converter)
    yield client


@pytest.fixture
def task_queue() -> str:
    """A task queue name unique to the test."""
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """``$ITILFLOW_TEST_DATABASE_URL``, else a fresh SQLite file (tables are not created here)."""
    url = os.environ.get("ITILFLOW_TEST_DATABASE_URL", "").strip()
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'itilflow.sqlite'}"


# --- engine fixtures: a migrated database with a directory, and a worker on the test's queue ------------

import contextlib  # noqa: E402
from collections.abc import AsyncIterator as _AsyncIterator  # noqa: E402
from pathlib import Path  # noqa: E402

from sqlalchemy import Engine  # noqa: E402

from core.db import make_engine, migrate, session_scope  # noqa: E402
from core.store import upsert_user  # noqa: E402
from definitions.loader import PinnedDefinition, load_file, pin  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"

DIRECTORY = [
    # username, roles, groups, language
    ("alice", ["requester"], [], "en"),
    ("bob", ["agent"], ["desk"], "en"),
    ("carol", ["approver"], ["cab"], "zh"),
    ("dave", ["approver"], ["cab"], "en"),
    ("erin", ["approver"], ["cab"], "en"),
    ("boss", ["approver"], ["managers"], "zh"),
    ("lead", ["agent"], ["desk"], "zh"),
]


@pytest.fixture(scope="session")
def db_engine(database_url: str) -> Engine:
    migrate(database_url)
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        for name, roles, groups, lang in DIRECTORY:
            upsert_user(
                session,
                username=name,
                roles=roles,
                groups=groups,
                language=lang,
                email=f"{name}@example.test",
                display_name=name.title(),
            )
    return engine


def pinned_fixture(name: str, version: int = 1) -> PinnedDefinition:
    result = load_file(FIXTURES / name)
    assert result.ok, result.issues
    assert result.definition is not None
    return pin(result.definition, version)


@pytest_asyncio.fixture(loop_scope="session")
async def worker(temporal_client: Client, db_engine: Engine, task_queue: str) -> _AsyncIterator[object]:
    from worker.registry import build_worker

    w = build_worker(temporal_client, db_engine, task_queue)
    async with w:
        yield w
    with contextlib.suppress(Exception):
        pass
