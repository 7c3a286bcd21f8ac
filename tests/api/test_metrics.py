"""Prometheus /metrics on a real Temporal server: actions, refusals, approvals waiting, SLA thresholds and
timer lag (from the replay-safe workflow meter: a replay counts nothing), Temporal's own metrics, and
who may read them (the metrics token, loopback without one), on the API and on the worker's port."""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import Engine
from temporalio.worker import Replayer

from core.converter import data_converter
from core.settings import Settings
from tests.api.conftest import Api
from tests.api.observed import observed_stack
from worker.metrics_server import MetricsServer
from worker.registry import WORKFLOWS, sandbox_runner

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels` (0 when none)."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


async def scrape(api: Api, **headers: str) -> Samples:
    r = await api.http.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return parse(r.text)


async def test_actions_refusals_approvals_thresholds_and_temporal_metrics(
    settings: Settings, db_engine: Engine, tokens: dict[str, str]
) -> None:
    async with observed_stack(settings, db_engine, tokens) as (api, client):
        key = await api.publish_mini()
        before = await scrape(api)
        # Priority 1: the resolution clock's target is 4 s, its warning at 75 %.
        rec = (await api.create("alice", key, impact="1", urgency="1")).json()
        url = f"/api/v1/processes/{rec['id']}/transitions"
        assert (
            await api.post("alice", url, {"trigger": "accept", "fields": {"assignee": "bob"}})
        ).status_code == 403
        assert (await api.post("bob", url, {"trigger": "fly-to-the-moon"})).status_code == 409
        r = await api.post("bob", url, {"trigger": "accept", "fields": {"assignee": "bob"}})
        assert r.status_code == 200, r.text
        submit = {"trigger": "submit", "fields": {"plan": "swap", "backout_plan": "back", "risk": 2}}
        assert (await api.post("bob", url, submit)).status_code == 200

        after = await scrape(api)

        def grew(name: str, **labels: str) -> float:
            return value(after, name, **labels) - value(before, name, **labels)

        assert grew("itilflow_actions_total", definition=key, trigger="create", outcome="applied") == 1
        assert grew("itilflow_actions_total", definition=key, trigger="accept", outcome="applied") == 1
        assert grew("itilflow_actions_total", definition=key, trigger="accept", outcome="refused") == 1
        assert grew("itilflow_actions_total", definition=key, trigger="submit", outcome="applied") == 1
        # A trigger the definition lacks is counted without its (caller-chosen) name.
        assert grew("itilflow_actions_total", definition=key, trigger="(unknown)", outcome="refused") == 1
        assert not any("fly-to-the-moon" in str(labels) for _, labels in after)
        assert grew("itilflow_refusals_total", rule="NotAllowed") >= 1
        assert grew("itilflow_refusals_total", rule="UnknownTrigger") >= 1
        # The CAB's board level waits for decisions.
        assert value(after, "itilflow_approvals_waiting", definition=key) == 1
        assert value(after, "itilflow_approvals_oldest_waiting_seconds", definition=key) >= 0
        # Temporal's own client and worker metrics, through the runtime's buffer.
        assert any(name.startswith("temporal_") for name, _ in after)
        assert value(after, "temporal_request_total") > 0
        # No record data in any label: not its number, title or id.
        text = (await api.http.get("/metrics")).text
        for secret in (rec["number"], rec["id"], "Printer on fire", "alice"):
            assert secret not in text

        # The clock runs out (4 s): a warning and a breach, and how late their timers fired.
        labels = {"definition": key, "sla": "resolution"}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = await scrape(api)
            if value(now, "itilflow_sla_thresholds_total", level="breach", **labels) >= 1:
                break
            await asyncio.sleep(0.5)
        assert value(now, "itilflow_sla_thresholds_total", level="warning", **labels) == 1
        assert value(now, "itilflow_sla_thresholds_total", level="breach", **labels) == 1
        assert value(now, "itilflow_timer_lag_seconds_count", definition=key, timer="sla") >= 1

        # Replaying the record's history (a restarted worker) counts nothing again.
        from core.sdk_metrics import runtime

        history = await client.get_workflow_handle(rec["id"]).fetch_history()
        replayer = Replayer(
            workflows=list(WORKFLOWS),
            workflow_runner=sandbox_runner(),
            data_converter=data_converter,
            runtime=runtime(),
        )
        await replayer.replay_workflow(history)
        replayed = await scrape(api)
        assert value(replayed, "itilflow_sla_thresholds_total", level="breach", **labels) == 1
        assert value(replayed, "itilflow_sla_thresholds_total", level="warning", **labels) == 1


async def test_metrics_token_and_loopback_rule(
    settings: Settings, db_engine: Engine, tokens: dict[str, str]
) -> None:
    # Without a token: loopback only.
    async with observed_stack(settings, db_engine, tokens, client_host="203.0.113.9") as (api, _):
        r = await api.http.get("/metrics")
        assert r.status_code == 403 and "ITILFLOW_METRICS_TOKEN" in r.json()["detail"]
        r = await api.http.get("/metrics", headers={"Accept-Language": "zh-CN"})
        assert "指标只对本机开放" in r.json()["detail"]
    # With one: whoever sends it, from anywhere; a user's API token is not it.
    guarded = settings.model_copy(update={"metrics_token": SecretStr("scrape-me-please")})
    async with observed_stack(guarded, db_engine, tokens, client_host="203.0.113.9") as (api, _):
        assert (await api.http.get("/metrics")).status_code == 401
        r = await api.http.get("/metrics", headers={"Authorization": f"Bearer {tokens['root']}"})
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        await scrape(api, Authorization="Bearer scrape-me-please")


def _get(url: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.parametrize("token", [None, "worker-scrape"])
def test_worker_metrics_port(token: str | None) -> None:
    server = MetricsServer("127.0.0.1", 0, token)
    try:
        url = f"http://127.0.0.1:{server.port}/metrics"
        if token:
            assert _get(url)[0] == 401
            assert _get(url, "wrong")[0] == 401
        status, body = _get(url, token)
        assert status == 200
        assert "itilflow_notifications_total" in body or "# HELP itilflow_notifications" in body
        assert "process_resident_memory_bytes" in body
        assert _get(f"http://127.0.0.1:{server.port}/other", token)[0] == 404
    finally:
        server.close()
