"""`Idempotency-Key`: a retried POST returns the original answer and does nothing more.

Two layers, because a response can be lost at two places:
- the `idempotency_keys` table remembers (caller, key) -> request fingerprint and the answer, so a
  retry after a completed request replays the stored status and body without calling anything;
- the key also becomes the Temporal update id (and the record id of a create), so a retry after the
  server died between acting and storing still acts once: Temporal and the workflow remember update
  ids, and a workflow id starts one record only.
The same key with a different request is refused (422): a key names one request, not a slot.
Answers of 5xx are not stored, so a retry after a transient failure really retries.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine, update
from sqlmodel import col

from api.problems import PROBLEM_MEDIA_TYPE, ProblemError
from core.db import insert_ignore, session_scope
from core.store import utcnow
from core.tables import IdempotencyRow

Outcome = tuple[int, Any]
REPLAYED_HEADER = "Idempotency-Replayed"


def update_id(username: str, key: str | None) -> str | None:
    """The Temporal update id for an acting request (None: let Temporal pick one)."""
    return f"{username}:{key}" if key else None


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _response(status: int, body: Any, media_type: str, replayed: bool = False) -> Response:
    headers = {REPLAYED_HEADER: "true"} if replayed else None
    if status == 204:
        return Response(status_code=204, headers=headers)
    return JSONResponse(body, status_code=status, media_type=media_type, headers=headers)


def _stored(engine: Engine, *, username: str, key: str, digest: str) -> IdempotencyRow | None:
    """The row for this key, claiming it when it is new; refuses a key reused for another request."""
    with session_scope(engine) as session:
        insert_ignore(
            session,
            IdempotencyRow,
            [{"key": key, "username": username, "request_hash": digest, "created_at": utcnow()}],
            ["key", "username"],
        )
        row = session.get(IdempotencyRow, (key, username))
    if row is None:  # pragma: no cover - just inserted
        return None
    if row.request_hash != digest:
        raise ProblemError(
            422,
            f"Idempotency-Key '{key}' was already used with a different request; use a new key",
            errors=[{"path": "header.Idempotency-Key", "message": "reused with another request"}],
            kind="IdempotencyKeyReused",
        )
    return row


async def idempotent(
    engine: Engine,
    *,
    username: str,
    key: str | None,
    digest: str,
    run: Callable[[], Awaitable[Outcome]],
) -> Response:
    """Run `run` once per (caller, key): returns its answer, or the stored one on a retry."""
    # The database calls run in threads: a SQLite writer waits for the worker's writes (another
    # process) in a busy loop, and on the event loop that wait stalled every other request.
    if key:
        row = await asyncio.to_thread(_stored, engine, username=username, key=key, digest=digest)
        if row is not None and row.status_code is not None and row.response is not None:
            saved = row.response
            return _response(row.status_code, saved.get("body"), saved.get("media_type", ""), replayed=True)
    try:
        status, body = await run()
        media_type = "application/json"
    except ProblemError as problem:
        status, body, media_type = problem.status, problem.body(), PROBLEM_MEDIA_TYPE
        if status >= 500 or not key:
            raise
    if key:
        response = {"body": body, "media_type": media_type}
        await asyncio.to_thread(_save, engine, username, key, status, response)
    return _response(status, body, media_type)


def _save(engine: Engine, username: str, key: str, status: int, response: dict[str, Any]) -> None:
    with session_scope(engine) as session:
        session.execute(
            update(IdempotencyRow)
            .where(col(IdempotencyRow.key) == key, col(IdempotencyRow.username) == username)
            .values(status_code=status, response=response)
        )


async def idempotent_request(
    engine: Engine,
    request: Request,
    *,
    username: str,
    key: str | None,
    body: Any,
    run: Callable[[], Awaitable[Outcome]],
) -> Response:
    """`idempotent` for a route: the request is fingerprinted by its method, path and body."""
    digest = fingerprint(request.method, request.url.path, body)
    return await idempotent(engine, username=username, key=key, digest=digest, run=run)
