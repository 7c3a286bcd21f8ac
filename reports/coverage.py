"""Every indicator of JR/T 0074-2012 App. B (seed 003, 部分流程管理统计分析指标参考): the KPI report's
indicator that computes it (indicator set and key), or why the records cannot — the input the product
does not have. Served at GET /api/v1/reports/kpis/coverage and listed in docs/sla.md."""

from __future__ import annotations

from pydantic import BaseModel, Field

from reports.model import Label


class Coverage(BaseModel):
    clause: str = Field(description="The App. B table, e.g. B.9.")
    name: Label
    kind: str | None = Field(description="The indicator set that computes it (None: not computed).")
    key: str | None = Field(description="The indicator's key in that set.")
    missing: Label | None = Field(default=None, description="Why it is not computed: the input missing.")


def _c(clause: str, zh: str, en: str, kind: str, key: str) -> Coverage:
    return Coverage(clause=clause, name=Label(zh=zh, en=en), kind=kind, key=key)


def _n(clause: str, zh: str, en: str, why_zh: str, why_en: str) -> Coverage:
    return Coverage(
        clause=clause, name=Label(zh=zh, en=en), kind=None, key=None, missing=Label(zh=why_zh, en=why_en)
    )


NO_PHASES = (
    "事件记录不区分诊断、修复、恢复、复原各阶段的时间点。",
    "Incidents do not record when diagnosis, repair, recovery and restoration each ended.",
)
NO_CONTINUITY = ("产品中没有服务连续性计划。", "The product holds no service continuity plans.")
NO_BUDGET = ("产品不记录预算和支出。", "The product records no budgets or spending.")
NO_SUPPLIER = (
    "产品不记录对供方的考评和改进要求。",
    "The product records no supplier evaluations or demands.",
)

