"""Errors as RFC 9457 problem details: one shape for every refusal, whoever raised it.

A route, the auth layer, a workflow refusal (Temporal Update) or FastAPI's own request validation
all end as `application/problem+json` with `detail` saying which rule refused and, where it helps,
`errors` naming each offending field by path.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import RPCTimeoutOrCancelledError
from temporalio.service import RPCError

from client.transient import is_transient
from workflows.engine import RefusalKind

log = logging.getLogger("itilflow.api")

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    path: str = Field(description="Where the problem is, e.g. `fields.plan` or `body.title`.")
    message: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(default="about:blank", description="A URI naming the kind of problem.")
    title: str
    status: int
    detail: str = Field(description="Which rule refused the request, in words a person understands.")
    errors: list[FieldError] = Field(default_factory=list)


class ProblemError(Exception):
    """Raise from anywhere under a route to answer with a problem."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
        zh: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []
        self.kind = kind
        self.headers = headers
        # The detail in Chinese, for a caller who reads Chinese (`detail` is English, or already in
        # the caller's language when it comes from the engine, which words refusals itself).
        self.zh = zh

    def body(self, lang: str = "en") -> dict[str, Any]:
        title = HTTPStatus(self.status).phrase
        chinese = lang.startswith("zh")
        return ProblemDetails(
            type=f"urn:itilflow:problem:{_slug(self.kind or title)}",
            title=title,
            status=self.status,
            detail=self.zh if chinese and self.zh else self.detail,
            errors=[
                FieldError(path=e.get("path", ""), message=_field_message(e, chinese)) for e in self.errors
            ],
        ).model_dump(mode="json")

    def response(self, lang: str = "en") -> JSONResponse:
        return problem_response(self.status, self.body(lang), headers=self.headers)


# The API's own per-field words in Chinese (the engine's come already in the caller's language).
_FIELD_MESSAGES_ZH = {
    "required": "必填",
    "invalid": "无效",
    "NUL characters are not accepted": "不接受 NUL 字符",
}


def _field_message(error: dict[str, str], chinese: bool) -> str:
    """An error's words: its own `zh` when a check worded it (a definition's issues), else the API's."""
    message = error.get("message", "")
    if not chinese:
        return message
    return error.get("zh") or _FIELD_MESSAGES_ZH.get(message, message)


def caller_language(request: Request) -> str:
    """The language of the caller's problems: the signed-in user's profile (set when the request is
    authenticated), else the request's Accept-Language, else English."""
    known = getattr(request.state, "language", None)
    if isinstance(known, str) and known:
        return known
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "en"


def _slug(text: str) -> str:
    out = "".join(c.lower() if c.isalnum() else "-" for c in text)
    return "-".join(p for p in out.split("-") if p)


def problem_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


# The HTTP status of each kind of refusal by the process rules (a workflow Update's ApplicationError type).
REFUSAL_STATUS: Mapping[str, int] = {
    RefusalKind.NotAllowed: 403,
    RefusalKind.SeparationOfDuties: 403,
    RefusalKind.WrongState: 409,
    RefusalKind.GuardFailed: 409,
    RefusalKind.AlreadyDecided: 409,
    RefusalKind.UnknownTrigger: 409,
    RefusalKind.ScheduleConflict: 409,
    RefusalKind.UnknownApproval: 404,
    RefusalKind.MissingFields: 422,
    RefusalKind.InvalidFields: 422,
}


def not_found(what: str, zh: str | None = None) -> ProblemError:
    return ProblemError(404, what, kind="NotFound", zh=zh)


def forbidden(rule: str, zh: str | None = None) -> ProblemError:
    return ProblemError(403, rule, kind="NotAllowed", zh=zh)


def conflict(detail: str, kind: str = "Conflict", zh: str | None = None) -> ProblemError:
    return ProblemError(409, detail, kind=kind, zh=zh)


