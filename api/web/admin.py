"""The administrators' page: users with their roles (grant, revoke), a password reset, and the admin
audit trail (auditors see the trail only). The same service functions as the admin API, with the
same role checks, so the page can do nothing its user could not do through the API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from api.identity import accounts, audit
from api.identity.roles import catalogue
from api.services import admin
from api.web.common import AdminPost, AuditPage, PageRoute, engine_of, render
from core.db import session_scope
from core.settings import Settings

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Name = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/ui/admin")
def admin_page(request: Request, user: AuditPage) -> Response:
    is_admin = user.has_role("admin")
    with session_scope(engine_of(request)) as session:
        users = admin.list_users(session) if is_admin else []
        roles = list(catalogue(session).values()) if is_admin else []
        events = audit.events(session, limit=50)
    return render(request, "admin.html", user, users=users, roles=roles, events=events, is_admin=is_admin)


@router.get("/ui/admin/audit")
def audit_page(
    request: Request,
    user: AuditPage,
    actor: str = "",
    action: str = "",
    since: str = "",
) -> Response:
    when = None
    if since:
        try:
            when = datetime.fromisoformat(since)
        except ValueError:
            when = None
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
    with session_scope(engine_of(request)) as session:
        events = audit.events(
            session, actor=actor[:80] or None, action=action[:40] or None, since=when, limit=500
        )
    return render(
        request,
        "admin_audit.html",
        user,
        events=events,
        actions=audit.ACTIONS,
        filters={"actor": actor, "action": action, "since": since},
    )


@router.post("/ui/admin/users/{username}/roles")
def change_role(
    request: Request,
    username: Name,
    user: AdminPost,
    role: Annotated[str, Form(min_length=1, max_length=64)],
    op: Annotated[str, Form(pattern="^(grant|revoke)$")] = "grant",
) -> Response:
    with session_scope(engine_of(request)) as session:
        if op == "grant":
            admin.grant_role(session, username=username, role=role, actor=user.username)
        else:
            admin.revoke_role(session, username=username, role=role, actor=user.username)
    return RedirectResponse(f"/ui/admin#user-{username}", status_code=303)


@router.post("/ui/admin/users/{username}/password")
def reset_password(request: Request, username: Name, user: AdminPost) -> Response:
    settings: Settings = request.app.state.settings
    with session_scope(engine_of(request)) as session:
        _row, temporary = accounts.set_password(
            session, settings, username=username, actor=user.username, lang=user.language
        )
    # Shown once, on this answer only (never in a URL, so never in a log or the history).
    return render(
        request,
        "admin_reset.html",
        user,
        username=username,
        temporary=temporary,
        headers={"Cache-Control": "no-store"},
    )
