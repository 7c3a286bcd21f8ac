"""Approval policies and separation of duties, as pure functions over an approval task.

Policies: `any` — the first decision decides; `all` — every eligible approver must approve, one
rejection rejects; `quorum` N and `percentage` p — enough approvals approve, and the level is
rejected as soon as the approvals still possible can no longer reach what is needed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from definitions.model import ApprovalLevel, ApprovalStep, Definition
from workflows.contracts import ApprovalTask
from workflows.engine import words
from workflows.engine.phrases import say

Verdict = Literal["approved", "rejected"] | None


def needed(level: ApprovalLevel, eligible: int) -> int:
    if level.policy == "any":
        return 1
    if level.policy == "all":
        return max(eligible, 1)
    if level.policy == "quorum":
        return level.quorum or 1
    return max(1, math.ceil((level.percentage or 100.0) * eligible / 100.0))


def outcome(level: ApprovalLevel, task: ApprovalTask) -> Verdict:
    approvals = sum(1 for d in task.decisions if d.decision == "approve")
    rejections = sum(1 for d in task.decisions if d.decision == "reject")
    if level.policy == "any" and task.decisions:
        return "approved" if task.decisions[0].decision == "approve" else "rejected"
    if approvals >= task.needed:
        return "approved"
    if level.policy == "all" and rejections:
        return "rejected"
    still_possible = len(set(task.eligible) - {d.by for d in task.decisions})
    if approvals + still_possible < task.needed:
        return "rejected"
    return None


def users_in(value: object) -> list[str]:
    """The user (or group) names a field holds: one name, or a list of them."""
    if isinstance(value, list):
        return [str(v) for v in value if v]
    return [str(value)] if value else []


def exclusions(step: ApprovalStep, fields: Mapping[str, Any]) -> dict[str, str]:
    """user -> the separation-of-duties rule that excludes them, from the record's current fields."""
    out: dict[str, str] = {}
    for rule in step.separation_of_duties.exclude:
        name = rule.removeprefix("field:")
        for user in users_in(fields.get(name)):
            out.setdefault(user, rule)
    return out


def sod_message(d: Definition, rule: str, user: str, number: str, lang: str = "en") -> str:
    """Why separation of duties excludes `user` (rule: `requester`, `assignee` or `field:NAME`)."""
    if rule in ("requester", "assignee"):
        who = say(f"sod_{rule}", lang)
    else:
        who = say("sod_field", lang, field=words.field(d, rule.removeprefix("field:"), lang))
    # The rule as written (`field:builder`) is the definition's syntax: a Chinese reader gets its words.
    return say("sod", lang, user=user, who=who, number=number, rule=who if lang.startswith("zh") else rule)


def approver_fields(
    level: ApprovalLevel, fields: Mapping[str, Any], types: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """Users and groups named by the level's `fields` (user fields, group fields, lists of users)."""
    users: list[str] = []
    groups: list[str] = []
    for name in level.approvers.fields:
        target = groups if types.get(name) == "group" else users
        target.extend(users_in(fields.get(name)))
    return users, groups
