"""Many people act on one record at the same moment: nothing acknowledged is lost, doubled or wrong.

Each round sends a burst of concurrent actions (comments, field edits, transitions, approval decisions)
from several users to one record through the API, then compares the audit trail and the read model
with the workflow's own history fetched from Temporal (tests/concurrency_check.py). Concurrent
Updates make Temporal hand the worker workflow tasks with several Updates, and discard some of them
("Task not found when completing"); the retried task may apply the Updates in another order.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select
from temporalio.client import Client

from cli import main
from client.audit_check import compare
from core.settings import get_settings
from core.tables import AuditRow, RecordRow
from tests.api.conftest import MINI, Api
from workflows.contracts import RecordSnapshot, SnapshotQuery

ROUNDS = 4
COMMENTERS = ["alice", "bob"]  # the requester and the assignee


async def _accepted(api: Api, mini: str) -> dict:  # type: ignore[type-arg]
    rec = (await api.create("alice", mini)).json()
    url = f"/api/v1/processes/{rec['id']}/transitions"
    r = await api.post("bob", url, {"trigger": "accept", "fields": {"assignee": "bob"}})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def _burst_comments(api: Api, record_id: str, n: int) -> set[str]:
    bodies = [f"c{i}-{uuid.uuid4().hex[:6]}" for i in range(n)]

    async def one(i: int) -> str | None:
        r = await api.post(COMMENTERS[i % 2], f"/api/v1/processes/{record_id}/comments", {"body": bodies[i]})
        return bodies[i] if r.status_code == 201 else None

    answered = await asyncio.gather(*(one(i) for i in range(n)))
    return {b for b in answered if b}


@pytest.mark.timeout(600)
async def test_concurrent_comments_are_each_in_the_audit_once(
    api: Api, mini: str, temporal_client: Client, db_engine: Engine
) -> None:
    for _ in range(ROUNDS):
        rec = await _accepted(api, mini)
        acked = await _burst_comments(api, rec["id"], 20)
        assert len(acked) == 20
        result = await compare(temporal_client, db_engine, rec["id"])
        assert result.ok, result.describe()
        history = (await api.get("alice", f"/api/v1/processes/{rec['id']}/history")).json()
        comments = [h["comment"] for h in history if h["action"] == "comment"]
        assert sorted(comments) == sorted(acked)


@pytest.mark.timeout(600)
async def test_concurrent_mixed_actions_match_the_history(
    api: Api, mini: str, temporal_client: Client, db_engine: Engine
) -> None:
    """Comments, field edits and a transition at once; the transition and edits race each other."""
    rng = random.Random(7)
    for _ in range(ROUNDS):
        rec = await _accepted(api, mini)
        rid = rec["id"]
        comments = [f"/api/v1/processes/{rid}/comments"] * 12
        jobs = [
            api.post(["alice", "bob"][i % 2], url, {"body": uuid.uuid4().hex})
            for i, url in enumerate(comments)
        ]
        jobs += [
            api.patch("bob", f"/api/v1/processes/{rid}", {"fields": {"risk": rng.randint(1, 5)}})
            for _ in range(5)
        ]
        transitions = f"/api/v1/processes/{rid}/transitions"
        jobs += [
            api.post(user, transitions, {"trigger": trigger})
            for user, trigger in (("bob", "wait"), ("alice", "resume"), ("bob", "wait"))
        ]
        rng.shuffle(jobs)
        await asyncio.gather(*jobs)
        result = await compare(temporal_client, db_engine, rid)
        assert result.ok, result.describe()


async def _in_approval(api: Api, mini: str) -> tuple[str, str]:
    rec = await _accepted(api, mini)
    url = f"/api/v1/processes/{rec['id']}/transitions"
    body = {"trigger": "submit", "fields": {"plan": "p", "backout_plan": "b", "risk": 2}}
    r = await api.post("bob", url, body)
    assert r.status_code == 200, r.text
    task = next(t for t in r.json()["approvals"] if t["state"] == "pending")
    return rec["id"], task["id"]


POLICIES = {
    "any": "policy: any",
    "all": "policy: all",
    "quorum": "policy: quorum\n        quorum: 2",
    "percentage": "policy: percentage\n        percentage: 60",
}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("policy", list(POLICIES))
async def test_concurrent_decisions_record_the_outcome_temporal_has(
    api: Api, temporal_client: Client, db_engine: Engine, policy: str
) -> None:
    """Three CAB members decide at once (one rejects) while others comment: the read model's outcome
    is the workflow's, and each member's answer agrees with it."""
    source = MINI.replace("policy: quorum\n        quorum: 2", POLICIES[policy], 1)
    assert policy == "quorum" or source != MINI
    mini = await api.publish_mini(source=source)
    for _ in range(ROUNDS):
        rid, task_id = await _in_approval(api, mini)
        decide = f"/api/v1/approvals/{task_id}/decision"
        decisions = {"carol": "approve", "dave": "reject", "erin": "approve"}
        comments = f"/api/v1/processes/{rid}/comments"
        answers = await asyncio.gather(
            *(
                api.post(user, decide, {"decision": d, "comment": f"{d} by {user}"})
                for user, d in decisions.items()
            ),
            *(api.post(user, comments, {"body": uuid.uuid4().hex}) for user in ["alice", "bob"] * 4),
        )
        codes = [r.status_code for r in answers]
        assert all(c in (200, 201, 409) for c in codes), codes
        result = await compare(temporal_client, db_engine, rid)
        assert result.ok, result.describe()
        # The record page and the approvals inbox show the outcome Temporal has.
        record = (await api.get("alice", f"/api/v1/processes/{rid}")).json()
        state = await temporal_client.get_workflow_handle(rid).query(
            "snapshot", SnapshotQuery(), result_type=RecordSnapshot
        )
        assert record["state"] == state.state
        assert [a["state"] for a in record["approvals"]] == [a.state for a in state.approvals]


@pytest.mark.timeout(600)
async def test_a_closed_record_has_every_audit_row_sealed(
    api: Api, mini: str, temporal_client: Client, db_engine: Engine
) -> None:
    """Rows stay open only while the task that wrote them may be discarded: the closing action's rows
    are sealed once Temporal acknowledged it, so a closed record's trail is wholly append-only."""
    rec = await _accepted(api, mini)
    rid = rec["id"]
    await _burst_comments(api, rid, 8)
    url = f"/api/v1/processes/{rid}/transitions"
    r = await api.post("bob", url, {"trigger": "resolve", "fields": {"resolution": "fixed"}})
    assert r.status_code == 200, r.text
    r = await api.post("alice", url, {"trigger": "confirm"})
    assert r.status_code == 200 and r.json()["final"], r.text
    await temporal_client.get_workflow_handle(rid).result()
    with Session(db_engine) as session:
        rows = session.exec(select(AuditRow).where(AuditRow.record_id == rid)).all()
        record = session.get(RecordRow, rid)
        assert rows and record is not None and record.committed_seq == max(r.seq for r in rows)
        with pytest.raises(DBAPIError):
            session.execute(text("DELETE FROM audit_events WHERE record_id = :r"), {"r": rid})
        session.rollback()
        with pytest.raises(DBAPIError):
            session.execute(text("UPDATE audit_events SET comment = 'x' WHERE record_id = :r"), {"r": rid})
        session.rollback()
    result = await compare(temporal_client, db_engine, rid)
    assert result.ok, result.describe()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, temporal_address: str) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TEMPORAL_ADDRESS", temporal_address)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.timeout(600)
async def test_audit_verify_finds_what_temporal_never_acknowledged(
    api: Api, mini: str, db_engine: Engine, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """`itilflow audit verify` agrees after a burst, and names a row that no Update acknowledged."""
    rec = await _accepted(api, mini)
    await _burst_comments(api, rec["id"], 10)
    assert await asyncio.to_thread(main, ["audit", "verify", rec["number"]]) == 0
    assert f"OK    {rec['number']}" in capsys.readouterr().out
    with db_engine.begin() as conn:
        seq = conn.execute(
            text("SELECT max(seq) FROM audit_events WHERE record_id = :r"), {"r": rec["id"]}
        ).scalar()
        conn.execute(
            text(
                "INSERT INTO audit_events (record_id, seq, at, actor, action, comment, details)"
                " VALUES (:r, :s, :at, 'mallory', 'comment', 'forged', '{}')"
            ),
            {"r": rec["id"], "s": seq + 1, "at": datetime.now(UTC)},
        )
    assert await asyncio.to_thread(main, ["audit", "verify", rec["id"], "nosuch-record"]) == 1
    out = capsys.readouterr().out
    assert "DIFF" in out and "forged" in out and "MISSING nosuch-record" in out
