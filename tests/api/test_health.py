"""/healthz names the part that is down."""

from __future__ import annotations

import socket

import httpx
from sqlalchemy import Engine, create_engine

from api.app import create_app
from core.settings import Settings


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_unreachable_temporal_gives_503_naming_it(db_engine: Engine, database_url: str) -> None:
    settings = Settings(database_url=database_url, temporal_address=f"127.0.0.1:{_closed_port()}")
    app = create_app(settings, engine=db_engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        r = await http.get("/healthz")
    assert r.status_code == 503
    assert r.json()["status"] == "unavailable" and r.json()["database"] == "ok"
    assert r.json()["temporal"].startswith("unavailable")


async def test_unreachable_database_gives_503_naming_it(temporal_client: object) -> None:
    engine = create_engine("sqlite:////dev/null/cannot/open.db")  # a path under a file: never opens
    app = create_app(Settings(), client=temporal_client, engine=engine)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        r = await http.get("/healthz")
    assert r.status_code == 503
    assert r.json()["temporal"] == "ok" and r.json()["database"].startswith("unavailable")