CATALOGUE: list[Coverage] = [
    _c("B.1", "SLA 达成率", "SLA attainment rate", "service_level", "sla_attainment"),
    _c("B.1", "SLA 之外的服务数量", "Services outside any SLA", "service_level", "services_outside_sla"),
    _c("B.1", "改进项目数量", "Improvement items", "service_level", "improvement_items"),
    _n("B.2", "连续性计划外服务数量", "Services outside continuity plans", *NO_CONTINUITY),
    _n("B.2", "连续性计划完成或更新的延误时间", "Delay of continuity plans", *NO_CONTINUITY),
    _n(
        "B.2",
        "连续性认知调查通过率",
        "Continuity awareness survey pass rate",
        "产品不记录认知调查结果。",
        "The product records no awareness survey results.",
    ),
    _c("B.3", "服务不可用时长", "Service unavailable time", "service_level", "unavailable_hours"),
    _c("B.3", "事件检测时长", "Incident detection time", "incident", "mean_detection_time"),
    _c("B.3", "事件响应时长", "Incident response time", "incident", "mean_response_time"),
    _n("B.3", "事件修复时长", "Incident repair time", *NO_PHASES),
    _n("B.3", "事件恢复时长", "Incident recovery time", *NO_PHASES),
    _n("B.3", "事件复原时长", "Incident restoration time", *NO_PHASES),
    _c("B.3", "事件解决时长", "Incident resolution time", "incident", "mean_time_to_resolve"),
    _c("B.3", "重复事件数量", "Repeated incidents", "incident", "repeated_incidents"),
    _n("B.4", "预算编制准确率", "Budget accuracy", *NO_BUDGET),
    _n("B.4", "预算执行率", "Budget execution rate", *NO_BUDGET),
    _n(
        "B.5",
        "由于能力问题导致的事件次数",
        "Incidents caused by capacity",
        "事件分类中没有“能力”原因；增加该分类值后即可统计。",
        "The incident categories have no capacity cause; a category value would make it countable.",
    ),
    _n(
        "B.5",
        "与能力有关的硬件计划外采购量",
        "Unplanned capacity purchases",
        "产品不记录采购和能力计划。",
        "The product records no purchases or capacity plans.",
    ),
    _n(
        "B.5",
        "能力富余百分比",
        "Spare capacity",
        "产品不采集能力和需求的度量值。",
        "The product collects no capacity or demand measurements.",
    ),
    _n(
        "B.5",
        "受到能力监测的配置百分比",
        "CIs under capacity monitoring",
        "配置库不记录哪些配置项受到能力监测。",
        "The CMDB does not record which CIs are monitored for capacity.",
    ),
    _c("B.6", "安全事件数量", "Security incidents", "incident", "security_incidents"),
    _n(
        "B.6",
        "已发现的风险数量",
        "Risks identified",
        "产品中没有风险登记。",
        "The product holds no risk register.",
    ),
    _c(
        "B.6",
        "重大安全事件年度发生数",
        "Major security incidents a year",
        "incident",
        "major_security_incidents",
    ),
    _n(
        "B.7",
        "服务投诉量",
        "Service complaints",
        "产品中没有投诉流程或投诉字段。",
        "The product has no complaint process or field.",
    ),
    _n(
        "B.7",
        "上次服务评审提出的行动未完成的数量",
        "Open actions of the last service review",
        "服务级别评审记录的是评审意见，不是带状态的行动项。",
        "Service-level reviews record notes, not actions with a state.",
    ),
    _n("B.8", "供方服务考核满意率", "Supplier evaluation pass rate", *NO_SUPPLIER),
    _n("B.8", "供方改进次数", "Supplier improvement demands", *NO_SUPPLIER),
    _c("B.9", "一线支持解决率", "First-line resolution rate", "incident", "first_line_resolution_rate"),
    _c("B.9", "工单一次分派率", "First-time correct assignment rate", "incident", "first_assignment_rate"),
    _c("B.9", "二线支持平均响应时间", "Second-line mean response time", "incident", "l2_mean_response_time"),
    _c("B.9", "事件平均解决时间", "Mean time to resolve", "incident", "mean_time_to_resolve"),
    _c("B.9", "事件归类准确率", "Classification accuracy", "incident", "classification_accuracy"),
    _c("B.9", "一线支持呼叫百分比", "Logged at the first line", "incident", "first_line_logging_rate"),
    _c("B.9", "一次正确解决率", "First-time fix rate", "incident", "first_time_fix_rate"),
    _c("B.9", "主动解决率", "Proactive resolution rate", "incident", "proactive_resolution_rate"),
    _c("B.10", "问题关闭率", "Problem closure rate", "problem", "closure_rate"),
    _c("B.10", "问题平均解决时间", "Mean problem resolution time", "problem", "mean_resolution_time"),
    _c(
        "B.10",
        "无对应问题的事件百分比",
        "Incidents without a problem",
        "problem",
        "incidents_without_problem",
    ),
    _c("B.10", "问题按时解决率", "On-time problem resolution", "problem", "on_time_resolution_rate"),
    _n(
        "B.11",
        "配置项与变更工单的匹配率",
        "CI / change match rate",
        "需比较变更提出的配置项更改与实际应用的更改：提议已记录，比较尚未实现。",
        "Needs the CI changes a change proposed compared with those applied: proposals are recorded, "
        "the comparison is not built yet.",
    ),
    _c("B.11", "未授权配置数量", "Unauthorised CIs", "config_audit", "unauthorised_cis"),
    _c("B.11", "配置项变更请求比率", "CI change request ratio", "config_audit", "ci_change_request_ratio"),
    _c("B.11", "配置项正确率", "CI accuracy", "config_audit", "cmdb_accuracy"),
    _c("B.11", "变更一次成功率", "First-time change success", "change", "first_time_success_rate"),
    _c("B.11", "未授权变更数", "Unauthorised changes", "change", "unauthorised_changes"),
    _c("B.11", "变更事故发生率", "Change-caused incident rate", "change", "change_incident_rate"),
    _c("B.11", "变更请求通过率", "Change approval pass rate", "change", "approval_pass_rate"),
    _c("B.11", "变更实施准时率", "On-time implementation", "change", "on_time_implementation_rate"),
    _c("B.11", "紧急变更数", "Emergency changes", "change", "emergency_changes"),
    _c("B.12", "紧急发布数量", "Emergency releases", "release", "emergency_releases"),
    _c("B.12", "事故率", "Release-caused incident rate", "release", "release_incident_rate"),
    _c("B.12", "发布按时率", "On-time release rate", "release", "on_time_rate"),
    _c("B.12", "未经测试的发布数量", "Untested releases", "release", "untested_releases"),
    _c("B.12", "发布内容在 DSL 中更新率", "DSL update rate", "release", "dsl_update_rate"),
]
