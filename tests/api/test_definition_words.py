"""A definition's problems in the caller's language: the API's check and refusal (issue 16)."""

from __future__ import annotations

from api.problems import ProblemError
from tests.api.conftest import MINI, Api

BROKEN = MINI.replace(
    "{name: closed, category: closed, final: true", "{name: closed, category: waiting, final: true", 1
)


async def test_the_check_words_problems_in_the_callers_language(api: Api) -> None:
    r = await api.post("lead", "/api/v1/definitions/validate", {"source": BROKEN})  # lead reads Chinese
    assert r.status_code == 200 and r.json()["valid"] is False
    assert {"path": "states[5].category", "message": "终止状态 'closed' 应属于 closed 类别"} in r.json()[
        "errors"
    ]
    r = await api.post("bob", "/api/v1/definitions/validate", {"source": BROKEN})
    assert {
        "path": "states[5].category",
        "message": "final state 'closed' should be in category closed",
    } in r.json()["errors"]
    r = await api.http.post(
        "/api/v1/definitions/validate",
        content="key: [unclosed",
        headers={**api.headers("lead"), "Content-Type": "application/yaml"},
    )
    assert r.json()["errors"][0]["message"].startswith("YAML 格式错误：")


async def test_a_refused_draft_lists_its_problems_in_chinese_for_a_chinese_reader() -> None:
    problem = ProblemError(
        422,
        "the definition has 1 problem(s)",
        errors=[{"path": "states", "message": "no final state", "zh": "没有终止状态"}],
        zh="定义有 1 个问题",
    )
    assert problem.body("zh")["errors"] == [{"path": "states", "message": "没有终止状态"}]
    assert problem.body("en")["errors"] == [{"path": "states", "message": "no final state"}]
