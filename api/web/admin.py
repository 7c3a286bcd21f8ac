"""The administrators' page: users with their roles (grant, revoke), a password reset, and the admin
audit trail (auditors see the trail only). The same service functions as the admin API, with the
same role checks, so the page can do nothing its user could not do through the API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from api.identity import accounts, audit
from api.identity.roles import catalogue
from api.services import admin
from api.web import audit_words, drill, exports, i18n, periods
from api.web.common import AdminPage, AdminPost, AuditPage, PageRoute, engine_of, render
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
    with session_scope(engine_of(request)) as session:
        events = audit.events(
            session, actor=actor[:80] or None, action=action[:40] or None, since=_since(since), limit=500
        )
    return render(
        request,
        "admin_audit.html",
        user,
        events=events,
        actions=audit.ACTIONS,
        filters={"actor": actor, "action": action, "since": since},
    )


def _since(text: str) -> datetime | None:
    """The filter's date-time (UTC when it names no zone); an unreadable one filters nothing."""
    try:
        when = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


@router.get("/ui/admin/audit/export.{fmt}")
def export_audit(
    request: Request,
    user: AuditPage,
    fmt: Annotated[Literal["csv", "xlsx"], Path()],
    actor: str = "",
    action: str = "",
    since: str = "",
) -> Response:
    """The admin audit trail as the page filters it, for an auditor's working papers: at most 10,000
    events, newest first, actions and details in the reader's words, times in the organisation's zone."""
    lang, zone = i18n.language(request, user.language), periods.org_zone(request)
    with session_scope(engine_of(request)) as session:
        labels = {name: dict(info.label) for name, info in catalogue(session).items()}
        events = audit.events(
            session,
            actor=actor[:80] or None,
            action=action[:40] or None,
            since=_since(since),
            limit=drill.EXPORT_LIMIT,
        )

    def role(name: str) -> str:
        return _role(lang, name, labels)

    rows = [
        [
            exports.cell(e.at, zone),
            e.actor,
            audit_words.action(e.action, lang),
            e.target,
            "; ".join(
                f"{audit_words.detail_key(k, lang)} {audit_words.detail_value(k, v, lang, role)}"
                for k, v in e.details.items()
            ),
        ]
        for e in events
    ]
    heads = [i18n.translate(lang, f"admin.{h}") for h in ("when", "actor", "action", "target", "details")]
    name = i18n.translate(lang, "admin.audit")
    if fmt == "csv":
        return exports.csv_response(name, heads, rows)
    return exports.xlsx_response(name, [(name, heads, rows)])


@router.get("/ui/admin/users/export.{fmt}")
def export_users(
    request: Request, user: AdminPage, fmt: Annotated[Literal["csv", "xlsx"], Path()]
) -> Response:
    """Who holds which roles, for a periodic access review: every user with roles and groups (role
    labels in the reader's words), how they sign in, whether active or locked, and their last sign-in."""
    lang, zone = i18n.language(request, user.language), periods.org_zone(request)
    with session_scope(engine_of(request)) as session:
        users = admin.list_users(session)
        labels = {name: dict(info.label) for name, info in catalogue(session).items()}
    now = datetime.now(UTC)
    rows = [
        [
            u.username,
            u.display_name,
            ", ".join(_role(lang, r, labels) for r in u.roles),
            ", ".join(u.groups),
            i18n.translate(lang, f"account.source_{u.auth_source}"),
            i18n.translate(lang, _status(u.active, u.locked_until, now)),
            exports.cell(u.last_login_at, zone) if u.last_login_at else None,
        ]
        for u in users
    ]
    heads = [
        i18n.translate(lang, key)
        for key in (
            "signin.username",
            "account.display_name",
            "account.roles",
            "account.groups",
            "account.source",
            "admin.status",
            "admin.last_login",
        )
    ]
    name = i18n.translate(lang, "admin.users")
    if fmt == "csv":
        return exports.csv_response(name, heads, rows)
    return exports.xlsx_response(name, [(name, heads, rows)])


def _role(lang: str, role: str, labels: dict[str, dict[str, str]]) -> str:
    said = i18n.translate(lang, f"role.{role}")
    return said if said != f"role.{role}" else i18n.pick(labels.get(role), lang, role)


def _status(active: bool, locked_until: datetime | None, now: datetime) -> str:
    if not active:
        return "admin.inactive"
    return "admin.locked" if locked_until is not None and locked_until > now else "admin.active"


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