def unprocessable(
    detail: str, errors: list[dict[str, str]] | None = None, zh: str | None = None
) -> ProblemError:
    return ProblemError(422, detail, errors=errors, kind="InvalidRequest", zh=zh)


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


# The parts of a request in the order FastAPI checks a route's own parameters.
_PARTS = {"path": 0, "query": 1, "header": 2, "cookie": 3, "body": 4}


def _part(err: Any) -> int:
    loc = err.get("loc") or ("",)
    return _PARTS.get(str(loc[0]), len(_PARTS))


def validation_problem(exc: RequestValidationError) -> ProblemError:
    """A 422 naming every malformed part, in the order of the request's parts (path, query, header,
    cookie, body).

    FastAPI lists a dependency's parameter errors before the route's own; sorting (stably) keeps an
    answer the same whether a route declares a parameter or a dependency does (the
    `Idempotency-Key` header comes with `api.deps.Idempotent`).
    """
    errors = []
    for err in sorted(exc.errors(), key=_part):
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if err.get("type") == "missing":
            message = "required"
        errors.append({"path": _loc(err.get("loc", ())), "message": message})
    paths = ", ".join(e["path"] for e in errors[:5]) + (" …" if len(errors) > 5 else "")
    return ProblemError(
        422,
        f"the request is malformed: {paths}",
        errors=errors,
        kind="InvalidRequest",
        zh=f"请求格式有误：{paths}",
    )


def install(app: FastAPI) -> None:
    """Route every error through the problem format."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return exc.response(caller_language(request))

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return validation_problem(exc).response(caller_language(request))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        zh = None
        if exc.status_code == 404 and detail == "Not Found":
            detail, zh = "no such resource", "没有这个资源"
        if exc.status_code == 405:
            detail, zh = "this method is not allowed on this resource", "此资源不允许这个方法"
        problem = ProblemError(exc.status_code, detail, headers=dict(exc.headers or {}), zh=zh)
        return problem.response(caller_language(request))

    async def on_temporal(_request: Request, exc: Exception) -> JSONResponse:
        if not is_transient(exc):
            return await on_unexpected(_request, exc)
        # Temporal did not answer (restarting, overloaded, the call timed out) even after the
        # service's own short retries (`client.transient`): nothing is known to have happened, and a
        # retry with the same Idempotency-Key acts at most once.
        return ProblemError(
            503,
            "the workflow service did not answer in time; retry the request with the same Idempotency-Key",
            kind="TemporalUnavailable",
            headers={"Retry-After": "1"},
            zh="流程引擎未能及时响应；请用同一个 Idempotency-Key 重试",
        ).response(caller_language(_request))

    async def on_database(_request: Request, _exc: Exception) -> JSONResponse:
        # The database refused or dropped the connection (restarting, failing over, out of
        # connections): as with Temporal, a retry with the same Idempotency-Key acts at most once
        # (bench/chaos.py restarts PostgreSQL under load). The traceback still goes to the log.
        log.warning("database unavailable: %s", type(_exc).__name__)
        return ProblemError(
            503,
            "the database is unavailable; retry the request with the same Idempotency-Key",
            kind="DatabaseUnavailable",
            headers={"Retry-After": "1"},
            zh="数据库暂不可用；请用同一个 Idempotency-Key 重试",
        ).response(caller_language(_request))

    async def on_unexpected(_request: Request, _exc: Exception) -> JSONResponse:
        # The traceback goes to the server log by Starlette; the client learns nothing internal.
        problem = ProblemError(
            500, "internal error; the server log has the details", zh="内部错误；详情见服务器日志"
        )
        return problem.response(caller_language(_request))

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RPCError, on_temporal)
    app.add_exception_handler(RPCTimeoutOrCancelledError, on_temporal)
    app.add_exception_handler(OperationalError, on_database)
    app.add_exception_handler(Exception, on_unexpected)


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of the problems a route can answer with."""
    return {
        code: {
            "model": ProblemDetails,
            "description": HTTPStatus(code).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
        }
        for code in codes
    }
