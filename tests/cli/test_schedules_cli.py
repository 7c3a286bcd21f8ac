"""`itilflow schedules …` against the test database and the real Temporal dev server (issue 20)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.client import Client

from cli import main
from core.settings import get_settings
from tests.api.conftest import Api, api, mini, settings, tokens  # noqa: F401 - the API tests' fixtures

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.db]


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, database_url: str, temporal_address: str, task_queue: str
) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TEMPORAL_ADDRESS", temporal_address)
    monkeypatch.setenv("ITILFLOW_TASK_QUEUE", task_queue)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def test_create_list_pause_resume_delete_from_the_shell(
    cli_env: None,
    api: Api,  # noqa: F811
    mini: str,  # noqa: F811
    temporal_client: Client,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec = tmp_path / "patrol.yaml"
    spec.write_text(
        f"name: Quarterly review\ndefinition: {mini}\ntitle: Capacity review\n"
        "fields: {impact: '2', urgency: '2'}\nrule: {kind: quarter_first_workday, at: '10:00'}\n",
        encoding="utf-8",
    )
    assert await asyncio.to_thread(main, ["schedules", "create", str(spec), "--owner", "owner"]) == 0
    sid = capsys.readouterr().out.split()[0]
    assert await asyncio.to_thread(main, ["schedules", "list", "--definition", mini]) == 0
    assert "kind=quarter_first_workday" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["schedules", "pause", sid]) == 0
    described = await temporal_client.get_schedule_handle(f"itilflow-schedule-{sid}").describe()
    assert described.schedule.state.paused
    assert await asyncio.to_thread(main, ["schedules", "resume", sid]) == 0
    assert await asyncio.to_thread(main, ["schedules", "show", sid]) == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{") :])["id"] == sid
    assert await asyncio.to_thread(main, ["schedules", "delete", sid]) == 0
    assert "deleted" in capsys.readouterr().out

    # Bad input: refused in both languages, nothing written.
    spec.write_text(
        f"name: Never\ndefinition: {mini}\ntitle: x\nfields: {{impact: '2', urgency: '2'}}\n"
        "rule: {kind: yearly, month: 2, day: 30}\n",
        encoding="utf-8",
    )
    assert await asyncio.to_thread(main, ["schedules", "create", str(spec), "--owner", "owner"]) == 2
    err = capsys.readouterr().err
    assert "month 2 has no day 30" in err and "2 月没有第 30 日" in err
