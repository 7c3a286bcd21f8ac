"""The new-record and edit-fields forms without a browser: one record per form however often it is
sent, refusals named in the form, and the editors rule enforced by the workflow."""

from __future__ import annotations

import re

import httpx

from tests.api.conftest import Api, api  # noqa: F401 - the app on the test's worker

HTMX = {"HX-Request": "true"}


async def _sign_in(http: httpx.AsyncClient, api: Api, user: str) -> None:  # noqa: F811
    await http.get("/ui/lang/en")  # English pages, whatever the user's profile says
    r = await http.post("/ui/sign-in", data={"username": user, "token": api.tokens[user]})
    assert r.status_code == 303, r.text


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match is not None, f"no hidden input {name}"
    return match.group(1)


async def test_a_form_sent_twice_creates_one_record(api: Api) -> None:  # noqa: F811
    key = await api.publish_mini()
    http = api.http
    await _sign_in(http, api, "bob")
    choose = await http.get("/ui/records/new")
    assert f'data-key="{key}"' in choose.text
    page = await http.get("/ui/records/new", params={"definition": key})
    assert page.status_code == 200
    # The start fields, as the API's start_fields gives them: enum → select, text → textarea.
    assert '<select id="nf-impact" name="f.impact" required' in page.text
    assert '<textarea id="nf-plan" name="f.plan"' in page.text
    assert 'name="f.priority"' not in page.text  # derived from impact and urgency
    form = {
        "csrf": _hidden(page.text, "csrf"),
        "key": _hidden(page.text, "key"),
        "definition": key,
        "_tz": "0",
        "title": "Sent twice",
        "f.impact": "1",
        "f.urgency": "2",
        "f.risk": "2",
    }
    first = await http.post("/ui/records/new", data=form)
    second = await http.post("/ui/records/new", data=form)
    assert first.status_code == second.status_code == 303, first.text
    assert first.headers["location"] == second.headers["location"]
    listed = await api.get("bob", "/api/v1/processes", params={"definition": key})
    items = listed.json()["items"]
    assert [i["title"] for i in items] == ["Sent twice"]
    assert items[0]["priority"] == "2"  # the matrix: impact 1 × urgency 2

    # The same form key with other content is refused, as a reused Idempotency-Key is (issue 15):
    # the first record is not silently kept as the answer to something else.
    changed = await http.post("/ui/records/new", data={**form, "title": "Something else"}, headers=HTMX)
    assert changed.status_code == 200 and "already used with a different request" in changed.text
    assert _hidden(changed.text, "key") != form["key"]  # the corrected form goes out under a new key
    listed = await api.get("bob", "/api/v1/processes", params={"definition": key})
    assert [i["title"] for i in listed.json()["items"]] == ["Sent twice"]

    # Each render carries its own key: a new form is a new record.
    again = await http.get("/ui/records/new", params={"definition": key})
    assert _hidden(again.text, "key") != form["key"]


async def test_refusals_are_shown_next_to_the_fields(api: Api) -> None:  # noqa: F811
    key = await api.publish_mini()
    http = api.http
    await _sign_in(http, api, "bob")
    page = await http.get("/ui/records/new", params={"definition": key})
    base = {"csrf": _hidden(page.text, "csrf"), "key": _hidden(page.text, "key"), "definition": key}
    r = await http.post("/ui/records/new", data={**base, "title": "", "f.urgency": "1"}, headers=HTMX)
    assert r.status_code == 200
    assert re.search(r'id="nf-title-err"\s*>Required<', r.text), r.text
    r = await http.post(
        "/ui/records/new", data={**base, "title": "No impact", "f.urgency": "1"}, headers=HTMX
    )
    assert re.search(r'id="nf-impact-err"\s*>Required<', r.text), r.text
    assert 'aria-invalid="true"' in r.text and 'value="No impact"' in r.text  # what was entered stays
    assert re.search(r'<option value="1"\s+selected', r.text)  # urgency kept too

    # An approver may not start this process: the engine's rule, in the form.
    await _sign_in(http, api, "carol")
    page = await http.get("/ui/records/new", params={"definition": key})
    assert "submitting will be refused" in page.text
    base = {"csrf": _hidden(page.text, "csrf"), "key": _hidden(page.text, "key"), "definition": key}
    r = await http.post("/ui/records/new", data={**base, "title": "Mine", "f.impact": "1", "f.urgency": "1"})
    assert r.status_code == 403 and "only Agent, Integrator, Requester, Administrator may start" in r.text


async def test_only_editors_change_fields_and_read_only_ones_stay(api: Api) -> None:  # noqa: F811
    key = await api.publish_mini()
    r = await api.create("alice", key, title="Edit me", impact="2", urgency="2")
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    http = api.http

    # carol is no editor and no participant (an approver elsewhere): the record is not found for her,
    # and a change sent anyway is refused without naming anything (issue 15's visibility rule).
    await _sign_in(http, api, "carol")
    page = await http.get(f"/ui/records/{number}")
    assert page.status_code == 404 and 'id="edit"' not in page.text
    inbox = await http.get("/ui/inbox")
    csrf = _hidden(inbox.text, "csrf")
    r = await http.post(f"/ui/records/{number}/fields", data={"csrf": csrf, "f.impact": "1"}, headers=HTMX)
    assert (
        r.status_code == 200
        and "alert-error" in r.text
        and f"no record '{number}'" in r.text.replace("&#39;", "'")
    )

    # The requester is an editor: impact 1 moves the priority from 3 to 2.
    await _sign_in(http, api, "alice")
    page = await http.get(f"/ui/records/{number}")
    assert 'id="edit"' in page.text
    form = {
        "csrf": _hidden(page.text, "csrf"),
        "key": "k1",
        "f.title": "Edit me",
        "f.impact": "1",
        "f.urgency": "2",
    }
    r = await http.post(f"/ui/records/{number}/fields", data=form)
    assert r.status_code == 303, r.text
    rec = (await api.get("alice", f"/api/v1/processes/{number}")).json()
    assert rec["fields"]["impact"] == "1" and rec["priority"] == "2"
