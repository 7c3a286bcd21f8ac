"""The CMDB behind the API: its refusals as problem details in the caller's language, and a write
run in its own transaction off the event loop, once per Idempotency-Key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from anyio.to_thread import run_sync
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session

from api.auth import Principal
from api.idempotency import IdempotentRequest
from api.identity import audit
from api.problems import ProblemError
from cmdb.errors import CmdbError
from core.db import session_scope

T = TypeVar("T", bound=BaseModel)


def problem(exc: CmdbError, lang: str) -> ProblemError:
    return ProblemError(
        exc.status,
        exc.detail(lang),
        errors=[{"path": i.path, "message": i.message(lang)} for i in exc.issues],
        kind=exc.kind,
    )


@contextmanager
def refusals(user: Principal) -> Iterator[None]:
    """A CMDB refusal leaves as a problem in the caller's language (nothing was written: the
    transaction around it rolls back)."""
    try:
        yield
    except CmdbError as exc:
        raise problem(exc, user.language) from None


def _unauthorised(engine: Engine, user: Principal, exc: CmdbError) -> None:
    """A refused edit of a CI that changes only through a change is kept in the admin audit trail (the
    edit itself wrote nothing): the configuration KPIs count these attempts (003 App. B.11)."""
    with session_scope(engine) as session:
        audit.record(
            session, actor=user.username, action="cmdb.unauthorised_edit", target=f"ci:{exc.ci_id or ''}"
        )


def read(session: Session, user: Principal, fn: Callable[[Session], T]) -> T:
    with refusals(user):
        return fn(session)


async def write(
    engine: Engine,
    user: Principal,
    idempotency: IdempotentRequest,
    body: BaseModel | str | None,
    fn: Callable[[Session], T],
    *,
    status: int = 200,
) -> Response:
    """`fn` in one transaction in a worker thread; its answer stored under the Idempotency-Key."""

    def run() -> T:
        with refusals(user):
            try:
                with session_scope(engine) as session:
                    return fn(session)
            except CmdbError as exc:
                if exc.kind == "ChangeRequired":
                    _unauthorised(engine, user, exc)
                raise

    async def act() -> Any:
        return await run_sync(run)

    return await idempotency.respond(body, act, status=status)
