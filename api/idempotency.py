"""`Idempotency-Key`: a retried POST returns the original answer and does nothing more.

Two layers, because a response can be lost at two places:
- the `idempotency_keys` table remembers (caller, key) -> request fingerprint and the answer, so a
  retry after a completed request replays the stored status and body without calling anything;
- the key also becomes the Temporal update id (and the record id of a create), so a retry after the
  server died between acting and storing still acts once: Temporal and the workflow remember update
  ids, and a workflow id starts one record only.
The same key with a different request is refused (422): a key names one request, not a slot, and
that holds for a request still running too, so a key is claimed while its request runs:
- on PostgreSQL by a row inserted before acting (row locks: concurrent API processes see it);
- on SQLite in this process. There every write queues for the one database lock, which the worker
  (another process) takes for each change it records; a claim row before and the answer after cost
  two waits per action, and the tail of the API benchmark doubled. SQLite serves one API process
  (`itilflow dev`, `itilflow api`), and a single process sees all of its own requests.
Answers of 5xx are not stored, so a retry after a transient failure really retries.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from functools import cache, partial
from typing import Any

from anyio.to_thread import run_sync
from fastapi import Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine, Row, Table, TextClause, bindparam, select

from api.problems import PROBLEM_MEDIA_TYPE, ProblemError
from core.db import cacheable, insert_ignore, session_scope, upsert_insert
from core.store import utcnow
from core.tables import IdempotencyRow

Outcome = tuple[int, Any]
REPLAYED_HEADER = "Idempotency-Replayed"
KEYS: Table = IdempotencyRow.__table__  # type: ignore[attr-defined]
_LOOKUP = select(KEYS.c.request_hash, KEYS.c.status_code, KEYS.c.response).where(
    KEYS.c.key == bindparam("key"), KEYS.c.username == bindparam("username")
)


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


def _reused(key: str) -> ProblemError:
    return ProblemError(
        422,
        f"Idempotency-Key '{key}' was already used with a different request; use a new key",
        errors=[{"path": "header.Idempotency-Key", "message": "reused with another request"}],
        kind="IdempotencyKeyReused",
    )


def _lookup(engine: Engine, *, username: str, key: str, claim: str | None) -> Row[Any] | None:
    """The stored (request_hash, status_code, response) of this key; with `claim` (a request
    fingerprint), the key is first claimed for that request if it is new."""
    with session_scope(engine) as session:
        if claim is not None:
            row = {"key": key, "username": username, "request_hash": claim, "created_at": utcnow()}
            insert_ignore(session, IdempotencyRow, [row], ["key", "username"])
        return session.execute(_LOOKUP, {"key": key, "username": username}).first()


@cache
def _store_answer(dialect: str) -> TextClause:
    """Insert the key with its answer, or add the answer to the key's claim (same request only)."""
    stmt = upsert_insert(dialect)(KEYS)
    upsert = stmt.on_conflict_do_update(
        index_elements=["key", "username"],
        set_={"status_code": stmt.excluded.status_code, "response": stmt.excluded.response},
        where=KEYS.c.request_hash == stmt.excluded.request_hash,
    )
    keys = ("key", "username", "request_hash", "status_code", "response", "created_at")
    return cacheable(upsert, dialect, keys)


def _save(engine: Engine, username: str, key: str, digest: str, status: int, answer: dict[str, Any]) -> None:
    values = {
        "key": key,
        "username": username,
        "request_hash": digest,
        "status_code": status,
        "response": answer,
        "created_at": utcnow(),
    }
    with session_scope(engine) as session:
        session.execute(_store_answer(engine.dialect.name), values)


class _Claims:
    """SQLite: the keys whose requests run in this process, each with its request's fingerprint and
    how many copies of that request run (a client may retry before the first answer)."""

    def __init__(self) -> None:
        self._running: dict[tuple[str, str], tuple[str, int]] = {}

    def take(self, slot: tuple[str, str], digest: str) -> bool:
        held = self._running.get(slot)
        if held is not None and held[0] != digest:
            return False
        self._running[slot] = (digest, (held[1] if held else 0) + 1)
        return True

    def release(self, slot: tuple[str, str]) -> None:
        digest, count = self._running[slot]
        if count == 1:
            del self._running[slot]
        else:
            self._running[slot] = (digest, count - 1)


_CLAIMS = _Claims()


async def idempotent(
    engine: Engine,
    *,
    username: str,
    key: str | None,
    digest: str,
    run: Callable[[], Awaitable[Outcome]],
) -> Response:
    """Run `run` once per (caller, key): returns its answer, or the stored one on a retry."""
    if not key:
        status, body = await run()
        return _response(status, body, "application/json")
    in_process = engine.dialect.name == "sqlite"
    slot = (username, key)
    if in_process:
        # Claimed before looking: a request that finished with this key saved its answer before
        # letting go of the key, so one of the two checks sees it.
        if not _CLAIMS.take(slot, digest):
            raise _reused(key)
    try:
        # The database calls run in threads: a SQLite statement may wait for the worker's write
        # (another process), and on the event loop that wait would stall every other request. They
        # use anyio's pool (40 threads, FastAPI's own): asyncio.to_thread's default pool has
        # cores + 4 threads, 6 here, and 20 clients queued for them behind SQLite's lock waits.
        claim = None if in_process else digest
        found = await run_sync(partial(_lookup, engine, username=username, key=key, claim=claim))
        if found is not None:
            if found.request_hash != digest:
                raise _reused(key)
            if found.status_code is not None and found.response is not None:
                saved = found.response
                media_type = saved.get("media_type", "")
                return _response(found.status_code, saved.get("body"), media_type, replayed=True)
        try:
            status, body = await run()
            media_type = "application/json"
        except ProblemError as problem:
            if problem.status >= 500:
                raise
            status, body, media_type = problem.status, problem.body(), PROBLEM_MEDIA_TYPE
        response = {"body": body, "media_type": media_type}
        await run_sync(partial(_save, engine, username, key, digest, status, response))
    finally:
        if in_process:
            _CLAIMS.release(slot)
    return _response(status, body, media_type)


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
