"""The directory as administrators manage it: users, groups, memberships and API tokens.

The CLI (`itilflow users|groups|token`) and the admin routes call these same functions.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete
from sqlmodel import Session, col, select

from api import auth
from api.problems import conflict, not_found
from api.schemas import GroupOut, TokenCreated, TokenOut, UserOut
from core.store import upsert_user, user_groups
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
    )


def _user(session: Session, username: str) -> UserRow:
    user = session.get(UserRow, username) if len(username) <= 64 else None
    if user is None:
        raise not_found(f"no user '{username}'")
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
) -> UserOut:
    if session.get(UserRow, username) is not None:
        raise conflict(f"user '{username}' already exists", "AlreadyExists")
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
) -> UserOut:
    user = _user(session, username)
    if display_name is not None:
        user.display_name = display_name
    if email is not None:
        user.email = email
    if language is not None:
        user.language = language
    if roles is not None:
        user.roles = list(roles)
    if active is not None:
        user.active = active
    session.add(user)
    if groups is not None:
        session.execute(delete(MembershipRow).where(col(MembershipRow.username) == username))
        for group in dict.fromkeys(groups):
            _ensure_group(session, group)
            session.add(MembershipRow(group=group, username=username))
    session.flush()
    return user_out(session, user)


def _ensure_group(session: Session, name: str) -> GroupRow:
    group = session.get(GroupRow, name)
    if group is None:
        group = GroupRow(name=name, label=name)
        session.add(group)
        session.flush()
    return group


def group_out(session: Session, group: GroupRow) -> GroupOut:
    members = session.exec(
        select(MembershipRow.username)
        .where(MembershipRow.group == group.name)
        .order_by(col(MembershipRow.username))
    ).all()
    return GroupOut(name=group.name, label=group.label, lead=group.lead, members=list(members))


def create_group(session: Session, *, name: str, label: str = "", lead: str | None = None) -> GroupOut:
    if session.get(GroupRow, name) is not None:
        raise conflict(f"group '{name}' already exists", "AlreadyExists")
    if lead is not None:
        _user(session, lead)
    group = GroupRow(name=name, label=label or name, lead=lead)
    session.add(group)
    session.flush()
    return group_out(session, group)


def list_groups(session: Session) -> list[GroupOut]:
    groups = session.exec(select(GroupRow).order_by(col(GroupRow.name))).all()
    return [group_out(session, g) for g in groups]


def _group(session: Session, name: str) -> GroupRow:
    group = session.get(GroupRow, name) if len(name) <= 64 else None
    if group is None:
        raise not_found(f"no group '{name}'")
    return group


def add_member(session: Session, *, group: str, username: str) -> GroupOut:
    row = _group(session, group)
    _user(session, username)
    if session.get(MembershipRow, (group, username)) is None:
        session.add(MembershipRow(group=group, username=username))
        session.flush()
    return group_out(session, row)


def remove_member(session: Session, *, group: str, username: str) -> GroupOut:
    row = _group(session, group)
    member = session.get(MembershipRow, (group, username)) if len(username) <= 64 else None
    if member is None:
        raise not_found(f"{username} is not a member of {group}")
    session.delete(member)
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


def create_token(session: Session, *, username: str, name: str = "") -> TokenCreated:
    _user(session, username)
    row, token = auth.create_token(session, username=username, name=name)
    return TokenCreated(**token_out(row).model_dump(), token=token)


def list_tokens(session: Session, *, username: str | None = None) -> list[TokenOut]:
    return [token_out(r) for r in auth.list_tokens(session, username=username)]


def revoke_token(session: Session, *, token_id: str) -> TokenOut:
    row = auth.revoke_token(session, token_id=token_id) if len(token_id) <= 32 else None
    if row is None:
        raise not_found(f"no token '{token_id}'")
    return token_out(row)
