"""Service reporting indicators (seed 002 §8.3.2): the share of service reports submitted on time, and
how many were submitted, of the library's `service_report` process."""

from __future__ import annotations

from datetime import datetime

from reports.common import Context, count, ratio
from reports.data import naive_utc
from reports.model import Facts, Kpi

DUE, SUBMITTED = "due_date", "submitted_at"
DONE_STATES = ("submitted", "archived")
ASSUMPTIONS = [
    f"a report is judged once submitted ('{SUBMITTED}' set) or past its due date ('{DUE}') unsubmitted",
    "completeness of a report's content is judged by its review (the approval), not computed",
]


def _when(value: object) -> datetime | None:
    if isinstance(value, str) and value:
        try:
            return naive_utc(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


def on_time(f: Facts) -> bool:
    due, done = _when(f.fields.get(DUE)), _when(f.fields.get(SUBMITTED))
    return due is not None and done is not None and done <= due


def judged(f: Facts, now: datetime) -> bool:
    """Submitted, or past its due date without being submitted (cancelled reports are not judged)."""
    if _when(f.fields.get(SUBMITTED)) is not None:
        return True
    due = _when(f.fields.get(DUE))
    limit = naive_utc(now)
    return f.state != "cancelled" and due is not None and limit is not None and due <= limit


def compute(ctx: Context, now: datetime) -> list[Kpi]:
    p = ctx.period
    facts = [f for f in ctx.facts if judged(f, now)]
    return [
        ratio(
            "report_on_time_rate",
            "服务报告按时提交率",
            "Service reports submitted on time",
            sum(1 for f in facts if on_time(f)),
            len(facts),
            formula="reports submitted by their due date / reports submitted or past their due date",
            formula_zh="在截止日期前提交的报告数 / 已提交或已过截止日期的报告数",
            source="002 §8.3.2 (服务报告：按时提交)",
            period=p,
        ),
        count(
            "reports_submitted",
            "已提交的服务报告数",
            "Service reports submitted",
            sum(1 for f in ctx.facts if _when(f.fields.get(SUBMITTED)) is not None),
            formula="reports of the period with a submission time",
            formula_zh="本期有提交时间的报告数",
            source="002 §8.3.2",
            period=p,
        ),
    ]
