"""Records on configuration items, end to end on a real Temporal server and the read model (SQLite, and
PostgreSQL with -m db): the shipped incident names its business service and CIs as `ci` fields, the
engine refuses a CI that does not exist, is retired or is of a class the field does not take (in the
caller's language, nothing written), and impact analysis from a CI or from a record lists the services
reached and the open records on the CIs reached — only those the caller may see."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, text

from tests.library.conftest import LibraryApi, ensure_users

CMDB = "/api/v1/cmdb"


@pytest.fixture(scope="module", autouse=True)
def _configuration_manager(db_engine: Engine) -> None:
    ensure_users(db_engine, [("cfg", ["configuration_manager"], [])])


async def _ci(api: LibraryApi, cls: str, name: str, **attributes: Any) -> int:
    r = await api.post("cfg", f"{CMDB}/cis", {"class": cls, "name": name, "attributes": attributes})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def _relate(api: LibraryApi, type_: str, source: int, target: int) -> None:
    r = await api.post("cfg", f"{CMDB}/relations", {"type": type_, "source": source, "target": target})
    assert r.status_code == 201, r.text


async def _landscape(api: LibraryApi) -> dict[str, int]:
    """A business service that depends on an application running on a server, and a retired database."""
    tag = uuid.uuid4().hex[:8]
    server = await _ci(api, "server", f"srv-{tag}", hostname=f"srv-{tag}")
    app = await _ci(api, "application", f"Core banking {tag}", environment="production")
    service = await _ci(api, "business_service", f"Payments {tag}", owner="lee", criticality="critical")
    await _relate(api, "runs_on", app, server)
    await _relate(api, "depends_on", service, app)
    old = await _ci(api, "database", f"old-db-{tag}", engine="oracle")
    r = await api.post("cfg", f"{CMDB}/cis/{old}/retire", {})
    assert r.status_code == 200, r.text
    return {"server": server, "app": app, "service": service, "retired": old}


async def test_an_incident_names_checked_cis_and_impact_lists_services_and_open_records(
    api: LibraryApi, db_engine: Engine
) -> None:
    await api.ensure("incident")
    cis = await _landscape(api)
    first = await api.started(
        "alice",
        "incident",
        "Payments fail",
        impact="2",
        urgency="1",
        service=cis["service"],
        cis=[cis["server"]],
    )
    assert first["fields"]["cis"] == [cis["server"]] and first["fields"]["service"] == cis["service"]
    # The read model's CI index holds what the record names.
    with db_engine.connect() as conn:
        named = conn.execute(
            text("SELECT field, ci_id FROM record_cis WHERE record_id = :r ORDER BY field"),
            {"r": first["id"]},
        ).all()
    assert [tuple(row) for row in named] == [("cis", cis["server"]), ("service", cis["service"])]

    # A second incident, by another requester, on the application the first one's server carries.
    second = await api.started(
        "cust", "incident", "Slow transfers", impact="3", urgency="2", cis=[str(cis["app"])]
    )
    assert second["fields"]["cis"] == [cis["app"]]  # a form's digits become the CI's number

    # From the server: the application and the service are reached; both incidents are open on them.
    r = await api.get("sam", f"{CMDB}/cis/{cis['server']}/impact", params={"direction": "downstream"})
    assert r.status_code == 200, r.text
    impact = r.json()
    assert [s["id"] for s in impact["services"]] == [cis["service"]]
    # One row per record and CI it names (the first incident names the server and the service).
    on = {(rec["number"], rec["ci"]) for rec in impact["records"]}
    assert on == {
        (first["number"], cis["server"]),
        (first["number"], cis["service"]),
        (second["number"], cis["app"]),
    }
    by_number = {rec["number"]: rec for rec in impact["records"]}
    assert by_number[first["number"]]["process_title"] == "Incident management"
    # A requester sees only their own record there: the impact does not reveal another's incident.
    r = await api.get("cust", f"{CMDB}/cis/{cis['server']}/impact", params={"direction": "downstream"})
    assert {rec["number"] for rec in r.json()["records"]} == {second["number"]}

    # The record's own impact: its CIs, the services reached, the other open records on them.
    r = await api.get("sam", f"/api/v1/processes/{first['number']}/impact")
    assert r.status_code == 200, r.text
    mine = r.json()
    assert {c["id"] for c in mine["cis"]} == {cis["server"], cis["service"]}
    assert cis["app"] in {c["id"] for c in mine["reached"]}
    assert [s["id"] for s in mine["services"]] == [cis["service"]]
    assert [rec["number"] for rec in mine["records"]] == [second["number"]]
    # A CI's records, for its page.
    r = await api.get("sam", f"{CMDB}/cis/{cis['app']}/records")
    assert [rec["number"] for rec in r.json()] == [second["number"]]
    r = await api.get("sam", f"{CMDB}/cis/999999999/records")
    assert r.status_code == 404

    # Setting the field moves the index with it.
    await api.set_fields("sam", first["id"], cis=[cis["app"]])
    r = await api.get("sam", f"{CMDB}/cis/{cis['server']}/records")
    assert r.json() == []


async def test_a_ci_that_is_unknown_retired_or_of_another_class_is_refused_and_nothing_is_written(
    api: LibraryApi, db_engine: Engine
) -> None:
    await api.ensure("incident")
    cis = await _landscape(api)
    with db_engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM records")).scalar_one()

    r = await api.start("alice", "incident", "Ghost", impact="3", urgency="3", cis=[999999999])
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [
        {
            "path": "fields.cis",
            "message": "Affected configuration items (CMDB) must name a configuration item of the CMDB: "
            "there is no configuration item 999999999",
        }
    ]
    r = await api.start("alice", "incident", "Old", impact="3", urgency="3", cis=[cis["retired"]])
    assert r.status_code == 422 and "is retired" in r.json()["errors"][0]["message"], r.text
    # The service field takes business services only; the message names the classes by label.
    r = await api.start("lead", "incident", "Wrong class", impact="3", urgency="3", service=cis["server"])
    assert r.status_code == 422, r.text
    message = r.json()["errors"][0]["message"]
    assert message.startswith("“受影响业务服务”只能引用“业务服务”类的配置项") and "服务器" in message, message
    r = await api.start("alice", "incident", "Not a number", impact="3", urgency="3", cis=["srv-01"])
    assert r.status_code == 422, r.text
    with db_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM records")).scalar_one() == before

    # The same checks on an open record, through the workflow itself.
    rec = await api.started("alice", "incident", "Fine", impact="3", urgency="3")
    r = await api.patch("sam", f"/api/v1/processes/{rec['id']}", {"fields": {"service": cis["app"]}})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "fields.service", r.text
    assert (await api.record("sam", rec["id"]))["fields"].get("service") is None
