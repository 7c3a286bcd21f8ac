"""/healthz names the part that is down."""

from __future__ import annotations

import socket
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine, create_engine

from api.app import create_app
from api.routes import health
from core.settings import Settings
from tests.api.conftest import MINI, Api


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


async def test_a_calendar_running_out_of_holidays_is_a_warning_not_an_outage(api: Api) -> None:
    """A published definition whose own calendar declares holidays only until soon: /healthz stays 200
    and says so in both languages, naming the calendar by its label and the process by its title."""
    soon = (datetime.now(UTC) + timedelta(days=20)).date().isoformat()
    key = f"mini_{uuid.uuid4().hex[:8]}"
    label = f"Desk hours {key}"
    calendar = (
        "calendars:\n  always: {always: true, timezone: UTC}\n"
        f"  desk: {{timezone: Asia/Shanghai, holidays: [{soon}], label: {{zh: 服务台时间 {key}, en: {label}}}}}\n"
    )
    source = MINI.replace("calendars:\n  always: {always: true, timezone: UTC}\n", calendar, 1)
    await api.publish_mini(key=key, source=source)
    health._cached.clear()  # recomputed at most every five minutes
    r = await api.http.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    mine = [w for w in r.json()["warnings"] if label in w["message_en"]]
    assert mine and mine[0]["kind"] == "calendar" and soon in mine[0]["message_en"]
    assert f"服务台时间 {key}" in mine[0]["message_zh"]
