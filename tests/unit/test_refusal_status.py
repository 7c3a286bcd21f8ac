"""Refusal kinds belong to the engine; what HTTP status each becomes belongs to the API."""

from __future__ import annotations

import workflows.engine
from api.problems import REFUSAL_STATUS
from workflows.engine import RefusalKind


def test_every_refusal_kind_has_a_status() -> None:
    assert set(REFUSAL_STATUS) == set(RefusalKind)
    assert {
        kind: REFUSAL_STATUS[kind]
        for kind in ("NotAllowed", "UnknownApproval", "GuardFailed", "MissingFields")
    } == {
        "NotAllowed": 403,
        "UnknownApproval": 404,
        "GuardFailed": 409,
        "MissingFields": 422,
    }


def test_the_kinds_are_the_application_error_type_names() -> None:
    assert [k.value for k in RefusalKind] == [k.name for k in RefusalKind]
    assert not hasattr(workflows.engine, "REFUSAL_STATUS")


def test_temporal_not_answering_is_a_503_to_retry_and_anything_else_a_500() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from temporalio.service import RPCError, RPCStatusCode

    from api.problems import install

    app = FastAPI()
    install(app)

    @app.get("/busy")
    def busy() -> None:
        raise RPCError("operation was canceled", RPCStatusCode.CANCELLED, b"")

    @app.get("/broken")
    def broken() -> None:
        raise RPCError("bad", RPCStatusCode.INVALID_ARGUMENT, b"")

    client = TestClient(app, raise_server_exceptions=False)
    r = client.get("/busy")
    assert (r.status_code, r.headers["retry-after"], r.json()["type"]) == (
        503,
        "1",
        "urn:itilflow:problem:temporalunavailable",
    )
    assert client.get("/broken").status_code == 500


def test_a_database_that_does_not_answer_is_503_with_retry_after() -> None:
    """PostgreSQL restarting or refusing connections: 503 DatabaseUnavailable, not a 500 (bench/chaos.py)."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from sqlalchemy.exc import OperationalError

    from api.problems import install

    app = FastAPI()
    install(app)

    @app.get("/down")
    def down() -> None:
        raise OperationalError("SELECT 1", {}, Exception("the database system is starting up"))

    client = TestClient(app, raise_server_exceptions=False)
    r = client.get("/down", headers={"Accept-Language": "zh"})
    assert (r.status_code, r.headers["retry-after"], r.json()["type"]) == (
        503,
        "1",
        "urn:itilflow:problem:databaseunavailable",
    )
    assert "数据库" in r.json()["detail"]
