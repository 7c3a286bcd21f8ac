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
- on SQLite in this process (`_Claims`). There every write queues for the one database lock, which
  the worker (another process) takes for each change it records; a claim row before and the answer
  after cost two waits per action, and the tail of the API benchmark doubled. So the claim lives in
  memory, a retry that arrives while the key's request runs gets that request's answer, and the
  answer is written once, after it has been sent. SQLite serves one API process (`itilflow dev`,
  `itilflow api`), and a single process sees all of its own requests.
Answers of 5xx are not stored, so a retry after a transient failure really retries.

Routes use it through one helper: the `Idempotent` dependency (api/deps.py) gives an acting route an
`IdempotentRequest`, and `await idempotency.respond(body, act, status=...)` does the rest.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

# anyio's thread pool (FastAPI's own) has 40 threads; asyncio.to_thread's default has cores + 4.
from anyio.to_thread import run_sync
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import Engine, Row, Table, TextClause, bindparam, select

from api.problems import PROBLEM_MEDIA_TYPE, ProblemError
from core.db import cacheable, insert_ignore, session_scope, upsert_insert
from core.store import utcnow
from core.tables import IdempotencyRow

Outcome = tuple[int, Any]
log = logging.getLogger(__name__)
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
        zh=f"Idempotency-Key“{key}”已用于另一个不同的请求；请换一个新的",
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


def _save(engine: Engine, username: str, key: str, digest: str, answer: Answer) -> None:
    status, body, media_type = answer
    values = {
        "key": key,
        "username": username,
        "request_hash": digest,
        "status_code": status,
        "response": {"body": body, "media_type": media_type},
        "created_at": utcnow(),
    }
    with session_scope(engine) as session:
        session.execute(_store_answer(engine.dialect.name), values)


# An answer: status, body, media type.
Answer = tuple[int, Any, str]


async def _act(run: Callable[[], Awaitable[Outcome]]) -> Answer:
    """Run the request; a refusal (4xx) is an answer too, a 5xx is raised and never stored."""
    try:
        status, body = await run()
    except ProblemError as problem:
        if problem.status >= 500:
            raise
        return problem.status, problem.body(), PROBLEM_MEDIA_TYPE
    return status, body, "application/json"


def _stored_answer(found: Row[Any] | None, key: str, digest: str) -> Answer | None:
    if found is None:
        return None
    if found.request_hash != digest:
        raise _reused(key)
    if found.status_code is None or found.response is None:
        return None  # claimed, not answered: the request is running elsewhere, or died
    saved = found.response
    return found.status_code, saved.get("body"), saved.get("media_type", "")


@dataclass
class _Claim:
    digest: str
    # The answer, or None when the request failed without one (a retry then acts itself).
    answer: asyncio.Future[Answer | None]


class _Claims:
    """SQLite: the keys whose requests run in this process.

    A retry with the same request while the first runs waits for the first's answer; another request
    with the key is refused. The answer is stored after it has been sent (one write off the
    response's path) and the claim answers from memory until then. If the process dies before the
    write, a retry acts again, which Temporal's update ids and the record id make harmless.
    """

    def __init__(self) -> None:
        self._held: dict[tuple[str, str], _Claim] = {}
        self._saving: set[asyncio.Task[None]] = set()

    async def run(
        self, engine: Engine, username: str, key: str, digest: str, run: Callable[[], Awaitable[Outcome]]
    ) -> Response:
        slot = (username, key)
        while (held := self._held.get(slot)) is not None:
            if held.digest != digest:
                raise _reused(key)
            answer = await asyncio.shield(held.answer)
            if answer is not None:
                return _response(*answer, replayed=True)
        claim = self._held[slot] = _Claim(digest, asyncio.get_running_loop().create_future())
        try:
            # On the event loop: a read, and SQLite's write-ahead log never makes a reader wait for
            # a writer (the worker's, in another process). A hop to a thread cost more than the
            # read. Writes (`_store`) go to a thread: a writer does wait for another.
            found = _lookup(engine, username=username, key=key, claim=None)
            stored = _stored_answer(found, key, digest)
            answer = stored if stored is not None else await _act(run)
        except BaseException:
            del self._held[slot]
            claim.answer.set_result(None)
            raise
        claim.answer.set_result(answer)
        if stored is not None:
            del self._held[slot]
            return _response(*answer, replayed=True)
        task = asyncio.create_task(self._store(engine, slot, digest, answer))
        self._saving.add(task)
        task.add_done_callback(self._saving.discard)
        return _response(*answer)

    async def _store(self, engine: Engine, slot: tuple[str, str], digest: str, answer: Answer) -> None:
        try:
            await run_sync(partial(_save, engine, slot[0], slot[1], digest, answer))
        except Exception as exc:  # noqa: BLE001 - a lost answer only makes a retry act again
            log.warning("the answer to Idempotency-Key %r was not stored: %s", slot[1], type(exc).__name__)
        finally:
            del self._held[slot]


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
    if engine.dialect.name == "sqlite":
        return await _CLAIMS.run(engine, username, key, digest, run)
    # PostgreSQL: the claim is a row, seen by every API process.
    found = await run_sync(partial(_lookup, engine, username=username, key=key, claim=digest))
    stored = _stored_answer(found, key, digest)
    if stored is not None:
        return _response(*stored, replayed=True)
    answer = await _act(run)
    await run_sync(partial(_save, engine, username, key, digest, answer))
    return _response(*answer)


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    """One acting request with its caller and `Idempotency-Key`: what every acting route needs to
    answer once per key.

    Routes get it from the `Idempotent` dependency (api/deps.py) and answer with `respond`, so the
    claim -> act -> store-the-answer sequence above lives here once instead of in each route, and
    the key is fingerprinted the same way everywhere (method, path and body).
    """

    engine: Engine
    username: str
    key: str | None
    method: str
    path: str

    @property
    def update_id(self) -> str | None:
        """The Temporal update id of the action (see the module docstring: the second layer)."""
        return update_id(self.username, self.key)

    async def respond(
        self,
        body: BaseModel | str | None,
        act: Callable[[], Awaitable[BaseModel]],
        *,
        status: int = 200,
    ) -> Response:
        """Answer with `act()`'s result as JSON with `status`, acting once per (caller, key).

        `body` is the request's content as the fingerprint sees it: a model (its JSON form), raw
        text (a YAML definition) or None (no body). A retry with the same key and body gets the
        stored answer with `Idempotency-Replayed: true`; another body with the key is refused (422).
        """

        async def run() -> Outcome:
            # By alias, as FastAPI answers a route's model (a CI's `class`, declared so in the OpenAPI).
            return status, (await act()).model_dump(mode="json", by_alias=True)

        digest = ""  # without a key nothing is remembered, so nothing is compared either
        if self.key:
            content = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
            digest = fingerprint(self.method, self.path, content)
        return await idempotent(self.engine, username=self.username, key=self.key, digest=digest, run=run)
