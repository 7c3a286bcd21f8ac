"""Issue 21's bad input over HTTP, each a clear error in the caller's language naming what is at fault,
with nothing written: an agreement missing the targets of a priority, overlapping agreements for one
service, an agreement or a report period that ends before it starts, a report (or its figures) for an
agreement the caller may not see or that does not exist — against the real app and database (SQLite, and
PostgreSQL with -m db)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

from core.db import session_scope
from sla.tables import AgreementRow, OutageRow
from tests.api.test_sla import h, http, sla_tokens  # noqa: F401 - the fixtures of the agreements' API tests
from tests.unit.sla.test_agreements import spec

WEEK = {"start": "2026-11-02T00:00:00Z", "end": "2026-11-09T00:00:00Z"}
BACKWARDS = {"start": "2026-11-09T00:00:00Z", "end": "2026-11-02T00:00:00Z"}
FIGURES = ("availability", "report", "report.xlsx", "report.pdf")


def _stored(engine: Engine, key: str) -> int:
    with session_scope(engine) as s:
        return int(
            s.exec(select(func.count()).select_from(AgreementRow).where(AgreementRow.key == key)).one()
        )


async def _put(
    client: httpx.AsyncClient, tokens: dict[str, str], user: str, key: str, data: dict[str, Any]
) -> httpx.Response:
    return await client.put(f"/api/v1/sla/agreements/{key}", json={"spec": data}, headers=h(tokens, user))


async def test_an_agreement_missing_a_priority_or_ending_before_it_starts_writes_nothing(
    http: httpx.AsyncClient,  # noqa: F811
    sla_tokens: dict[str, str],  # noqa: F811
    db_engine: Engine,
) -> None:
    key, service = f"bad-{uuid.uuid4().hex[:8]}", f"svc-{uuid.uuid4().hex[:8]}"
    missing = spec(service)
    del missing["targets"]["4"]
    r = await _put(http, sla_tokens, "slm", key, missing)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "targets.4"
    assert "priority 4" in r.json()["detail"]
    r = await _put(
        http, sla_tokens, "slmzh", key, spec(service, valid_from="2026-06-01", valid_to="2026-05-31")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "valid_to"
    assert "结束日期早于开始日期" in r.json()["detail"]
    short = spec(service)
    short["targets"]["2"] = {"response_minutes": 60, "resolution_minutes": 30}
    r = await _put(http, sla_tokens, "slm", key, short)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "targets.2.resolution_minutes"
    r = await _put(http, sla_tokens, "agent1", key, spec(service))  # an agent may not define one
    assert r.status_code == 403
    assert _stored(db_engine, key) == 0
    r = await http.get(f"/api/v1/sla/agreements/{key}/versions", headers=h(sla_tokens, "slm"))
    assert r.status_code == 404


@pytest.mark.parametrize("groups", [([], []), (["sales"], []), (["sales", "hr"], ["hr"])])
async def test_overlapping_agreements_for_one_service_are_refused_and_nothing_written(
    http: httpx.AsyncClient,  # noqa: F811
    sla_tokens: dict[str, str],  # noqa: F811
    db_engine: Engine,
    groups: tuple[list[str], list[str]],
) -> None:
    first, second, service = (
        f"a-{uuid.uuid4().hex[:8]}",
        f"b-{uuid.uuid4().hex[:8]}",
        f"svc-{uuid.uuid4().hex}",
    )
    r = await _put(http, sla_tokens, "slm", first, spec(service, requester_groups=groups[0]))
    assert r.status_code == 201, r.text
    later = spec(service, requester_groups=groups[1], valid_from="2026-03-01", valid_to="2026-04-30")
    r = await _put(http, sla_tokens, "slmzh", second, later)
    assert r.status_code == 409 and r.json()["errors"][0]["path"] == "service"
    assert first in r.json()["detail"] and "已覆盖服务" in r.json()["detail"]
    assert _stored(db_engine, second) == 0
    # Other requester groups, or other dates, do not overlap.
    apart = spec(service, requester_groups=["ops"], valid_from="2027-01-01") if groups[0] else None
    if apart is not None:
        r = await _put(http, sla_tokens, "slm", second, apart)
        assert r.status_code == 201, r.text


async def test_a_change_without_an_approved_change_record_keeps_the_version(
    http: httpx.AsyncClient,  # noqa: F811
    sla_tokens: dict[str, str],  # noqa: F811
    db_engine: Engine,
) -> None:
    key, service = f"c-{uuid.uuid4().hex[:8]}", f"svc-{uuid.uuid4().hex}"
    assert (await _put(http, sla_tokens, "slm", key, spec(service))).status_code == 201
    changed = spec(service, availability_target=99.9)
    for ref in (None, "NO-SUCH-CHANGE"):
        body = {"spec": changed, "change_ref": ref}
        r = await http.put(f"/api/v1/sla/agreements/{key}", json=body, headers=h(sla_tokens, "slm"))
        assert r.status_code in (404, 422) and r.json()["errors"][0]["path"] == "change_ref", r.text
    assert _stored(db_engine, key) == 1


async def test_a_report_period_ending_before_it_starts_is_refused_in_every_format(
    http: httpx.AsyncClient,  # noqa: F811
    sla_tokens: dict[str, str],  # noqa: F811
) -> None:
    key = f"p-{uuid.uuid4().hex[:8]}"
    assert (await _put(http, sla_tokens, "slm", key, spec(f"svc-{uuid.uuid4().hex}"))).status_code == 201
    for what in FIGURES:
        for user, words in (("slm", "the period ends before it starts"), ("slmzh", "期间的结束早于开始")):
            r = await http.get(
                f"/api/v1/sla/agreements/{key}/{what}", params=BACKWARDS, headers=h(sla_tokens, user)
            )
            assert r.status_code == 422, (what, r.text)
            assert r.json()["errors"][0]["path"] == "end" and words in r.json()["detail"]
        r = await http.get(
            f"/api/v1/sla/agreements/{key}/{what}",
            params={"start": "2026-11-02T00:00:00", "end": "2026-11-09T00:00:00Z"},
            headers=h(sla_tokens, "slm"),
        )
        assert r.status_code == 422, (what, r.text)  # a time without its time zone


async def test_a_report_for_an_agreement_one_may_not_see_or_that_does_not_exist(
    http: httpx.AsyncClient,  # noqa: F811
    sla_tokens: dict[str, str],  # noqa: F811
    db_engine: Engine,
) -> None:
    key = f"s-{uuid.uuid4().hex[:8]}"
    assert (await _put(http, sla_tokens, "slm", key, spec(f"svc-{uuid.uuid4().hex}"))).status_code == 201
    for what in (*FIGURES, "versions"):
        r = await http.get(f"/api/v1/sla/agreements/{key}/{what}", params=WEEK, headers=h(sla_tokens, "req"))
        assert r.status_code == 403, (what, r.text)
        assert "role" in r.json()["detail"]
        r = await http.get(f"/api/v1/sla/agreements/{key}/{what}", params=WEEK)
        assert r.status_code == 401, (what, r.text)
        r = await http.get(
            f"/api/v1/sla/agreements/none-{key}/{what}", params=WEEK, headers=h(sla_tokens, "slm")
        )
        assert r.status_code == 404 and f"none-{key}" in r.json()["detail"], (what, r.text)
    r = await http.get("/api/v1/sla/agreements", headers=h(sla_tokens, "req"))
    assert r.status_code == 403
    # A requester may not record an outage either; nothing is written.
    service = f"svc-{uuid.uuid4().hex}"
    body = {"service": service, "start": "2026-11-02T10:00:00Z", "end": "2026-11-02T11:00:00Z"}
    r = await http.post("/api/v1/sla/outages", json=body, headers=h(sla_tokens, "req"))
    assert r.status_code == 403
    with session_scope(db_engine) as s:
        assert s.exec(select(OutageRow).where(OutageRow.service == service)).first() is None
