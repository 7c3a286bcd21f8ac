"""Refusals: an action the rules refuse, the rule family that refused it, and the words that say who
may do it instead. The engine knows nothing of HTTP: the API maps each kind to a status
(`api/problems.py`)."""

from __future__ import annotations

from enum import StrEnum

from definitions.model import Permission


class RefusalKind(StrEnum):
    """The rule family that refused an action. The values are the type names of the Temporal
    `ApplicationError`s that Update validators raise: they are recorded in histories, so they never
    change."""

    NotAllowed = "NotAllowed"
    SeparationOfDuties = "SeparationOfDuties"
    WrongState = "WrongState"
    GuardFailed = "GuardFailed"
    MissingFields = "MissingFields"
    InvalidFields = "InvalidFields"
    AlreadyDecided = "AlreadyDecided"
    UnknownApproval = "UnknownApproval"
    UnknownTrigger = "UnknownTrigger"
    ScheduleConflict = "ScheduleConflict"  # a freeze window, a missing maintenance window, a clash


class Refusal(Exception):
    """An action the rules refuse: `kind` names the rule family, `message` says which rule and why, and
    `errors` names each offending field or input by path."""

    def __init__(self, kind: RefusalKind, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.errors = errors or []


def required(names: list[str], lang: str = "en") -> list[dict[str, str]]:
    """The errors of missing required fields."""
    message = "必填" if lang.startswith("zh") else "required"
    return [{"path": f"fields.{n}", "message": message} for n in names]


def describe_permission(perm: Permission) -> str:
    """Who a permission admits, in words ("roles agent; the record's assignee")."""
    parts = []
    if perm.roles:
        parts.append("roles " + ", ".join(perm.roles))
    if perm.groups:
        parts.append("members of " + ", ".join(perm.groups))
    if perm.users:
        parts.append("users " + ", ".join(perm.users))
    if perm.relations:
        parts.append("the record's " + ", ".join(r.removeprefix("field:") for r in perm.relations))
    return "; ".join(parts)
