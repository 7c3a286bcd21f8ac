"""Freeze and maintenance windows over HTTP against the real app and database (SQLite, and PostgreSQL
with -m db): who may define them, bad input named by field and writing nothing, cancellation, the
forward listing, and a planned change checked against them (scopes through the CMDB's relationships,
ECAB-approved emergencies, the refusal naming the window in zh and en). No Temporal needed."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import icalendar
import pytest
import pytest_asyncio
from sqlalchemy import Engine

from api.app import create_app
from api.auth import issue_token
from core.db import session_scope
from core.settings import Settings
from core.store import upsert_user
from core.tables import RecordCiRow, RecordRow, RecordWindowRow, UserRow, planned_window

# Far in the future and unique per run, so windows of earlier runs on a kept database never overlap.
BASE = datetime(2090, 1, 1, tzinfo=UTC) + timedelta(days=uuid.uuid4().int % 20000 * 3)


@pytest.fixture(scope="module")
def tokens(db_engine: Engine) -> Iterator[dict[str, str]]:
    """This module's people; deactivated afterwards, so that the change managers here are not among
    the approvers that later tests' changes expand `role:change_manager` to (one shared database)."""
    out = {}
    with session_scope(db_engine) as session:
        for name, roles, lang in (
            ("chm", ["change_manager"], "en"),
            ("chmzh", ["change_manager"], "zh"),
            ("cfg", ["configuration_manager"], "en"),
            ("agent", ["agent"], "en"),
            ("agentzh", ["agent"], "zh"),
        ):
            upsert_user(session, username=f"sched-{name}", roles=roles, language=lang)
            out[name] = issue_token(session, username=f"sched-{name}", name="schedule tests")
    yield out
    with session_scope(db_engine) as session:
        for name in out:
            row = session.get(UserRow, f"sched-{name}")
            if row is not None:
                row.active = False
                session.add(row)


