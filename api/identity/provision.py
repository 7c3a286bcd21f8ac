"""Users from a directory (LDAP) or an identity provider (OIDC): created at their first sign-in, their
groups and roles refreshed at every sign-in from the configured map.

The map says which itilflow groups and roles a directory group (or claim value) gives. Those groups
and roles are the directory's to manage: at each sign-in a user gets exactly the mapped ones the
directory grants now, and loses the mapped ones it no longer grants. Roles and groups that appear
nowhere in the map are left as an administrator set them. No directory password is ever stored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import delete
from sqlmodel import Session, col

from api.identity import audit
from api.identity.roles import catalogue
from core.settings import GroupGrant, Settings
from core.store import user_groups, utcnow
from core.tables import GroupRow, MembershipRow, UserRow

log = logging.getLogger("itilflow.identity")


@dataclass
class ExternalIdentity:
    source: str  # "ldap" | "oidc"
    username: str
    external_id: str  # the DN, or the issuer's `sub`
    display_name: str = ""
    email: str | None = None
    # What the map is matched against: group DNs and CNs (LDAP), values of the groups claim (OIDC).
    memberships: list[str] = field(default_factory=list)


class NotProvisionable(Exception):
    """The username belongs to another kind of account (a local one with a password, a service account,
    or another identity): the directory may not take it over."""


def granted(grant_map: Mapping[str, GroupGrant], memberships: Iterable[str]) -> tuple[set[str], set[str]]:
    """(groups, roles) the map gives for these memberships (matched without regard to case)."""
    have = {m.strip().lower() for m in memberships}
    groups: set[str] = set()
    roles: set[str] = set()
    for key, grant in grant_map.items():
        if key.strip().lower() in have:
            groups |= set(grant.groups)
            roles |= set(grant.roles)
    return groups, roles


def provision(
    session: Session, settings: Settings, identity: ExternalIdentity, grant_map: Mapping[str, GroupGrant]
) -> UserRow:
    """The user for `identity`, created or refreshed (roles and mapped groups); raises NotProvisionable."""
    user = session.get(UserRow, identity.username)
    if user is not None:
        if user.service_account:
            raise NotProvisionable(f"{identity.username} is a service account")
        if user.auth_source == "local" and user.password_hash:
            raise NotProvisionable(f"{identity.username} is a local account with a password")
        if user.auth_source not in ("local", identity.source):
            raise NotProvisionable(f"{identity.username} signs in with {user.auth_source}")
        if user.auth_source == identity.source and user.external_id not in (None, identity.external_id):
            raise NotProvisionable(f"{identity.username} belongs to another {identity.source} identity")
    known = catalogue(session)
    groups, roles = granted(grant_map, identity.memberships)
    unknown = sorted(roles - set(known))
    if unknown:
        log.warning("the %s group map names unknown roles %s; they are not granted", identity.source, unknown)
        roles -= set(unknown)
    managed_roles = {r for g in grant_map.values() for r in g.roles}
    managed_groups = {g for grant in grant_map.values() for g in grant.groups}
    now = utcnow()
    if user is None:
        defaults = [r for r in settings.external_default_roles if r in known]
        user = UserRow(
            username=identity.username,
            display_name=identity.display_name or identity.username,
            email=identity.email,
            roles=sorted(set(defaults) | roles),
            created_at=now,
            auth_source=identity.source,
            external_id=identity.external_id,
        )
        session.add(user)
        session.flush()
        audit.record(
            session,
            actor=identity.source,
            action="user.provisioned",
            target=user.username,
            roles=list(user.roles),
            groups=sorted(groups),
        )
        before_roles: set[str] = set(user.roles)
    else:
        before_roles = set(user.roles or [])
        user.roles = sorted((before_roles - managed_roles) | roles)
        user.auth_source = identity.source
        user.external_id = identity.external_id
        user.display_name = identity.display_name or user.display_name
        user.email = identity.email or user.email
    for role in sorted(set(user.roles) - before_roles):
        audit.record(session, actor=identity.source, action="role.granted", target=user.username, role=role)
    for role in sorted(before_roles - set(user.roles)):
        audit.record(session, actor=identity.source, action="role.revoked", target=user.username, role=role)
    user.last_login_at = now
    session.add(user)
    current = set(user_groups(session, user.username))
    for group in sorted(groups - current):
        if session.get(GroupRow, group) is None:
            session.add(GroupRow(name=group, label=group))
            session.flush()
        session.add(MembershipRow(group=group, username=user.username))
        audit.record(
            session, actor=identity.source, action="group.member_added", target=group, username=user.username
        )
    for group in sorted((current & managed_groups) - groups):
        session.execute(
            delete(MembershipRow).where(
                col(MembershipRow.group) == group, col(MembershipRow.username) == user.username
            )
        )
        audit.record(
            session,
            actor=identity.source,
            action="group.member_removed",
            target=group,
            username=user.username,
        )
    session.flush()
    return user
