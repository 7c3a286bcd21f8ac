"""The shipped change against the change schedule (issue 18), through the API on a real worker: a
normal change planned inside a freeze (封网) is refused at submission with the window's name, in zh and
en, and nothing moves; an emergency change goes through the ECAB and starts inside an `ecab` freeze
while a `block` freeze stops it; two changes on related CIs at the same time are noted as conflicting
in the audit trail. Windows and dates are far in the future and unique per run (one shared database)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from cmdb import cis, models, relations
from core.db import session_scope
from tests.library.conftest import LibraryApi, ensure_users, set_active

BASE = datetime(2095, 1, 5, 1, 0, tzinfo=UTC) + timedelta(days=uuid.uuid4().int % 9000 * 7)
PEOPLE: list[tuple[str, list[str], list[str]]] = [
    ("ivy", ["agent"], []),  # implements
    ("cmzh", ["agent", "change_manager"], ["change_management"]),
]


@pytest.fixture(scope="module", autouse=True)
def people(db_engine: Engine, library_directory: None) -> Iterator[None]:
    ensure_users(db_engine, PEOPLE)
    with session_scope(db_engine) as session:
        from core.tables import UserRow

        row = session.get(UserRow, "cmzh")
        assert row is not None
        row.language = "zh"
        session.add(row)
    yield
    set_active(db_engine, [name for name, *_ in PEOPLE], False)


def servers(db_engine: Engine) -> tuple[int, int]:
    """Two servers, the first running on the second."""
    with session_scope(db_engine) as session:
        model = models.current(session)
        ids = []
        for _ in range(2):
            name = f"sched-{uuid.uuid4().hex[:8]}"
            row = cis.create(
                session,
                model=model,
                class_name="server",
                name=name,
                attributes={"hostname": name},
                actor="cfg",
            )
            assert row.id is not None
            ids.append(row.id)
        relations.create(
            session, model=model[1], type_name="runs_on", source_id=ids[0], target_id=ids[1], actor="cfg"
        )
        return ids[0], ids[1]


def plans(ci: int, start: datetime, hours: int = 2, **more: Any) -> dict[str, Any]:
    return {
        "risk": "medium",
        "risk_assessment": "short outage",
        "business_impact": "none outside the window",
        "affected_cis": ["app"],
        "cis": [ci],
        "implementation_plan": "upgrade",
        "backout_plan": "reinstall",
        "test_plan": "smoke test",
        "implementer": "ivy",
        "planned_start": start.isoformat(),
        "planned_end": (start + timedelta(hours=hours)).isoformat(),
        **more,
    }


async def window(
    api: LibraryApi, kind: str, start: datetime, days: int, ci: int, severity: str = "block"
) -> int:
    body = {
        "kind": kind,
        "title_en": f"Spring Festival freeze {uuid.uuid4().hex[:4]}",
        "title_zh": "春节封网",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(days=days)).isoformat(),
        "scope": "cis",
        "scope_values": [ci],
        "severity": severity,
    }
    r = await api.post("cm", "/api/v1/schedule/windows", body)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def assessed(api: LibraryApi, title: str, **fields: Any) -> str:
    await api.ensure("change")
    rec = await api.started("alice", "change", title, **fields)
    rec = await api.fired("cm", rec["id"], "assess", assignee="cm")
    return str(rec["id"])


async def test_a_normal_change_inside_a_freeze_is_refused_naming_it(
    api: LibraryApi, db_engine: Engine
) -> None:
    app, _ = servers(db_engine)
    freeze = await window(api, "freeze", BASE, 7, app)
    try:
        chg = await assessed(api, "Upgrade during the festival")
        r = await api.fire("cm", chg, "submit", **plans(app, BASE + timedelta(days=2)))
        assert r.status_code == 409, r.text
        assert r.json()["type"].endswith("scheduleconflict") or "ScheduleConflict" in r.text
        assert "Spring Festival freeze" in r.json()["detail"]
        r = await api.fire("cmzh", chg, "submit", **plans(app, BASE + timedelta(days=2)))
        assert (
            r.status_code == 409
            and "春节封网" in r.json()["detail"]
            and "变更日程不允许" in r.json()["detail"]
        )
        rec = await api.record("cm", chg)
        assert rec["state"] == "assessment" and not rec["fields"].get("planned_start")  # nothing written
        # After the freeze it goes through.
        rec = await api.fired("cm", chg, "submit", **plans(app, BASE + timedelta(days=8)))
        assert rec["state"] in ("manager_review", "cab_review")
    finally:
        await api.post("cm", f"/api/v1/schedule/windows/{freeze}/cancel")


async def test_an_emergency_change_starts_in_an_ecab_freeze_but_not_in_a_block_freeze(
    api: LibraryApi, db_engine: Engine
) -> None:
    app, _ = servers(db_engine)
    start = BASE + timedelta(days=20)
    await api.ensure("change")
    rec = await api.started("cm", "change", "Patch the exploited gateway", change_type="emergency")
    chg = rec["id"]
    skipped = ("risk_assessment", "business_impact", "test_plan")
    rec = await api.fired(
        "cm", chg, "submit", **{k: v for k, v in plans(app, start).items() if k not in skipped}
    )
    assert rec["state"] == "ecab_review"  # the ECAB decides, freeze or not
    out = await api.decided("eve", rec["approvals"][-1]["id"])
    assert out["record"]["state"] == "scheduled"
    block = await window(api, "freeze", start - timedelta(hours=2), 1, app, severity="block")
    r = await api.fire("ivy", chg, "start")
    assert r.status_code == 409 and "Spring Festival freeze" in r.json()["detail"]
    await api.post("cm", f"/api/v1/schedule/windows/{block}/cancel")
    ecab = await window(api, "freeze", start - timedelta(days=1), 3, app, severity="ecab")
    try:
        rec = await api.fired("ivy", chg, "start")  # an ecab freeze admits the ECAB-approved emergency
        assert rec["state"] == "implementing"
    finally:
        await api.post("cm", f"/api/v1/schedule/windows/{ecab}/cancel")


async def test_changes_on_related_cis_at_the_same_time_are_noted_as_conflicting(
    api: LibraryApi, db_engine: Engine
) -> None:
    app, host = servers(db_engine)
    start = BASE + timedelta(days=40)
    first = await assessed(api, "Upgrade the application")
    rec = await api.fired("cm", first, "submit", **plans(app, start))
    second = await assessed(api, "Patch the host it runs on")
    rec = await api.fired("cm", second, "submit", **plans(host, start + timedelta(hours=1), implementer="cm"))
    assert rec["state"] in ("manager_review", "cab_review")  # conflicts warn in the shipped change
    events = [e for e in await api.history("cm", second) if e["action"] == "schedule_conflicts"]
    assert events, "the conflict is in the audit trail"
    found = events[0]["details"]["conflicts"]
    first_number = (await api.record("cm", first))["number"]
    assert [(c["rule"], c["other"]) for c in found] == [("ci_overlap", first_number)]
    assert "related CIs" in found[0]["message_en"] and "相关的配置项" in found[0]["message_zh"]
    r = await api.get("cm", f"/api/v1/processes/{second}/schedule")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["cis"] == [host] and body["violations"] == []
    assert [(c["rule"], c["other"]) for c in body["conflicts"]] == [("ci_overlap", first_number)]
    r = await api.get("cmzh", f"/api/v1/processes/{second}/schedule")
    assert "相关的配置项" in r.json()["conflicts"][0]["message"]


async def test_a_major_change_needs_ten_working_days_notice(api: LibraryApi, db_engine: Engine) -> None:
    """银监办发〔2009〕437号 第三十一条, as the shipped change applies it: the refusal says which date the
    planned start had to reach and how many working days it is short, in the caller's language."""
    app, _ = servers(db_engine)
    soon = datetime.now(UTC) + timedelta(days=3)
    chg = await assessed(api, "Replace the core switch", change_type="major")
    r = await api.fire("cm", chg, "submit", **plans(app, soon))
    assert r.status_code == 409, r.text
    detail = r.json()["detail"]
    assert (
        "10 working day(s) after the time of this action" in detail and "working day(s) too early" in detail
    )
    r = await api.fire("cmzh", chg, "submit", **plans(app, soon))
    assert "操作时间后 10 个工作日" in r.json()["detail"] and "个工作日" in r.json()["detail"]
    rec = await api.fired("cm", chg, "submit", **plans(app, soon + timedelta(days=40)))
    assert rec["state"] == "major_review"


