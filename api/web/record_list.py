"""The records list's filters and pages, shared by the page and its downloads (CSV, XLSX): the filters
of the form, and the dashboard's drill-down (`from`, `to`, `kpi`: api/web/drill.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Query, Request
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
    common.update(queue_args(filters["queue"], filters["sort"], user))
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
# The agents' queues (issue 16): what they open the list with. Each is a filter of open records.
QUEUES = ("mine", "groups", "unassigned", "due_soon")
SORTS = ("created", "due")
DUE_SOON = timedelta(hours=4)  # "breaching soon": a running clock breaches within this


def queue_args(queue: str | None, sort: str | None, user: Principal) -> dict[str, Any]:
    """The search's arguments for a queue and an order."""
    args: dict[str, Any] = {"order": "due" if sort == "due" else "created"}
    if queue == "mine":
        args.update(assignee=user.username, open_only=True)
    elif queue == "groups":
        args.update(groups=list(user.groups), open_only=True)
    elif queue == "unassigned":
        # In my groups when I have some; a dispatcher without groups sees every unassigned record.
        args.update(unassigned=True, open_only=True, groups=list(user.groups) or None)
    elif queue == "due_soon":
        args.update(open_only=True, due_before=datetime.now(UTC) + DUE_SOON, order="due")
    return args


Filter = Annotated[str | None, Query(max_length=200)]


def list_filters(
    definition: Filter = None,
    state: Filter = None,
    priority: Filter = None,
    assignee: Filter = None,
    assignment_group: Filter = None,
    breached: Filter = None,
    q: Filter = None,
    start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=40)] = None,
    kpi: Annotated[str | None, Query(max_length=64)] = None,
    queue: Annotated[str | None, Query(max_length=16)] = None,
    sort: Annotated[str | None, Query(max_length=16)] = None,
) -> dict[str, Any]:
    """The list's query parameters, read once for the page and its downloads (a FastAPI dependency)."""
    return {
        "queue": queue if queue in QUEUES else None,
        "sort": sort if sort in SORTS else None,
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


ListFilters = Annotated[dict[str, Any], Depends(list_filters)]
