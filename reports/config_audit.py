"""Configuration management indicators: seed 003 App. B.11 and seed 002 §8.3.5.2, from the configuration
audit records (definitions/library/config_audit.yaml) and the CMDB's own history of CI versions."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Table, func, select
from sqlmodel import Session

from cmdb.tables import CiVersionRow
from core.tables import AdminEventRow
from reports.common import Context, count, ratio
from reports.data import naive_utc
from reports.model import Facts, Kpi, Period

CHECKED, CORRECT, UNAUTHORISED = "cis_checked", "cis_correct", "unauthorised_found"
DUE, COMPLETED = "due_date", "completed_at"
CLOSED = "closed"
_VERSIONS: Table = CiVersionRow.__table__  # type: ignore[attr-defined]
_ADMIN: Table = AdminEventRow.__table__  # type: ignore[attr-defined]
UNAUTHORISED_EDIT = "cmdb.unauthorised_edit"  # api/identity/audit.py

ASSUMPTIONS = [
    f"accuracy counts the audits closed ('{CLOSED}'): Σ '{CORRECT}' / Σ '{CHECKED}'",
    f"an audit is on time when closed by its '{DUE}'; audits still open past it count as late",
    "CI changes are the CMDB's CI versions (created, updated, retired, related, unrelated) made in the "
    "period; one made through a record names its number",
    "not computed: CMDB coverage (002 §8.3.5.2 b) needs an inventory of what exists outside the CMDB, and "
    "the CI/change match rate (003 App. B.11) needs CI changes proposed on changes, which come later",
]


def _when(value: object) -> datetime | None:
    if isinstance(value, str) and value:
        try:
            return naive_utc(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


def _number(f: Facts, name: str) -> int:
    value = f.fields.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def on_time(f: Facts) -> bool:
    due, done = _when(f.fields.get(DUE)), _when(f.fields.get(COMPLETED))
    return f.state == CLOSED and due is not None and done is not None and done <= due


def due_by(f: Facts, now: datetime) -> bool:
    """Closed, or past its due date: an audit the on-time rate judges."""
    due = _when(f.fields.get(DUE))
    return f.state == CLOSED or (not f.final and due is not None and due <= now)


def ci_changes(session: Session, period: Period) -> tuple[int, int]:
    """(CI versions made through a record, all CI versions) made in the period."""
    query = select(func.count(), func.count(_VERSIONS.c.record_number))
    if period.start is not None:
        query = query.where(_VERSIONS.c.at >= period.start)
    if period.end is not None:
        query = query.where(_VERSIONS.c.at < period.end)
    total, through_records = session.connection().execute(query).one()
    return int(through_records), int(total)


def refused_edits(session: Session, period: Period) -> int:
    """Direct edits of CIs that change only through a change, refused (kept in the admin trail)."""
    query = select(func.count()).where(_ADMIN.c.action == UNAUTHORISED_EDIT)
    if period.start is not None:
        query = query.where(_ADMIN.c.at >= period.start)
    if period.end is not None:
        query = query.where(_ADMIN.c.at < period.end)
    return int(session.connection().execute(query).scalar_one())


def compute(ctx: Context, session: Session, now: datetime) -> list[Kpi]:
    facts, p = ctx.facts, ctx.period
    closed = [f for f in facts if f.state == CLOSED]
    judged = [f for f in facts if due_by(f, now.astimezone(UTC).replace(tzinfo=None))]
    through_records, changes = ci_changes(session, p)
    return [
        ratio(
            "cmdb_accuracy",
            "配置数据的准确率（配置项正确率）",
            "CMDB accuracy (configuration items correct)",
            sum(_number(f, CORRECT) for f in closed),
            sum(_number(f, CHECKED) for f in closed),
            formula="Σ CIs found correct / Σ CIs checked, over the closed configuration audits",
            formula_zh="已关闭配置审核中核实正确的配置项数之和 / 检查的配置项数之和",
            source="002 §8.3.5.2 a); 003 App. B.11 配置项正确率",
            period=p,
        ),
        count(
            "unauthorised_cis",
            "未授权配置数量",
            "Unauthorised configuration items found",
            sum(_number(f, UNAUTHORISED) for f in closed),
            formula="Σ unauthorised CIs found, over the closed configuration audits",
            formula_zh="已关闭配置审核中发现的未授权配置项数之和",
            source="003 App. B.11 未授权配置数量",
            period=p,
        ),
        count(
            "unauthorised_edits_refused",
            "未授权配置变更（已拒绝）",
            "Unauthorised CI edits refused",
            refused_edits(session, p),
            formula="direct edits of CIs whose class changes only through a change, refused in the period",
            formula_zh="本期被拒绝的、对只能经变更修改的类别的配置项的直接编辑次数",
            source="003 App. B.11 未授权配置数量; 002 §8.3.5.1 d)",
            period=p,
        ),
        ratio(
            "audit_on_time_rate",
            "配置审计按时完成率",
            "Configuration audits completed on time",
            sum(1 for f in judged if on_time(f)),
            len(judged),
            formula="audits closed by their due date / audits closed or past their due date",
            formula_zh="在截止日期前关闭的审核数 / 已关闭或已过截止日期的审核数",
            source="002 §8.3.5.1 d) (审核机制，保持有效频度的执行)",
            period=p,
        ),
        ratio(
            "ci_change_request_ratio",
            "配置项变更请求比率",
            "CI changes made through a record",
            through_records,
            changes,
            formula="CI versions made through a record (a change) / all CI versions in the period",
            formula_zh="经记录（变更）产生的配置项版本数 / 本期全部配置项版本数",
            source="003 App. B.11 配置项变更请求比率",
            period=p,
        ),
    ]
