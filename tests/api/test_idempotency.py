"""Idempotency-Key: a retried request returns the original answer and acts once."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import Engine, delete
from sqlmodel import Session, col, select

from core.db import session_scope
from core.tables import AuditRow, IdempotencyRow, RecordRow
from tests.api.conftest import Api


async def test_same_key_creates_one_record(api: Api, mini: str, db_engine: Engine) -> None:
    key, title = uuid.uuid4().hex, f"once {uuid.uuid4().hex}"
    first = await api.create("alice", mini, title=title, key=key)
    second = await api.create("alice", mini, title=title, key=key)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers.get("Idempotency-Replayed") == "true"
    with Session(db_engine) as session:
        assert len(session.exec(select(RecordRow).where(RecordRow.title == title)).all()) == 1

    other = await api.create("alice", mini, title=title + " changed", key=key)
    assert other.status_code == 422 and "already used with a different request" in other.json()["detail"]


async def test_same_key_fires_a_transition_once(api: Api, mini: str, db_engine: Engine) -> None:
    rec = (await api.create("alice", mini)).json()
    url, key = f"/api/v1/processes/{rec['id']}/transitions", uuid.uuid4().hex
    body = {"trigger": "accept", "fields": {"assignee": "bob"}}
    first = await api.post("bob", url, body, key=key)
    second = await api.post("bob", url, body, key=key)
    assert first.status_code == second.status_code == 200 and first.json() == second.json()

    # The response was lost before it was stored (say the API died): the retry reaches the workflow,
    # which recognises the update id and answers with the current state instead of acting again.
    with session_scope(db_engine) as session:
        session.execute(delete(IdempotencyRow).where(col(IdempotencyRow.key) == key))
    third = await api.post("bob", url, body, key=key)
    assert third.status_code == 200 and third.json()["state"] == "in_progress"
    with Session(db_engine) as session:
        moves = session.exec(
            select(AuditRow).where(AuditRow.record_id == rec["id"], AuditRow.action == "transition")
        ).all()
    assert len(moves) == 1

    # A refusal is an answer too: replayed as it was, even after the state changed.
    key2 = uuid.uuid4().hex
    refused = await api.post("bob", url, {"trigger": "confirm"}, key=key2)
    assert refused.status_code == 409
    again = await api.post("bob", url, {"trigger": "confirm"}, key=key2)
    assert again.status_code == 409 and again.json() == refused.json()


async def test_retried_create_after_lost_response_converges(api: Api, mini: str, db_engine: Engine) -> None:
    key, title = uuid.uuid4().hex, f"lost {uuid.uuid4().hex}"
    first = await api.create("bob", mini, title=title, key=key)
    with session_scope(db_engine) as session:
        session.execute(delete(IdempotencyRow).where(col(IdempotencyRow.key) == key))
    second = await api.create("bob", mini, title=title, key=key)
    assert second.status_code == 201 and second.json()["id"] == first.json()["id"]
    assert second.json()["number"] == first.json()["number"]
    with Session(db_engine) as session:
        assert len(session.exec(select(RecordRow).where(RecordRow.title == title)).all()) == 1


async def test_keys_are_per_user(api: Api, mini: str) -> None:
    key = uuid.uuid4().hex
    a = await api.create("alice", mini, title="same key", key=key)
    b = await api.create("bob", mini, title="same key", key=key)
    assert a.status_code == b.status_code == 201 and a.json()["id"] != b.json()["id"]


async def test_a_key_in_use_is_refused_for_another_request(api: Api, mini: str, db_engine: Engine) -> None:
    """Two requests with one key at the same moment: the same request acts once and both get its
    answer; a different one is refused and changes nothing (SQLite: claimed in the API process,
    PostgreSQL: by a row)."""
    rec = (await api.create("alice", mini)).json()
    url = f"/api/v1/processes/{rec['id']}/transitions"
    body = {"trigger": "accept", "fields": {"assignee": "bob"}}
    key = uuid.uuid4().hex
    same = await asyncio.gather(*(api.post("bob", url, body, key=key) for _ in range(3)))
    assert {r.status_code for r in same} == {200}
    assert {r.json()["seq"] for r in same} == {same[0].json()["seq"]}
    if db_engine.dialect.name == "sqlite":  # the copies waited for the first's answer
        assert sorted(r.headers.get("Idempotency-Replayed", "") for r in same) == ["", "true", "true"]

    rec = (await api.create("alice", mini)).json()
    url = f"/api/v1/processes/{rec['id']}/transitions"
    key = uuid.uuid4().hex
    bodies = [body, {**body, "comment": "another request"}]
    answers = await asyncio.gather(*(api.post("bob", url, b, key=key) for b in bodies))
    assert sorted(r.status_code for r in answers) == [200, 422]
    won = 0 if answers[0].status_code == 200 else 1
    refused = answers[1 - won].json()
    assert refused["status"] == 422 and "already used with a different request" in refused["detail"]
    with Session(db_engine) as session:
        moves = session.exec(
            select(AuditRow).where(AuditRow.record_id == rec["id"], AuditRow.action == "transition")
        ).all()
    # One move, with the winner's comment: nothing of the refused request landed.
    assert [m.comment for m in moves] == [bodies[won].get("comment")]
    # Afterwards the key still names the winner's request only.
    late = await api.post("bob", url, bodies[1 - won], key=key)
    assert late.status_code == 422
    again = await api.post("bob", url, bodies[won], key=key)
    assert again.status_code == 200 and again.headers.get("Idempotency-Replayed") == "true"


async def test_the_answer_is_stored(api: Api, mini: str, db_engine: Engine) -> None:
    """The stored answer outlives the process: a retry after a restart replays it (on SQLite it is
    written just after the response is sent)."""
    key = uuid.uuid4().hex
    first = await api.create("alice", mini, title=f"stored {key}", key=key)
    assert first.status_code == 201
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        with Session(db_engine) as session:
            row = session.get(IdempotencyRow, (key, "alice"))
        if row is not None and row.status_code is not None:
            break
        assert asyncio.get_running_loop().time() < deadline, "the answer was never stored"
        await asyncio.sleep(0.05)
    assert row.status_code == 201 and row.response is not None
    assert row.response["body"] == first.json()


async def test_a_malformed_key_is_listed_in_request_order(api: Api) -> None:
    """The `Idempotency-Key` header comes with a dependency (`api.deps.Idempotent`), whose errors
    FastAPI lists first; the problem lists every part in request order: path, header, body."""
    r = await api.post("bob", f"/api/v1/processes/{'x' * 101}/transitions", {"trigger": 3}, key="a b")
    assert r.status_code == 422
    assert [e["path"] for e in r.json()["errors"]] == [
        "path.record",
        "header.Idempotency-Key",
        "body.trigger",
    ]
