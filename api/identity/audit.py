"""The admin audit trail: one append-only row per administrative action (table `admin_events`).

Who (the admin's username, `cli:<os user>` from the shell, `ldap` / `oidc` for what a directory
sign-in changed), what (`user.created`, `role.granted`, …), on what (a username, a group, a token id,
a definition) and details that are never secrets: no password, no hash, no token text.
"""

from __future__ import annotations

import getpass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from core.store import utcnow
from core.tables import AdminEventRow

ACTIONS = (
    "user.created",
    "user.updated",
    "user.deactivated",
    "user.reactivated",
    "user.provisioned",
    "role.granted",
    "role.revoked",
    "group.created",
    "group.member_added",
    "group.member_removed",
    "token.issued",
    "token.revoked",
    "password.reset",
    "password.changed",
    "definition.published",
    "definition.retired",
    "definition.publication_requested",
    "definition.publication_approved",
    "definition.publication_refused",
    "delegation.created",
    "delegation.revoked",
    "cmdb.unauthorised_edit",
)
_SECRET_WORDS = ("password", "secret", "token_text", "hash")


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def record(session: Session, *, actor: str, action: str, target: str = "", **details: Any) -> AdminEventRow:
    """Append one event (in the caller's transaction: it lands or not with the change itself)."""
    assert action in ACTIONS, action
    assert not any(w in k for k in details for w in _SECRET_WORDS), "secrets never enter the audit trail"
    row = AdminEventRow(at=utcnow(), actor=actor[:80], action=action, target=target[:200], details=details)
    session.add(row)
    session.flush()
    return row


def events(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[AdminEventRow]:
    """Newest first; `before_id` pages further back."""
    query = select(AdminEventRow).order_by(col(AdminEventRow.id).desc()).limit(limit)
    if actor is not None:
        query = query.where(AdminEventRow.actor == actor)
    if action is not None:
        query = query.where(AdminEventRow.action == action)
    if target is not None:
        query = query.where(AdminEventRow.target == target)
    if since is not None:
        query = query.where(col(AdminEventRow.at) >= since)
    if before_id is not None:
        query = query.where(col(AdminEventRow.id) < before_id)
    return list(session.exec(query).all())
