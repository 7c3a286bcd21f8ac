"""The records list's filters and pages, shared by the page and its downloads (CSV, XLSX): the filters
of the form, and the dashboard's drill-down (`from`, `to`, `kpi`: api/web/drill.py)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlmodel import Session

from api.auth import Principal
from api.schemas import RecordPage
from api.services import search
from api.web import drill, periods


def _blank(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def list_page(
    request: Request,
    user: Principal,
    session: Session,
    filters: dict[str, Any],
    cursor: str | None,
    limit: int = drill.PAGE,
) -> tuple[RecordPage, drill.Drill | None]:
    """The records the filters select, newest first: one page (or `limit` rows for a download)."""
    found = drill.resolve(
        session,
        user,
        periods.org_zone(request),
        definition=filters["definition"],
        start=filters["from"],
        end=filters["to"],
        kpi=filters["kpi"],
    )
    common: dict[str, Any] = {k: filters[k] for k in LIST_FILTERS}
    breached = True if filters["breached"] else None
    if found is not None and found.ids is not None:
        ids, after = drill.page_of(found.ids, cursor) if limit == drill.PAGE else (found.ids[:limit], None)
        page = search.list_records(
            session=session, user=user, breached=breached, limit=limit, ids=ids, **common
        )
        return RecordPage(items=page.items, next_cursor=after), found
    period = found.period if found is not None else None
    page = search.list_records(
        session=session,
        user=user,
        breached=breached,
        limit=limit,
        cursor=cursor,
        created_from=period.start if period else None,
        created_to=period.end if period else None,
        **common,
    )
    return page, found


LIST_FILTERS = ("definition", "state", "priority", "assignee", "assignment_group", "q")


def list_filters(
    definition: str | None,
    state: str | None,
    priority: str | None,
    assignee: str | None,
    assignment_group: str | None,
    breached: str | None,
    q: str | None,
    start: str | None,
    end: str | None,
    kpi: str | None,
) -> dict[str, Any]:
    return {
        "definition": _blank(definition),
        "state": _blank(state),
        "priority": _blank(priority),
        "assignee": _blank(assignee),
        "assignment_group": _blank(assignment_group),
        "q": _blank(q),
        "breached": breached in ("1", "true", "on"),
        "from": _blank(start),
        "to": _blank(end),
        "kpi": _blank(kpi),
    }
