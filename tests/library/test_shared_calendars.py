"""Shared business calendars end to end: the shipped incident names `china_business`; a record pins the
version in force when it starts (an audit event says which), an administrator's new version reaches the
records started after it without republishing, and a running record's deadline never moves."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from definitions.calendar import add_business_time
from definitions.shared_calendars import builtin
from tests.library.conftest import LibraryApi, ensure_users, sla

ADMIN = "calendar_admin"


@pytest.fixture
def admin(db_engine: Engine) -> Iterator[str]:
    ensure_users(db_engine, [(ADMIN, ["admin"], [])])
    yield ADMIN


async def put(api: LibraryApi, body: dict[str, Any], user: str = ADMIN) -> Any:
    return await api.http.put(
        "/api/v1/calendars/china_business",
        json=body,
        headers={**api.headers(user), "Idempotency-Key": uuid.uuid4().hex},
    )


async def test_records_pin_the_shared_calendar_in_force(api: LibraryApi, admin: str) -> None:
    await api.ensure("incident")
    r = await api.get("alice", "/api/v1/calendars/china_business")
    assert r.status_code == 200, r.text
    before = r.json()
    shipped = builtin()["china_business"]
    assert before["calendar"]["holidays_from"]["country"] == "CN"
    assert "2026-10-01" in before["holidays"] and "2026-10-10" in before["workdays"]  # 国庆 and its 调休

    first = await api.started("alice", "incident", "Printer jam", impact="2", urgency="2")  # P3: 24 working h
    due = datetime.fromisoformat(sla(first, "resolution")["due_at"])
    created = datetime.fromisoformat(first["created_at"])
    assert due == add_business_time(shipped.resolved(), created, timedelta(hours=24))
    history = await api.history("alice", first["id"])
    pinned = [e for e in history if e["action"] == "calendar_pinned"]
    assert pinned and pinned[0]["details"]["calendars"] == {"china_business": before["version"]}

    # The day the first record falls due becomes a holiday: only records started afterwards see it.
    local_due = due.astimezone(ZoneInfo(shipped.timezone)).date()
    body = before["calendar"] | {"holidays": [*before["calendar"]["holidays"], local_due.isoformat()]}
    try:
        r = await put(api, {"calendar": body, "note": "bank closing day"}, user="alice")
        assert r.status_code == 403
        r = await put(api, {"calendar": body, "note": "bank closing day"})
        assert r.status_code == 200, r.text
        assert r.json()["version"] == before["version"] + 1 and local_due.isoformat() in r.json()["holidays"]

        second = await api.started("alice", "incident", "Printer jam again", impact="2", urgency="2")
        later = datetime.fromisoformat(sla(second, "resolution")["due_at"])
        assert later > due  # a working day fewer on the way
        pinned = [e for e in await api.history("alice", second["id"]) if e["action"] == "calendar_pinned"]
        assert pinned[0]["details"]["calendars"] == {"china_business": before["version"] + 1}
        again = await api.record("alice", first["id"])
        assert datetime.fromisoformat(sla(again, "resolution")["due_at"]) == due  # pinned: never moves
    finally:
        r = await put(api, {"calendar": before["calendar"], "note": "test over: back as it was"})
        assert r.status_code == 200, r.text


async def test_malformed_calendars_are_refused_and_write_nothing(api: LibraryApi, admin: str) -> None:
    before = (await api.get("alice", "/api/v1/calendars/china_business")).json()
    bad = before["calendar"] | {
        "holidays": ["2026-13-01"],
        "weekly": {"mon": ["18:00-09:00"]},
        "holidays_from": {"country": "CN", "years": [1900]},
    }
    r = await put(api, {"calendar": bad, "note": "typo"})
    assert r.status_code == 422, r.text
    paths = {e["path"] for e in r.json()["errors"]}
    assert {"holidays.0", "weekly", "holidays_from.years"} <= paths, paths
    clash = before["calendar"] | {"holidays": ["2026-10-10"], "workdays": ["2026-10-10"]}
    r = await put(api, {"calendar": clash, "note": "both"})
    assert r.status_code == 422 and "2026-10-10" in r.text
    r = await api.get("alice", "/api/v1/calendars/nowhere")
    assert r.status_code == 404
    after = (await api.get("alice", "/api/v1/calendars/china_business")).json()
    assert after["version"] == before["version"]
