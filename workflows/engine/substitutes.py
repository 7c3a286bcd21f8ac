"""Deciding as a substitute: the rules a decision "for" another approver must pass, on the task alone.

Whether the delegation exists is not the engine's to know (it is data in the directory): the workflow
looks it up itself (the `check_delegation` local activity) and hands the engine the delegation's id,
or nothing, and the engine refuses a decision "for" someone without one. Everything else is checked
here, on the task, for both people:
- the approver stood in for must be one of the task's approvers (`eligible`): a substitute decides
  only what the approver could;
- separation of duties excludes either of them: the requester cannot approve as someone's substitute,
  and nobody can decide for an approver the rules exclude;
- one decision per approver, and one per person: the approver must not have decided (themselves or
  through another substitute), and the substitute must not have decided this task already, in their
  own name or for someone else. A quorum or "all of" counts people; one person casting two votes
  would defeat it. (A substitute who is also an approver of the same level therefore decides once;
  the absent approver's vote waits, or they name someone else.)
"""

from __future__ import annotations

from workflows.contracts import ApprovalTask
from workflows.engine import policies
from workflows.engine.refusals import Refusal, RefusalKind


def has_decided(task: ApprovalTask, user: str) -> bool:
    """Whether `user` decided this task already, as an approver or as someone's substitute."""
    return any(d.by == user or d.substitute == user for d in task.decisions)


def check(task: ApprovalTask, excluded: dict[str, str], substitute: str, principal: str, number: str) -> None:
    if principal == substitute:
        raise Refusal(
            RefusalKind.NotAllowed, f"delegation: {substitute} cannot decide as their own substitute"
        )
    if principal not in task.eligible:
        raise Refusal(
            RefusalKind.NotAllowed,
            f"delegation: {principal} is not an approver of {task.step} ({task.level_name}) on {number}, "
            f"so nobody can decide it for them",
        )
    for user in (principal, substitute):
        if user in excluded:
            message = policies.sod_message(excluded[user], user, number)
            if user == substitute:
                message += f", not even as the substitute of {principal}"
            raise Refusal(RefusalKind.SeparationOfDuties, message)
    if any(d.by == principal for d in task.decisions):
        raise Refusal(RefusalKind.AlreadyDecided, f"{principal} has already decided approval {task.id}")
    if has_decided(task, substitute):
        raise Refusal(
            RefusalKind.AlreadyDecided,
            f"{substitute} has already decided approval {task.id}; one person decides an approval once "
            f"(rule: one decision per person, substitutes included)",
        )


def require_delegation(delegation: int | None, substitute: str, principal: str) -> None:
    """The workflow found no delegation in force: the claim is refused, whoever made it."""
    if delegation is None:
        raise Refusal(
            RefusalKind.NotAllowed,
            f"delegation: {principal} has no delegation to {substitute} in force now (rule: delegation)",
        )
