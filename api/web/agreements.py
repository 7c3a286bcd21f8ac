"""The service level agreements' pages (issue 21, docs/sla.md): the agreements in force, and one
agreement with its targets per priority, its operational-level targets per support group, its service
hours, its versions (who made each, under which change) and its availability this month so far. For the
roles that read service figures through the API (process owners, admins, agents, auditors)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from api.access import roles_dependency
from api.auth import Principal
from api.deps import SessionDep
from api.problems import ProblemError
from api.web import i18n
from api.web.common import PageRoute, current_user, render
from core.tables import GroupRow
from sla.agreements import agreement_versions
from sla.availability import Availability, availability
from sla.model import AgreementSpec
from sla.tables import AgreementRow

router = APIRouter(route_class=PageRoute, include_in_schema=False)
# The same readers as GET /api/v1/sla/agreements (api/routes/sla.py).
SLA_READERS = ("process_owner", "admin", "agent", "auditor")
SlaPage = Annotated[Principal, Depends(roles_dependency(SLA_READERS, current_user))]
Key = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass
class Target:
    name: str  # a priority's label, or a support group
    response_minutes: int
    resolution_minutes: int


def _priority_labels(lang: str) -> dict[str, str]:
    return {p: i18n.translate(lang, f"agreements.priority{p}") for p in ("1", "2", "3", "4")}


def minutes(value: int, lang: str) -> str:
    """A target in words: 15 min, 4 h, 1 h 30 min (in the reader's language)."""
    hours, rest = divmod(value, 60)
    parts = [i18n.translate(lang, "agreements.h", n=hours)] if hours else []
    if rest or not hours:
        parts.append(i18n.translate(lang, "agreements.min", n=rest))
    return " ".join(parts)


def _month_so_far(spec: AgreementSpec, now: datetime) -> tuple[datetime, datetime]:
    """This month so far, in the agreement's time zone: the current period of its monthly report."""
    local = now.astimezone(ZoneInfo(spec.calendar.timezone))
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start, max(now, start + timedelta(seconds=1))


def _hours(calendar: Any, lang: str) -> list[tuple[str, str]]:
    """The service hours in words: 7×24, or the opening hours of each weekday."""
    if calendar.always:
        return [(i18n.translate(lang, "agreements.every_day"), "00:00–24:00")]
    return [
        (i18n.translate(lang, f"schedule.weekday{i}"), ", ".join(calendar.weekly.get(day, [])) or "—")
        for i, day in enumerate(DAYS)
    ]


def _current(session: Session, key: str) -> AgreementRow:
    row = session.exec(
        select(AgreementRow).where(AgreementRow.key == key, AgreementRow.status == "active")
    ).first()
    if row is None:
        raise ProblemError(404, f"no agreement {key}", zh=f"没有服务级别协议 {key}", kind="not_found")
    return row


@router.get("/ui/agreements")
def agreements_page(request: Request, user: SlaPage, session: SessionDep) -> Response:
    rows = session.exec(
        select(AgreementRow).where(AgreementRow.status == "active").order_by(col(AgreementRow.key))
    ).all()
    shown = [(row, AgreementSpec.model_validate(row.spec)) for row in rows]
    return render(request, "agreements.html", user, agreements=shown)


@router.get("/ui/agreements/{key}")
def agreement_page(request: Request, key: Key, user: SlaPage, session: SessionDep) -> Response:
    row = _current(session, key)
    spec = AgreementSpec.model_validate(row.spec)
    lang = i18n.language(request, user.language)
    labels = _priority_labels(lang)
    targets = [
        Target(labels.get(p, p), t.response_minutes, t.resolution_minutes)
        for p, t in sorted(spec.targets.items())
    ]
    # Support groups by the label the directory gives them (their key when it gives none).
    group_labels = {
        g.name: g.label for g in session.exec(select(GroupRow).where(col(GroupRow.name).in_(list(spec.olas))))
    }
    olas = [
        Target(group_labels.get(g) or g, t.response_minutes, t.resolution_minutes)
        for g, t in sorted(spec.olas.items())
    ]
    start, end = _month_so_far(spec, datetime.now(UTC))
    figures: Availability = availability(session, row, start, end)
    return render(
        request,
        "agreement.html",
        user,
        row=row,
        spec=spec,
        targets=targets,
        olas=olas,
        hours=_hours(spec.calendar, lang),
        versions=agreement_versions(session, key),
        period=(start, end),
        figures=figures,
        mins=lambda value: minutes(value, lang),
    )
