"""Release management indicators: JR/T 0074-2012 App. B.12 and seed 002 §8.3.7.2."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from reports.common import Context, count, drill, is_set, passed_through, ratio, truthy
from reports.data import load_facts, naive_utc
from reports.model import Facts, Kpi

EMERGENCY = "emergency"
DEPLOY_STATES = ("deploying", "verifying")
SUCCESS_STATES = ("completed",)
TESTED = "tested"
DSL_UPDATED = "dsl_updated"
PLANNED_END = "planned_end"
CHANGE = "change"
CAUSED_BY_CHANGE = "caused_by_change"
CAUSED_BY_RELEASE = "caused_by_release"

ASSUMPTIONS = [
    f"emergency flag '{EMERGENCY}'; deployed = entered {list(DEPLOY_STATES)}; success = ended in "
    f"{list(SUCCESS_STATES)}",
    f"tested = '{TESTED}' true (set by the test sign-off); DSL flag '{DSL_UPDATED}'; on time = deployment "
    f"began by '{PLANNED_END}'",
    f"release-caused incidents: incidents whose '{CAUSED_BY_CHANGE}' is the release's '{CHANGE}' "
    f"(or with '{CAUSED_BY_RELEASE}' naming the release)",
]


def deployed(f: Facts) -> bool:
    return passed_through(f, DEPLOY_STATES)


def deployed_at(f: Facts) -> datetime | None:
    return next((e.at for e in f.transitions() if e.to_state in DEPLOY_STATES), None)


def on_time(f: Facts) -> bool:
    at = deployed_at(f)
    value = f.fields.get(PLANNED_END)
    if at is None or not isinstance(value, str) or not value:
        return False
    try:
        planned = naive_utc(datetime.fromisoformat(value))
    except ValueError:
        return False
    return planned is not None and at <= planned


def caused_incidents(ctx: Context, session: Session) -> int:
    releases = {f.id for f in ctx.facts}
    changes = {str(f.fields[CHANGE]) for f in ctx.facts if is_set(f.fields.get(CHANGE))}
    incidents = load_facts(session, definition=ctx.incident_definition, period=ctx.period)
    return sum(
        1
        for i in incidents
        if str(i.fields.get(CAUSED_BY_RELEASE)) in releases or str(i.fields.get(CAUSED_BY_CHANGE)) in changes
    )


def compute(ctx: Context, session: Session) -> list[Kpi]:
    facts, p = ctx.facts, ctx.period
    total = len(facts)
    done = [f for f in facts if deployed(f)]
    good = [f for f in done if f.final and f.state in SUCCESS_STATES]
    untested = [f for f in done if not truthy(f.fields.get(TESTED))]
    return drill(
        [
            ratio(
                "success_rate",
                "发布成功率",
                "Release success rate",
                len(good),
                len(done),
                formula="deployed releases that ended as completed / deployed releases",
                formula_zh="以“已完成”结束的已部署发布数 / 已部署的发布数",
                source="002 §8.3.7.2 a)",
                period=p,
            ),
            count(
                "emergency_releases",
                "紧急发布数量",
                "Emergency releases",
                sum(1 for f in facts if truthy(f.fields.get(EMERGENCY))),
                formula="releases flagged as emergency releases",
                formula_zh="标记为紧急发布的发布数",
                source="JR/T 0074-2012 App. B.12",
                period=p,
            ),
            ratio(
                "release_incident_rate",
                "发布事故率",
                "Release-caused incident rate",
                caused_incidents(ctx, session),
                total,
                formula="incidents of the period caused by a release's change / releases",
                formula_zh="本期由发布所属变更引起的事件数 / 发布总数",
                source="JR/T 0074-2012 App. B.12",
                period=p,
            ),
            ratio(
                "on_time_rate",
                "发布按时率",
                "On-time release rate",
                sum(1 for f in done if on_time(f)),
                len(done),
                formula="deployed releases whose deployment began by the planned end / deployed releases",
                formula_zh="在计划结束时间前开始部署的已部署发布数 / 已部署的发布数",
                source="JR/T 0074-2012 App. B.12",
                period=p,
            ),
            count(
                "untested_releases",
                "未经测试的发布数量",
                "Untested releases",
                len(untested),
                formula="deployed releases not marked as tested (no test sign-off)",
                formula_zh="未标记为已测试（无测试签字）的已部署发布数",
                source="JR/T 0074-2012 App. B.12; 002 §8.3.7.2 b)",
                period=p,
            ),
            ratio(
                "untested_release_share",
                "未经测试的发布占比",
                "Share of untested releases",
                len(untested),
                len(done),
                formula="untested deployed releases / deployed releases",
                formula_zh="未经测试的已部署发布数 / 已部署的发布数",
                source="002 §8.3.7.2 b)",
                period=p,
            ),
            ratio(
                "dsl_update_rate",
                "发布内容在DSL中更新率",
                "DSL update rate",
                sum(1 for f in done if truthy(f.fields.get(DSL_UPDATED))),
                len(done),
                formula="deployed releases whose content was updated in the DSL / deployed releases",
                formula_zh="发布内容已在 DSL 中更新的已部署发布数 / 已部署的发布数",
                source="JR/T 0074-2012 App. B.12",
                period=p,
            ),
        ],
        {
            "success_rate": good,
            "emergency_releases": [f for f in facts if truthy(f.fields.get(EMERGENCY))],
            "on_time_rate": [f for f in done if on_time(f)],
            "untested_releases": untested,
            "untested_release_share": untested,
            "dsl_update_rate": [f for f in done if truthy(f.fields.get(DSL_UPDATED))],
        },
    )
