"""The directory as administrators manage it: users, groups, memberships and API tokens.

The CLI (`itilflow users|groups|token`) and the admin routes call these same functions. Each change
appends a row to the admin audit trail (api/identity/audit.py) in the same transaction; `actor` is
who did it (the admin's username, or `cli:<os user>`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete
from sqlmodel import Session, col, select

from api import auth
from api.identity import audit
from api.identity.roles import check_roles
from api.problems import conflict, not_found
from api.schemas import GroupOut, TokenCreated, TokenOut, UserOut
from core.store import upsert_user, user_groups, utcnow
from core.tables import GroupRow, MembershipRow, TokenRow, UserRow


def user_out(session: Session, user: UserRow) -> UserOut:
    return UserOut(
        username=user.username,
        display_name=user.display_name,
        email=user.email,
        language=user.language,
        roles=list(user.roles or []),
        groups=user_groups(session, user.username),
        active=user.active,
        service_account=user.service_account,
        created_at=user.created_at,
        auth_source=user.auth_source,
        must_change_password=user.must_change_password,
        locked_until=user.locked_until if user.locked_until and user.locked_until > utcnow() else None,
        last_login_at=user.last_login_at,
    )


def _user(session: Session, username: str) -> UserRow:
    user = session.get(UserRow, username) if len(username) <= 64 else None
    if user is None:
        raise not_found(f"no user '{username}'", zh=f"没有用户“{username}”")
    return user


def create_user(
    session: Session,
    *,
    username: str,
    roles: list[str],
    display_name: str = "",
    email: str | None = None,
    language: str = "zh",
    groups: Iterable[str] = (),
    service_account: bool = False,
    actor: str = "system",
) -> UserOut:
    if session.get(UserRow, username) is not None:
        raise conflict(f"user '{username}' already exists", "AlreadyExists", zh=f"用户“{username}”已存在")
    roles = check_roles(session, roles)
    groups = list(dict.fromkeys(groups))
    user = upsert_user(
        session,
        username=username,
        roles=roles,
        display_name=display_name,
        email=email,
        language=language,
        groups=groups,
        service_account=service_account or "integrator" in roles,
    )
    audit.record(
        session,
        actor=actor,
        action="user.created",
        target=username,
        roles=list(user.roles),
        groups=groups,
        language=user.language,
        service_account=user.service_account,
    )
    return user_out(session, user)


def list_users(session: Session) -> list[UserOut]:
    users = session.exec(select(UserRow).order_by(col(UserRow.username))).all()
    return [user_out(session, u) for u in users]


def get_user(session: Session, *, username: str) -> UserOut:
    return user_out(session, _user(session, username))


def update_user(
    session: Session,
    *,
    username: str,
    display_name: str | None = None,
    email: str | None = None,
    language: str | None = None,
    roles: list[str] | None = None,
    groups: list[str] | None = None,
    active: bool | None = None,
    actor: str = "system",
) -> UserOut:
    user = _user(session, username)
    changed: dict[str, object] = {}
    for name, value in (("display_name", display_name), ("email", email), ("language", language)):
        if value is not None and getattr(user, name) != value:
            setattr(user, name, value)
            changed[name] = value
    if changed:
        audit.record(session, actor=actor, action="user.updated", target=username, **changed)
    if roles is not None:
        roles = check_roles(session, roles)
        before = list(user.roles or [])
        user.roles = roles
        for role in [r for r in roles if r not in before]:
            audit.record(session, actor=actor, action="role.granted", target=username, role=role)
        for role in [r for r in before if r not in roles]:
            audit.record(session, actor=actor, action="role.revoked", target=username, role=role)
    if active is not None and active != user.active:
        user.active = active
        audit.record(
            session, actor=actor, action="user.reactivated" if active else "user.deactivated", target=username
        )
    session.add(user)
    if groups is not None:
        before_groups = set(user_groups(session, username))
        session.execute(delete(MembershipRow).where(col(MembershipRow.username) == username))
        for group in dict.fromkeys(groups):
            _ensure_group(session, group, actor=actor)
            session.add(MembershipRow(group=group, username=username))
            if group not in before_groups:
                audit.record(
                    session, actor=actor, action="group.member_added", target=group, username=username
                )
        for group in sorted(before_groups - set(groups)):
            audit.record(session, actor=actor, action="group.member_removed", target=group, username=username)
    session.flush()
    return user_out(session, user)


def grant_role(session: Session, *, username: str, role: str, actor: str = "system") -> UserOut:
    """Give `username` the role (a no-op if they have it); an unknown role is a 422."""
    user = _user(session, username)
    check_roles(session, [role], path="path.role")
    if role not in (user.roles or []):
        user.roles = [*(user.roles or []), role]
        session.add(user)
        audit.record(session, actor=actor, action="role.granted", target=username, role=role)
        session.flush()
    return user_out(session, user)


def revoke_role(session: Session, *, username: str, role: str, actor: str = "system") -> UserOut:
    """Take the role from `username` (404 if they do not have it)."""
    user = _user(session, username)
    if role not in (user.roles or []):
        raise not_found(f"{username} does not have the role '{role}'", zh=f"{username} 没有角色“{role}”")
    user.roles = [r for r in user.roles if r != role]
    session.add(user)
    audit.record(session, actor=actor, action="role.revoked", target=username, role=role)
    session.flush()
    return user_out(session, user)


def _ensure_group(session: Session, name: str, *, actor: str = "system") -> GroupRow:
    group = session.get(GroupRow, name)
    if group is None:
        group = GroupRow(name=name, label=name)
        session.add(group)
        session.flush()
        audit.record(session, actor=actor, action="group.created", target=name, label=name)
    return group


def group_out(session: Session, group: GroupRow) -> GroupOut:
    members = session.exec(
        select(MembershipRow.username)
        .where(MembershipRow.group == group.name)
        .order_by(col(MembershipRow.username))
    ).all()
    return GroupOut(name=group.name, label=group.label, lead=group.lead, members=list(members))


def create_group(
    session: Session, *, name: str, label: str = "", lead: str | None = None, actor: str = "system"
) -> GroupOut:
    if session.get(GroupRow, name) is not None:
        raise conflict(f"group '{name}' already exists", "AlreadyExists", zh=f"组“{name}”已存在")
    if lead is not None:
        _user(session, lead)
    group = GroupRow(name=name, label=label or name, lead=lead)
    session.add(group)
    session.flush()
    audit.record(session, actor=actor, action="group.created", target=name, label=group.label, lead=lead)
    return group_out(session, group)


def list_groups(session: Session) -> list[GroupOut]:
    groups = session.exec(select(GroupRow).order_by(col(GroupRow.name))).all()
    return [group_out(session, g) for g in groups]


def _group(session: Session, name: str) -> GroupRow:
    group = session.get(GroupRow, name) if len(name) <= 64 else None
    if group is None:
        raise not_found(f"no group '{name}'", zh=f"没有组“{name}”")
    return group


def add_member(session: Session, *, group: str, username: str, actor: str = "system") -> GroupOut:
    row = _group(session, group)
    _user(session, username)
    if session.get(MembershipRow, (group, username)) is None:
        session.add(MembershipRow(group=group, username=username))
        audit.record(session, actor=actor, action="group.member_added", target=group, username=username)
        session.flush()
    return group_out(session, row)


def remove_member(session: Session, *, group: str, username: str, actor: str = "system") -> GroupOut:
    row = _group(session, group)
    member = session.get(MembershipRow, (group, username)) if len(username) <= 64 else None
    if member is None:
        raise not_found(f"{username} is not a member of {group}", zh=f"{username} 不是 {group} 的成员")
    session.delete(member)
    audit.record(session, actor=actor, action="group.member_removed", target=group, username=username)
    session.flush()
    return group_out(session, row)


def token_out(row: TokenRow) -> TokenOut:
    return TokenOut(
        id=row.id,
        username=row.username,
        name=row.name,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def create_token(session: Session, *, username: str, name: str = "", actor: str = "system") -> TokenCreated:
    _user(session, username)
    row, token = auth.create_token(session, username=username, name=name)
    audit.record(session, actor=actor, action="token.issued", target=username, token_id=row.id, name=name)
    return TokenCreated(**token_out(row).model_dump(), token=token)


def list_tokens(session: Session, *, username: str | None = None) -> list[TokenOut]:
    return [token_out(r) for r in auth.list_tokens(session, username=username)]


def revoke_token(session: Session, *, token_id: str, actor: str = "system") -> TokenOut:
    existing = session.get(TokenRow, token_id) if len(token_id) <= 32 else None
    was_active = existing is not None and existing.revoked_at is None
    row = auth.revoke_token(session, token_id=token_id) if existing is not None else None
    if row is None:
        raise not_found(f"no token '{token_id}'", zh=f"没有令牌“{token_id}”")
    if was_active:
        audit.record(session, actor=actor, action="token.revoked", target=row.username, token_id=row.id)
    return token_out(row)