@pytest_asyncio.fixture(loop_scope="session")
async def api(database_url: str, db_engine: Engine, tokens: dict[str, str]) -> AsyncIterator[Api]:
    app = create_app(Settings(database_url=database_url), engine=db_engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as c:
        yield Api(c, tokens)


class Api:
    def __init__(self, http: httpx.AsyncClient, tokens: dict[str, str]) -> None:
        self.http, self.tokens = http, tokens

    def h(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}", "Idempotency-Key": uuid.uuid4().hex}

    async def post(self, path: str, body: Any = None, user: str = "chm") -> httpx.Response:
        return await self.http.post(path, json=body, headers=self.h(user))

    async def get(self, path: str, user: str = "agent", **params: Any) -> httpx.Response:
        return await self.http.get(path, params=params, headers=self.h(user))

    async def ci(self, cls: str, name: str, **attributes: Any) -> int:
        body = {"class": cls, "name": name, "attributes": attributes}
        r = await self.post("/api/v1/cmdb/cis", body, user="cfg")
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    async def window(self, **fields: Any) -> dict[str, Any]:
        r = await self.post("/api/v1/schedule/windows", fields)
        assert r.status_code == 201, r.text
        return dict(r.json())


def at(hours: float) -> str:
    return (BASE + timedelta(hours=hours)).isoformat()


def window(kind: str, start: float, end: float, **more: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "title_en": f"{kind} {start}",
        "title_zh": "国庆封网" if kind == "freeze" else "周末维护窗口",
        "starts_at": at(start),
        "ends_at": at(end),
        **more,
    }


async def test_only_change_managers_define_windows_and_bad_input_is_named(api: Api) -> None:
    r = await api.post("/api/v1/schedule/windows", window("freeze", 0, 5), user="agent")
    assert r.status_code == 403
    r = await api.post(
        "/api/v1/schedule/windows",
        window("maintenance", 5, 1, scope="cis", scope_values=[2**30], severity="ecab"),
    )
    assert r.status_code == 422
    paths = {e["path"] for e in r.json()["errors"]}
    assert paths == {"ends_at", "severity", "scope_values[0]"}
    r = await api.post(
        "/api/v1/schedule/windows",
        window("freeze", 0, 5, scope="ci_classes", scope_values=["toaster"]),
        user="chmzh",
    )
    assert r.status_code == 422 and "没有配置项类别 toaster" in str(r.json()["errors"])
    # Nothing was written.
    assert (await api.get("/api/v1/schedule/windows", **{"from": at(-1), "to": at(10)})).json() == []


async def test_a_freeze_refuses_a_change_naming_the_window_unless_ecab_approved(api: Api) -> None:
    t = uuid.uuid4().hex[:8]
    svc = await api.ci("business_service", f"pay-{t}", owner="ops", criticality="critical")
    app = await api.ci("application", f"payapp-{t}", environment="production")
    srv = await api.ci("server", f"payhost-{t}", hostname=f"payhost-{t}")
    other = await api.ci("server", f"other-{t}", hostname=f"other-{t}")
    for type_, a, b in (("depends_on", svc, app), ("runs_on", app, srv)):
        r = await api.post("/api/v1/cmdb/relations", {"type": type_, "source": a, "target": b}, user="cfg")
        assert r.status_code == 201, r.text
    freeze = await api.window(
        **window("freeze", 100, 200, scope="services", scope_values=[svc], severity="ecab")
    )
    await api.window(**window("maintenance", 210, 220, scope="ci_classes", scope_values=["server"]))
    # A second freeze over it on the same service with another severity contradicts it: refused, named.
    r = await api.post(
        "/api/v1/schedule/windows",
        window("freeze", 150, 160, scope="services", scope_values=[svc]),
        user="chmzh",
    )
    assert r.status_code == 409 and "国庆封网" in r.json()["detail"]
    assert r.json()["errors"][0]["path"] == "severity"

    change = {"planned_start": at(150), "planned_end": at(151), "cis": [srv]}
    r = await api.post("/api/v1/schedule/windows/check", change, user="agent")
    assert r.status_code == 200
    body = r.json()
    assert body["allowed"] is False and body["violations"][0]["window_id"] == freeze["id"]
    assert "freeze 100" in body["violations"][0]["message"]  # the server reaches the service's freeze
    r = await api.post("/api/v1/schedule/windows/check", change, user="chmzh")
    assert "国庆封网" in r.json()["violations"][0]["message"]
    # An emergency change approved by the ECAB passes an `ecab` freeze.
    r = await api.post("/api/v1/schedule/windows/check", {**change, "emergency_ecab_approved": True})
    assert r.json() == {"allowed": True, "violations": []}
    # A CI the service does not rely on is outside the freeze.
    r = await api.post("/api/v1/schedule/windows/check", {**change, "cis": [other]})
    assert r.json()["allowed"] is True

    # Inside a maintenance window of its CI class, and only there, when the definition requires one.
    inside = {
        "planned_start": at(211),
        "planned_end": at(212),
        "cis": [srv],
        "require_maintenance_window": True,
    }
    assert (await api.post("/api/v1/schedule/windows/check", inside)).json()["allowed"] is True
    outside = {**inside, "planned_start": at(219), "planned_end": at(221)}
    r = (await api.post("/api/v1/schedule/windows/check", outside)).json()
    assert r["allowed"] is False and r["violations"][0]["rule"] == "outside_maintenance"
    bad = {**inside, "planned_end": at(200)}
    r = await api.post("/api/v1/schedule/windows/check", bad)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "planned_end"

    # The forward listing filters by CI; a cancelled window is kept but no longer in force.
    listed = await api.get("/api/v1/schedule/windows", **{"from": at(0), "to": at(300), "ci": other})
    assert [w["title_en"] for w in listed.json()] == ["maintenance 210"]
    r = await api.post(f"/api/v1/schedule/windows/{freeze['id']}/cancel")
    assert r.status_code == 200 and r.json()["cancelled_by"] == "sched-chm"
    assert (await api.post(f"/api/v1/schedule/windows/{freeze['id']}/cancel")).status_code == 409
    assert (await api.post("/api/v1/schedule/windows/check", change)).json()["allowed"] is True
    assert (await api.get(f"/api/v1/schedule/windows/{freeze['id']}")).json()["cancelled_at"]
    assert (await api.get("/api/v1/schedule/windows/999999999")).status_code == 404
    r = await api.get("/api/v1/schedule/windows", **{"from": at(10), "to": at(0)})
    assert r.status_code == 422


def seed_change(
    engine: Engine,
    number: str,
    start: float,
    end: float,
    cis: list[int],
    implementer: str,
    requester: str,
    state: str = "scheduled",
) -> None:
    """A change in the read model as the worker writes it (the forward schedule reads only that)."""
    rid = uuid.uuid4().hex
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        session.add(
            RecordRow(
                id=rid,
                number=number,
                definition_key="sched-test-change",
                definition_version=1,
                title=f"change {number}",
                state=state,
                state_category="open",
                requester=requester,
                assignment_group="sched-ops",
                fields={"planned_start": at(start), "planned_end": at(end), "implementer": implementer},
                snapshot={},
                created_at=now,
                updated_at=now,
            )
        )
        for ci in cis:
            session.add(RecordCiRow(record_id=rid, field="affected_cis", ci_id=ci))
        window = planned_window({"planned_start": at(start), "planned_end": at(end)})
        assert window is not None
        session.add(
            RecordWindowRow(
                record_id=rid,
                starts_at=window[0],
                ends_at=window[1],
                duration_s=int((window[1] - window[0]).total_seconds()),
            )
        )


async def test_the_forward_schedule_lists_changes_with_their_conflicts(
    api: Api, db_engine: Engine, tokens: dict[str, str]
) -> None:
    t = uuid.uuid4().hex[:6]
    app = await api.ci("application", f"crm-{t}", environment="production")
    db = await api.ci("database", f"crmdb-{t}", engine="oracle")
    lone = await api.ci("server", f"lone-{t}", hostname=f"lone-{t}")
    r = await api.post(
        "/api/v1/cmdb/relations", {"type": "depends_on", "source": app, "target": db}, user="cfg"
    )
    assert r.status_code == 201, r.text
    freeze = await api.window(**window("freeze", 1000, 1010, scope="cis", scope_values=[lone]))
    seed_change(db_engine, f"A{t}", 1001, 1003, [app], "alice", "sched-chm")
    seed_change(db_engine, f"B{t}", 1002, 1004, [db], "bob", "sched-chm")  # related CI, overlapping
    seed_change(db_engine, f"C{t}", 1003.5, 1005, [lone], "bob", "someone-else")  # bob twice; freeze
    seed_change(db_engine, f"D{t}", 1100, 1101, [lone], "bob", "sched-chm")  # outside the range

    r = await api.get("/api/v1/schedule", **{"from": at(1000), "to": at(1050)})
    assert r.status_code == 200, r.text
    body = r.json()
    changes = {c["number"]: c for c in body["changes"]}
    assert list(changes) == [f"A{t}", f"B{t}", f"C{t}"]
    rules = {n: sorted((x["rule"], x["other"]) for x in c["conflicts"]) for n, c in changes.items()}
    assert rules[f"A{t}"] == [("ci_overlap", f"B{t}")]
    assert rules[f"B{t}"] == [("ci_overlap", f"A{t}"), ("implementer", f"C{t}")]
    assert rules[f"C{t}"] == [("freeze", None), ("implementer", f"B{t}")]
    assert [w["id"] for w in body["windows"]] == [freeze["id"]]
    assert body["truncated"] is False

    # Filters: by CI and by group; and Chinese words for a Chinese reader.
    r = await api.get("/api/v1/schedule", **{"from": at(1000), "to": at(1050), "ci": lone})
    assert [c["number"] for c in r.json()["changes"]] == [f"C{t}"]
    r = await api.get("/api/v1/schedule", **{"from": at(1000), "to": at(1050), "group": "nobody"})
    assert r.json()["changes"] == []
    r = await api.get("/api/v1/schedule", user="agentzh", **{"from": at(1000), "to": at(1050), "ci": lone})
    assert "封网窗口" in str(r.json()["changes"][0]["conflicts"])

    # Someone who may not see every record sees their own only (and no conflicts with the others).
    with session_scope(db_engine) as session:
        upsert_user(session, username="someone-else", roles=[], language="en")
        token = issue_token(session, username="someone-else", name="schedule tests")
    api.tokens["plain"] = token
    r = await api.get("/api/v1/schedule", user="plain", **{"from": at(1000), "to": at(1050)})
    assert [c["number"] for c in r.json()["changes"]] == [f"C{t}"]
    assert [x["rule"] for x in r.json()["changes"][0]["conflicts"]] == ["freeze"]


async def test_an_icalendar_feed_per_ci_is_read_back_and_revocable(api: Api, db_engine: Engine) -> None:
    t = uuid.uuid4().hex[:6]
    srv = await api.ci("server", f"cal-{t}", hostname=f"cal-{t}")
    now = datetime.now(UTC)
    hours = (now - BASE).total_seconds() / 3600
    seed_change(db_engine, f"F{t}", hours + 24, hours + 26, [srv], "carol", "sched-chm")
    await api.window(**window("freeze", hours + 25, hours + 30, scope="cis", scope_values=[srv]))

    r = await api.post("/api/v1/schedule/feeds", {"kind": "ci", "target": "nope"}, user="agent")
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "target"
    r = await api.post("/api/v1/schedule/feeds", {"kind": "user", "target": "someone"}, user="agent")
    assert r.status_code == 422
    r = await api.post("/api/v1/schedule/feeds", {"kind": "ci", "target": str(srv)}, user="agent")
    assert r.status_code == 201, r.text
    feed = r.json()
    listed = (await api.get("/api/v1/schedule/feeds")).json()
    assert feed["id"] in [f["id"] for f in listed] and all(f["path"] is None for f in listed)

    r = await api.http.get(feed["path"])  # a calendar program: no bearer token
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(r.content)
    events = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    change = events[f"F{t} change F{t}"]
    # iCalendar keeps whole seconds.
    assert abs(change.decoded("dtstart") - (BASE + timedelta(hours=hours + 24))) < timedelta(seconds=1)
    assert "freeze" in str(change["description"])  # its conflict with the freeze
    assert any(s.startswith("Freeze: ") for s in events)

    wrong = feed["path"].replace(".ics", "x.ics")
    assert (await api.http.get(wrong)).status_code == 404
    r = await api.post(f"/api/v1/schedule/feeds/{feed['id']}/revoke", user="agent")
    assert r.status_code == 200 and r.json()["revoked_at"]
    assert (await api.post(f"/api/v1/schedule/feeds/{feed['id']}/revoke", user="chm")).status_code == 404
    assert (await api.http.get(feed["path"])).status_code == 404


async def test_the_cab_agenda_groups_changes_by_meeting_and_exports(api: Api, db_engine: Engine) -> None:
    t = uuid.uuid4().hex[:6]
    hours = (datetime.now(UTC) - BASE).total_seconds() / 3600
    seed_change(
        db_engine, f"G{t}", hours + 24 * 20, hours + 24 * 20 + 2, [], "dave", "sched-chm", state="cab_review"
    )
    seed_change(db_engine, f"H{t}", hours + 2, hours + 3, [], "erin", "sched-chm", state="cab_review")
    weekday = datetime.now(UTC).isoweekday() % 7 + 1  # tomorrow: H, planned in two hours, comes late
    r = await api.get("/api/v1/schedule/cab-agenda", weekday=weekday, weeks=4)
    assert r.status_code == 200, r.text
    meetings = r.json()
    assert len(meetings) == 4 and all(date.fromisoformat(m["date"]).isoweekday() == weekday for m in meetings)
    where = {c["number"]: (m["date"], c["late"]) for m in meetings for c in m["changes"]}
    start_g = (BASE + timedelta(hours=hours + 24 * 20)).date()
    g_day = date.fromisoformat(where[f"G{t}"][0])
    assert g_day < start_g and g_day + timedelta(days=7) >= start_g  # the last meeting before it
    assert where[f"H{t}"] == (meetings[0]["date"], True)
    r = await api.get("/api/v1/schedule/cab-agenda", user="agentzh", format="csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][:2] == ["会议日期", "变更"] and any(row[1] == f"G{t}" for row in rows[1:])
    assert (await api.get("/api/v1/schedule/cab-agenda", weekday=9)).status_code == 422


async def test_the_calendars_in_use_are_listed_with_their_horizon(api: Api) -> None:
    r = await api.get("/api/v1/schedule/calendars")
    assert r.status_code == 200
    for status in r.json():  # whatever definitions this database has published
        assert status["warning"] == (status["message_en"] is not None)
    assert (await api.http.get("/api/v1/schedule/calendars")).status_code == 401
