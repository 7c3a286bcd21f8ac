"""The checklist input and the attachments section on the record page, without a browser (issue 20):
the items with their expected results as pass / fail / n-a with a note; upload through the page's form,
the file listed with who added it, downloaded; the transition's form answers the checklist."""

from __future__ import annotations

import re

from tests.api.conftest import Api
from tests.api.test_attachments import drill, files_api  # noqa: F401 - the app with a store of its own


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match is not None, f"no hidden input {name}"
    return match.group(1)


async def test_checklist_and_attachments_on_the_record_page(files_api: Api) -> None:  # noqa: F811
    api = files_api
    number = await drill(api)
    http = api.http
    await http.get("/ui/lang/zh")
    r = await http.post("/ui/sign-in", data={"username": "bob", "token": api.tokens["bob"]})
    assert r.status_code == 303, r.text
    page = (await http.get(f"/ui/records/{number}")).text
    assert "切换成功" in page and "五分钟内" in page and "预期结果（正常标准）" in page
    assert 'name="f.checks.failover" value="fail"' in page and 'name="f.checks.data.note"' in page
    assert "尚无附件。" in page and 'enctype="multipart/form-data"' in page and "演练报告" in page

    r = await http.post(
        f"/ui/records/{number}/attachments",
        data={"csrf": _hidden(page, "csrf"), "key": "k1", "kind": "drill_report"},
        files={"file": ("drill.txt", b"all systems back in 4 minutes", "text/plain")},
    )
    assert r.status_code == 303, r.text
    page = (await http.get(f"/ui/records/{number}")).text
    link = re.search(rf'href="(/ui/records/{number}/attachments/[0-9a-f]{{32}})" download>drill.txt<', page)
    assert link is not None and "上传了附件" in page
    download = await http.get(link.group(1))
    assert download.status_code == 200 and download.content == b"all systems back in 4 minutes"

    r = await http.post(
        f"/ui/records/{number}/transitions",
        data={
            "csrf": _hidden(page, "csrf"),
            "trigger": "finish",
            "key": "k2",
            "_tz": "0",
            "f.checks.failover": "pass",
            "f.checks.data": "n/a",
            "f.checks.data.note": "replica only",
        },
    )
    assert r.status_code == 303, r.text
    record = (await api.get("bob", f"/api/v1/processes/{number}")).json()
    assert record["state"] == "done"
    assert record["fields"]["checks"]["data"] == {"result": "n/a", "note": "replica only"}
    page = (await http.get(f"/ui/records/{number}")).text
    assert "切换成功: 通过; 数据一致: 不适用 (replica only)" in page
