"""The web forms show what the caller may change: fields the field rights or separation of duties keep
from them are disabled (with why), and a change sent anyway is refused by the workflow with the rule."""

from __future__ import annotations

import re

from tests.api.conftest import MINI, Api, api  # noqa: F401 - the app on the test's worker
from tests.web.test_record_forms import HTMX, _hidden, _sign_in

RIGHTS = """
field_rights:
  - fields: [builder]
    editors: {roles: [agent]}
    label: {zh: 构建人由处理人员指定, en: agents name the builder}
"""


def control(page: str, fid: str) -> str:
    match = re.search(rf'<(?:input|select|textarea)[^>]*id="{fid}"[^>]*>', page)
    assert match is not None, f"no control {fid}"
    return match.group(0)


async def test_forms_disable_what_the_caller_may_not_change(api: Api) -> None:  # noqa: F811
    # resolve asks for the builder too, so a transition form shows it.
    source = MINI.replace("required_fields: [resolution]", "required_fields: [resolution, builder]", 1)
    key = await api.publish_mini(source=source + RIGHTS)
    r = await api.create("alice", key, title="Rights in forms")
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    http = api.http

    # The new-record form disables what a rule keeps from the creator.
    await _sign_in(http, api, "alice")
    page = (await http.get(f"/ui/records/new?definition={key}")).text
    assert "disabled" in control(page, "nf-builder") and "disabled" not in control(page, "nf-plan")
    await _sign_in(http, api, "bob")
    page = (await http.get(f"/ui/records/new?definition={key}")).text
    assert "disabled" not in control(page, "nf-builder")

    # alice, the requester, may edit but not name the builder nor rename the requester.
    await _sign_in(http, api, "alice")
    page = (await http.get(f"/ui/records/{number}")).text
    assert 'id="edit"' in page
    assert "disabled" in control(page, "ef-builder") and "disabled" not in control(page, "ef-plan")
    assert "not yours to change" in page
    csrf = _hidden(page, "csrf")
    r = await http.post(
        f"/ui/records/{number}/fields", data={"csrf": csrf, "key": "fr1", "f.builder": "alice"}, headers=HTMX
    )
    # The form leaves out what it disabled; sent anyway through the API, the workflow refuses it.
    assert r.status_code == 204 or "alert-error" not in r.text
    rec = (await api.get("alice", f"/api/v1/processes/{number}")).json()
    assert "builder" not in rec["fields"]
    r = await api.patch("alice", f"/api/v1/processes/{number}", {"fields": {"builder": "alice"}})
    assert r.status_code == 403 and "agents name the builder" in r.json()["detail"]

    # bob, an agent, names himself builder; from then on separation of duties keeps the field from him,
    # in the edit form and in the transition forms alike.
    assert (
        await api.patch("bob", f"/api/v1/processes/{number}", {"fields": {"builder": "bob"}})
    ).status_code == 200
    await _sign_in(http, api, "bob")
    body = {"trigger": "accept", "fields": {"assignee": "bob"}}
    assert (await api.post("bob", f"/api/v1/processes/{number}/transitions", body)).status_code == 200
    page = (await http.get(f"/ui/records/{number}")).text
    assert "disabled" in control(page, "ef-builder") and "disabled" not in control(page, "ef-impact")
    assert "disabled" in control(page, "tf-resolve-builder")
    assert "disabled" not in control(page, "tf-resolve-resolution")
    # Resolving through the form keeps the builder (its disabled control is not sent).
    form = {"csrf": _hidden(page, "csrf"), "trigger": "resolve", "key": "fr2", "f.resolution": "done"}
    r = await http.post(f"/ui/records/{number}/transitions", data=form)
    assert r.status_code == 303, r.text
    rec = (await api.get("bob", f"/api/v1/processes/{number}")).json()
    assert rec["state"] == "resolved" and rec["fields"]["builder"] == "bob"