async def test_rescheduling_into_a_freeze_is_refused(api: LibraryApi, db_engine: Engine) -> None:
    """002 §8.3.6: moving a submitted change's window is checked like its submission."""
    app, _ = servers(db_engine)
    start = BASE + timedelta(days=60)
    chg = await assessed(api, "Upgrade the billing application")
    rec = await api.fired("cm", chg, "submit", **plans(app, start))
    assert rec["state"] == "cab_review"
    freeze = await window(api, "freeze", start + timedelta(days=3), 2, app)
    try:
        moved = plans(app, start + timedelta(days=3, hours=6))
        r = await api.patch(
            "cm",
            f"/api/v1/processes/{chg}",
            {"fields": {k: moved[k] for k in ("planned_start", "planned_end")}},
        )
        assert r.status_code == 409 and "Spring Festival freeze" in r.json()["detail"], r.text
        assert (await api.record("cm", chg))["fields"]["planned_start"] == plans(app, start)["planned_start"]
        elsewhere = plans(app, start + timedelta(days=6))
        rec = await api.set_fields("cm", chg, **{k: elsewhere[k] for k in ("planned_start", "planned_end")})
        assert rec["fields"]["planned_start"] == elsewhere["planned_start"]
    finally:
        await api.post("cm", f"/api/v1/schedule/windows/{freeze}/cancel")
