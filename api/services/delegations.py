"""Delegations: an approver names a substitute who may decide their approvals for a date range.

A user sets and revokes their own; an admin sets or revokes one for anyone. Each change lands in the
admin audit trail in the same transaction, and the substitute gets an inbox notification when named
(in their language). The workflow checks a delegation itself when a substitute decides
(`check_delegation`), so what is stored here is the one authority.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, or_, select

from api.auth import Principal
from api.identity import audit
from api.identity.schemas import DelegationOut
from api.problems import ProblemError, conflict, forbidden, not_found, unprocessable
from core.store import utcnow
from core.tables import DelegationRow, NotificationRow, UserRow

MAX_SPAN = timedelta(days=366)
MAX_ID = 2**31 - 1


def _say(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def delegation_out(row: DelegationRow, now: datetime | None = None) -> DelegationOut:
    now = now or utcnow()
    in_force = row.revoked_at is None and row.starts_at <= now < row.ends_at
    return DelegationOut(
        id=row.id or 0,
        principal=row.principal,
        substitute=row.substitute,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        reason=row.reason,
        created_by=row.created_by,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        revoked_by=row.revoked_by,
        in_force=in_force,
    )


def _active_user(session: Session, username: str, path: str, lang: str) -> UserRow:
    user = session.get(UserRow, username)
    if user is None or not user.active:
        raise ProblemError(
            404,
            _say(lang, f"没有名为 '{username}' 的在用用户", f"no active user '{username}'"),
            errors=[{"path": path, "message": _say(lang, "未知用户", "unknown user")}],
            kind="NotFound",
        )
    return user


def create(
    session: Session,
    *,
    caller: Principal,
    substitute: str,
    ends_at: datetime,
    starts_at: datetime | None = None,
    reason: str | None = None,
    principal: str | None = None,
    actor: str | None = None,
    lang: str | None = None,
) -> DelegationOut:
    """Name `substitute` for `principal` (the caller if not given; someone else needs `admin`)."""
    lang = lang or caller.language
    principal = principal or caller.username
    if principal != caller.username and not caller.has_role("admin"):
        raise forbidden(
            _say(
                lang,
                "只有管理员可以为他人设置代理人（规则：委托）",
                "only an admin may set a delegation for someone else (rule: delegation)",
            )
        )
    now = utcnow()
    starts_at = starts_at or now
    errors: list[dict[str, str]] = []
    if substitute == principal:
        errors.append(
            {
                "path": "body.substitute",
                "message": _say(lang, "不能委托给自己", "cannot be the approver themselves"),
            }
        )
    if ends_at <= starts_at:
        errors.append(
            {"path": "body.ends_at", "message": _say(lang, "必须晚于开始时间", "must be after the start")}
        )
    elif ends_at <= now:
        errors.append({"path": "body.ends_at", "message": _say(lang, "已经过去", "is in the past")})
    elif ends_at - starts_at > MAX_SPAN:
        errors.append(
            {
                "path": "body.ends_at",
                "message": _say(lang, "委托期最长一年", "a delegation lasts at most a year"),
            }
        )
    if errors:
        raise unprocessable(_say(lang, "委托无效", "the delegation is not valid"), errors)
    _active_user(session, principal, "body.principal", lang)
    target = _active_user(session, substitute, "body.substitute", lang)
    if target.service_account:
        raise unprocessable(
            _say(lang, "服务账号不能作为代理人", "a service account cannot be a substitute"),
            [{"path": "body.substitute", "message": _say(lang, "服务账号", "a service account")}],
        )
    row = DelegationRow(
        principal=principal,
        substitute=substitute,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=(reason or "").strip() or None,
        created_by=(actor or caller.username)[:80],
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor or caller.username,
        action="delegation.created",
        target=principal,
        delegation=row.id,
        substitute=substitute,
        starts_at=starts_at.isoformat(),
        ends_at=ends_at.isoformat(),
    )
    _notify(session, row, target)
    return delegation_out(row, now)


def _notify(session: Session, row: DelegationRow, substitute: UserRow) -> None:
    """The substitute's inbox copy, in their language (written with the delegation, like the outbox)."""
    lang = substitute.language
    period = f"{row.starts_at:%Y-%m-%d %H:%M} – {row.ends_at:%Y-%m-%d %H:%M} UTC"
    reason = f" ({row.reason})" if row.reason else ""
    session.add(
        NotificationRow(
            key=f"delegation:{row.id}:{substitute.username}:inbox",
            record_id="",
            template="delegation",
            channel="inbox",
            recipient=substitute.username,
            language=lang,
            subject=_say(
                lang, f"您已被指定为 {row.principal} 的审批代理人", f"You stand in for {row.principal}"
            ),
            body=_say(
                lang,
                f"{period} 期间，您可以代 {row.principal} 审批{reason}。",
                f"From {period} you may decide {row.principal}'s approvals on their behalf{reason}.",
            ),
            status="sent",
            created_at=row.created_at,
            sent_at=row.created_at,
        )
    )


def listing(
    session: Session,
    *,
    caller: Principal,
    principal: str | None = None,
    substitute: str | None = None,
    in_force: bool | None = None,
    limit: int = 100,
) -> list[DelegationOut]:
    """Newest first. Admins and auditors see everyone's; others the ones they gave or received."""
    query = select(DelegationRow).order_by(col(DelegationRow.id).desc())
    if not caller.has_role("admin", "auditor"):
        query = query.where(
            or_(DelegationRow.principal == caller.username, DelegationRow.substitute == caller.username)
        )
    if principal is not None:
        query = query.where(DelegationRow.principal == principal)
    if substitute is not None:
        query = query.where(DelegationRow.substitute == substitute)
    now = utcnow()
    if in_force is not None:
        live = (
            col(DelegationRow.revoked_at).is_(None),
            col(DelegationRow.starts_at) <= now,
            col(DelegationRow.ends_at) > now,
        )
        query = query.where(*live) if in_force else query.where(~(live[0] & live[1] & live[2]))
    rows = session.exec(query.limit(limit)).all()
    return [delegation_out(r, now) for r in rows]


def revoke(
    session: Session,
    *,
    caller: Principal,
    delegation_id: int,
    actor: str | None = None,
    lang: str | None = None,
) -> DelegationOut:
    """End a delegation now. Its principal or an admin may; the substitute only sees it (403)."""
    lang = lang or caller.language
    row = session.get(DelegationRow, delegation_id) if 0 < delegation_id <= MAX_ID else None
    involved = row is not None and caller.username in (row.principal, row.substitute)
    if row is None or not (involved or caller.has_role("admin", "auditor")):
        raise not_found(_say(lang, f"没有委托 {delegation_id}", f"no delegation {delegation_id}"))
    if row.principal != caller.username and not caller.has_role("admin"):
        raise forbidden(
            _say(
                lang,
                "只有委托人或管理员可以撤销委托（规则：委托）",
                "only the approver who delegated or an admin may revoke a delegation (rule: delegation)",
            )
        )
    if row.revoked_at is not None:
        raise conflict(
            _say(lang, f"委托 {delegation_id} 已被撤销", f"delegation {delegation_id} is already revoked"),
            "AlreadyRevoked",
        )
    now = utcnow()
    row.revoked_at = now
    row.revoked_by = (actor or caller.username)[:80]
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor or caller.username,
        action="delegation.revoked",
        target=row.principal,
        delegation=row.id,
        substitute=row.substitute,
    )
    return delegation_out(row, now)
