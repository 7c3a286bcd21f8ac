"""FastAPI dependencies as `Annotated` aliases: settings, database session, Temporal client, caller."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Annotated, Any

from anyio.to_thread import run_sync
from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from api.access import SIGNED_IN, declares, roles_dependency
from api.auth import Principal, authenticate, identify, token_id_of, touch
from api.idempotency import IdempotentRequest
from api.problems import ProblemError
from api.ratelimit import FailureLimiter
from client.connection import connect_from
from core.db import session_scope
from core.settings import Settings

BEARER = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer itf_…`")


class TemporalConnection:
    """The app's Temporal client: injected, or connected on first use (and again after a failure)."""

    def __init__(self, settings: Settings, client: Client | None = None) -> None:
        self.settings = settings
        self.client = client
        self._lock = asyncio.Lock()

    async def get(self) -> Client:
        if self.client is not None:
            return self.client
        async with self._lock:
            if self.client is None:
                self.client = await connect_from(self.settings)
        return self.client


# Plain look-ups are coroutines: FastAPI would run a `def` dependency in its thread pool.
async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> AsyncIterator[Session]:
    """The request's session: committed at the end if the route left a transaction open, else rolled
    back on an error; never half-written.

    A coroutine, not a sync generator: FastAPI runs those in its thread pool, one hop to open the
    session and one to close it, which cost more than an action's reads. Opening takes no
    connection; the closing commit, which may wait for another writer, still runs in a thread. Action
    routes commit before they await Temporal (`services.updates.release`), so theirs have nothing left."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        if session.in_transaction():
            await run_sync(session.commit)
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


async def get_temporal(request: Request) -> Client:
    connection: TemporalConnection = request.app.state.temporal
    try:
        return await connection.get()
    except Exception as exc:  # noqa: BLE001 - any connection failure is the same answer
        raise ProblemError(
            503,
            f"the workflow engine (Temporal) is unreachable: {exc}",
            zh=f"流程引擎（Temporal）无法连接：{exc}",
        ) from None


UNAUTHENTICATED = "a valid API token is required (Authorization: Bearer itf_…)"
UNAUTHENTICATED_ZH = "需要有效的 API 令牌（Authorization: Bearer itf_…）"


@declares(SIGNED_IN)  # any signed-in user: the access policy of a route that takes `CurrentUser`
async def get_principal(
    request: Request,
    engine: Annotated[Engine, Depends(get_engine)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> Principal:
    # One message for every failure: it must not tell a caller whether a user or token exists.
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ProblemError(
            401,
            UNAUTHENTICATED,
            kind="Unauthenticated",
            headers={"WWW-Authenticate": "Bearer"},
            zh=UNAUTHENTICATED_ZH,
        )
    # Failed attempts are counted per token id and per client address (api/ratelimit.py).
    limiter: FailureLimiter = request.app.state.auth_failures
    token_id = token_id_of(credentials.credentials)
    keys = (f"token:{token_id}" if token_id else None, f"addr:{_client_address(request)}")
    wait = limiter.retry_after(*keys)
    if wait is not None:
        raise ProblemError(
            429,
            f"too many failed sign-in attempts; try again in {wait} s / 登录失败次数过多，请 {wait} 秒后再试",
            kind="TooManyFailures",
            headers={"Retry-After": str(wait)},
        )
    if engine.dialect.name == "sqlite":
        # On the event loop: two reads, and under SQLite's write-ahead log a reader never waits for
        # a writer. Every request authenticates, and the hop to a thread and back cost more CPU than
        # the reads. The write of last_used_at (once a minute per token) may wait, so it goes to a
        # thread.
        with session_scope(engine) as session:
            found = identify(session, credentials.credentials)
        if found is not None and found[1]:
            await run_sync(partial(_touch, engine, found[0]))
        principal = found[0] if found is not None else None
    else:
        principal = await run_sync(partial(_authenticate, engine, credentials.credentials))
    if principal is None:
        limiter.failed(*keys)
        raise ProblemError(
            401,
            UNAUTHENTICATED,
            kind="Unauthenticated",
            headers={"WWW-Authenticate": "Bearer"},
            zh=UNAUTHENTICATED_ZH,
        )
    # The API's own refusals are worded in the caller's language (api/problems.py).
    request.state.language = principal.language
    return principal


def _client_address(request: Request) -> str:
    # The peer address; behind a reverse proxy run uvicorn with --forwarded-allow-ips so that this is
    # the client's, not the proxy's.
    return request.client.host if request.client is not None else "unknown"


def _authenticate(engine: Engine, token: str) -> Principal | None:
    with session_scope(engine) as session:
        return authenticate(session, token)


def _touch(engine: Engine, principal: Principal) -> None:
    with session_scope(engine) as session:
        touch(session, principal)


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]
TemporalClientDep = Annotated[Client, Depends(get_temporal)]
CurrentUser = Annotated[Principal, Depends(get_principal)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=120,
        pattern=r"^[\x21-\x7e]+$",
        description="Retry-safe key: the same key with the same body returns the original result.",
    ),
]


async def get_idempotency(
    request: Request,
    engine: EngineDep,
    user: CurrentUser,
    idempotency_key: IdempotencyKey = None,  # not `key`: FastAPI would take a path's {key} for it
) -> IdempotentRequest:
    """The acting request under its `Idempotency-Key` (api/idempotency.py), for `Idempotent`.

    A coroutine, so FastAPI does not hop to its thread pool, and no I/O: the key is claimed when the
    route responds. The caller is the principal the route's own role check admits (FastAPI resolves
    `get_principal` once per request). The header is declared here, so every acting route documents
    it the same way; `problems.validation_problem` keeps its errors in the order of the request's
    parts, as if the route had declared it itself.
    """
    return IdempotentRequest(engine, user.username, idempotency_key, request.method, request.url.path)


Idempotent = Annotated[IdempotentRequest, Depends(get_idempotency)]


def require_roles(*roles: str) -> Callable[..., Any]:
    """A dependency that admits only callers with one of `roles`, and declares that access policy
    (api/access.py); a refusal names the roles in the caller's language."""
    return roles_dependency(roles, get_principal)


AdminUser = Annotated[Principal, Depends(require_roles("admin"))]
ProcessOwner = Annotated[Principal, Depends(require_roles("process_owner", "admin"))]
# The CMDB's writers (api/routes/cmdb*.py); every signed-in user reads it.
ConfigurationManager = Annotated[Principal, Depends(require_roles("configuration_manager", "admin"))]
# Who proposes CI changes on a change record (api/routes/ci_changes.py): the CMDB's writers and the
# people who work changes; the record must be one they may see.
# Who defines freeze and maintenance windows (api/routes/schedule.py); every signed-in user reads them.
ChangeManager = Annotated[Principal, Depends(require_roles("change_manager", "admin"))]
CiChangeProposer = Annotated[
    Principal, Depends(require_roles("configuration_manager", "change_manager", "agent", "admin"))
]
