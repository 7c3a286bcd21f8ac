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

from definitions.model import Definition
from workflows.contracts import ApprovalTask
from workflows.engine import policies, words
from workflows.engine.phrases import say
from workflows.engine.refusals import Refusal, RefusalKind


def has_decided(task: ApprovalTask, user: str) -> bool:
    """Whether `user` decided this task already, as an approver or as someone's substitute."""
    return any(d.by == user or d.substitute == user for d in task.decisions)


def check(
    d: Definition,
    task: ApprovalTask,
    excluded: dict[str, str],
    substitute: str,
    principal: str,
    number: str,
    lang: str = "en",
) -> None:
    step = words.step(d, task.step, lang)
    if principal == substitute:
        raise Refusal(RefusalKind.NotAllowed, say("own_substitute", lang, user=substitute))
    if principal not in task.eligible:
        raise Refusal(
            RefusalKind.NotAllowed,
            say(
                "principal_not_approver",
                lang,
                principal=principal,
                step=step,
                level=task.level_name,
                number=number,
            ),
        )
    for user in (principal, substitute):
        if user in excluded:
            message = policies.sod_message(d, excluded[user], user, number, lang)
            if user == substitute:
                message = say("not_even_as_substitute", lang, message=message, principal=principal)
            raise Refusal(RefusalKind.SeparationOfDuties, message)
    if any(x.by == principal for x in task.decisions):
        raise Refusal(
            RefusalKind.AlreadyDecided, say("already_decided", lang, user=principal, step=step, number=number)
        )
    if has_decided(task, substitute):
        raise Refusal(
            RefusalKind.AlreadyDecided, say("one_decision", lang, user=substitute, step=step, number=number)
        )


def require_delegation(delegation: int | None, substitute: str, principal: str, lang: str = "en") -> None:
    """The workflow found no delegation in force: the claim is refused, whoever made it."""
    if delegation is None:
        raise Refusal(
            RefusalKind.NotAllowed, say("no_delegation", lang, principal=principal, user=substitute)
        )
