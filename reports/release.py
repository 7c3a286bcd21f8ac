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
                formula=f"deployed releases that ended {', '.join(SUCCESS_STATES)} / deployed releases",
                source="002 §8.3.7.2 a)",
                period=p,
            ),
            count(
                "emergency_releases",
                "紧急发布数量",
                "Emergency releases",
                sum(1 for f in facts if truthy(f.fields.get(EMERGENCY))),
                formula=f"releases with '{EMERGENCY}' true",
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
                source="JR/T 0074-2012 App. B.12",
                period=p,
            ),
            ratio(
                "on_time_rate",
                "发布按时率",
                "On-time release rate",
                sum(1 for f in done if on_time(f)),
                len(done),
                formula=f"deployed releases whose deployment began by '{PLANNED_END}' / deployed releases",
                source="JR/T 0074-2012 App. B.12",
                period=p,
            ),
            count(
                "untested_releases",
                "未经测试的发布数量",
                "Untested releases",
                len(untested),
                formula=f"deployed releases without '{TESTED}' (no test sign-off)",
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
                source="002 §8.3.7.2 b)",
                period=p,
            ),
            ratio(
                "dsl_update_rate",
                "发布内容在DSL中更新率",
                "DSL update rate",
                sum(1 for f in done if truthy(f.fields.get(DSL_UPDATED))),
                len(done),
                formula=f"deployed releases with '{DSL_UPDATED}' / deployed releases",
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
