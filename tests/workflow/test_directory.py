"""Directory look-ups that notifications and approvals use: roles, groups, group leads, contacts.

Each test makes its own users (a unique suffix), because the database is shared by the session.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from activities.notifications import recipients_to_contacts
from core.db import session_scope
from core.store import Contact, group_members, resolve_approvers, upsert_user, users_with_roles
from core.tables import GroupRow
from workflows.contracts import NotificationRecipient


@pytest.fixture
def sfx() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def session(db_engine: Engine) -> Iterator[Session]:
    with session_scope(db_engine) as s:
        yield s


def _user(session: Session, name: str, roles: list[str], groups: list[str] = [], **kw: object) -> None:  # noqa: B006
    user = upsert_user(session, username=name, roles=roles, groups=groups, email=f"{name}@example.test")
    for key, value in kw.items():
        setattr(user, key, value)
    session.add(user)
    session.flush()


def test_users_with_roles_matches_whole_role_names_only(session: Session, sfx: str) -> None:
    _user(session, f"r1{sfx}", [f"desk_{sfx}"])
    _user(session, f"r2{sfx}", [f"desk_{sfx}_lead"])  # contains the first role's name
    _user(session, f"r3{sfx}", [f"deskx{sfx}"])  # what an unescaped LIKE '_' would match
    _user(session, f"r4{sfx}", ["agent", f"desk_{sfx}"], active=False)
    _user(session, f"r5{sfx}", [f"值班长{sfx}", "agent"])  # stored JSON-escaped
    _user(session, f"r6{sfx}", [f"50%{sfx}"])

    assert users_with_roles(session, [f"desk_{sfx}"]) == [f"r1{sfx}"]
    assert users_with_roles(session, [f"desk_{sfx}_lead", f"值班长{sfx}"]) == [f"r2{sfx}", f"r5{sfx}"]
    assert users_with_roles(session, [f"50%{sfx}"]) == [f"r6{sfx}"]
    assert users_with_roles(session, [f"50{sfx}"]) == []
    assert users_with_roles(session, []) == []


def test_group_members_and_approvers_leave_inactive_users_out(session: Session, sfx: str) -> None:
    group = f"cab{sfx}"
    _user(session, f"m1{sfx}", ["approver"], [group])
    _user(session, f"m2{sfx}", ["approver"], [group], active=False)
    _user(session, f"m3{sfx}", [f"chair{sfx}"])

    assert group_members(session, [group, f"nogroup{sfx}"]) == [f"m1{sfx}"]
    approvers = resolve_approvers(session, users=[f"named{sfx}"], groups=[group], roles=[f"chair{sfx}"])
    # A named approver is taken as named; groups and roles expand to their active users.
    assert approvers == [f"m1{sfx}", f"m3{sfx}", f"named{sfx}"]


def test_recipients_resolve_to_each_active_user_once_with_contacts(session: Session, sfx: str) -> None:
    led, leaderless, gone = f"led{sfx}", f"flat{sfx}", f"gone{sfx}"
    _user(session, f"boss{sfx}", ["agent"], [led])
    _user(session, f"crew{sfx}", ["agent"], [led, leaderless])
    _user(session, f"solo{sfx}", ["agent"], [leaderless])
    _user(session, f"old{sfx}", ["agent"], [gone], active=False)
    _user(session, f"new{sfx}", ["agent"], [gone])
    _user(session, f"mgr{sfx}", [f"manager{sfx}"], language="en", display_name="The Manager")
    session.get_one(GroupRow, led).lead = f"boss{sfx}"
    session.get_one(GroupRow, gone).lead = f"old{sfx}"
    session.flush()

    def to(*pairs: tuple[str, str]) -> list[Contact]:
        return recipients_to_contacts(session, [NotificationRecipient(kind=k, name=n) for k, n in pairs])  # type: ignore[arg-type]

    # The lead of a group with one; the members of a group without (also of one with no row).
    assert [c.username for c in to(("group_lead", led))] == [f"boss{sfx}"]
    assert [c.username for c in to(("group_lead", leaderless))] == [f"crew{sfx}", f"solo{sfx}"]
    assert [c.username for c in to(("group_lead", f"norow{sfx}"))] == []
    # An inactive lead is nobody: the group's other members were not the ones meant.
    assert to(("group_lead", gone)) == []
    everyone = to(
        ("user", f"crew{sfx}"),
        ("user", f"nobody{sfx}"),
        ("group", led),
        ("group", leaderless),
        ("role", f"manager{sfx}"),
    )
    assert [c.username for c in everyone] == sorted([f"boss{sfx}", f"crew{sfx}", f"mgr{sfx}", f"solo{sfx}"])
    manager = next(c for c in everyone if c.username == f"mgr{sfx}")
    assert manager == Contact(f"mgr{sfx}", "The Manager", f"mgr{sfx}@example.test", "en")
