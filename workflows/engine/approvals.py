"""Approvals: a step's levels open when the record enters the step's state, the directory resolves who
may decide (minus separation of duties), decisions close a level under its policy (`policies`), and the
last level's verdict fires the step's trigger. Reminders and deadlines are timers (`timers`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from definitions.calendar import add_business_time
from definitions.model import ApprovalStep
from workflows import sla as clocks
from workflows.contracts import Actor, ApprovalTask, DecideApprovalInput, Decision
from workflows.engine import phrases, policies, substitutes, words
from workflows.engine.moves import Mover
from workflows.engine.notifications import Notifier, Texts
from workflows.engine.outcome import Outcome, ResolveRequest
from workflows.engine.phrases import say
from workflows.engine.record import RecordContext
from workflows.engine.refusals import Refusal, RefusalKind

APPROVAL_ACTOR = "system:approval"
# How a level closes; an expired one fires the step's expiry trigger.
Closing = Literal["approved", "rejected", "expired"]
ON_EXPIRY: dict[str, Closing] = {"approve": "approved", "reject": "rejected", "fire": "expired"}
GENERIC_REMINDER = Texts(
    subject={"zh": "待审批提醒：{{number}} {{title}}", "en": "Approval reminder: {{number}} {{title}}"},
    body={
        "zh": "{{number}} 的审批 {{approval}} 正在等待您的决定，截止时间 {{deadline}}。",
        "en": "Approval {{approval}} of {{number}} is waiting for your decision; deadline {{deadline}}.",
    },
)
GENERIC_ESCALATION = Texts(
    subject={"zh": "审批升级：{{number}} {{title}}", "en": "Approval escalated: {{number}} {{title}}"},
    body={
        "zh": "{{number}} 的审批 {{approval}} 已超过截止时间 {{deadline}}，请介入。",
        "en": "Approval {{approval}} of {{number}} passed its deadline {{deadline}}; please step in.",
    },
)


class Approvals:
    def __init__(self, ctx: RecordContext, notifier: Notifier, mover: Mover) -> None:
        self._ctx = ctx
        self._notifier = notifier
        self._mover = mover

    def step(self, name: str) -> ApprovalStep | None:
        return next((a for a in self._ctx.definition.approvals if a.name == name), None)

    def task(self, task_id: str, lang: str = "en") -> ApprovalTask:
        task = next((t for t in self._ctx.record.approvals if t.id == task_id), None)
        if task is None:
            number = self._ctx.record.number
            raise Refusal(
                RefusalKind.UnknownApproval, say("no_approval", lang, approval=task_id, number=number)
            )
        return task

    def _step_of(self, task: ApprovalTask) -> ApprovalStep:
        step = self.step(task.step)
        assert step is not None
        return step

    # --- opening --------------------------------------------------------------------------------------
    def on_enter(self, out: Outcome, state: str, now: datetime) -> None:
        """Cancel the open approvals of the state left; open the first level of this state's steps."""
        for task in self._ctx.record.approvals:
            if task.state in ("pending", "resolving"):
                step = self.step(task.step)
                if step is None or step.state != state:
                    task.state = "cancelled"
                    task.closed_at = now
                    reason = f"record left state {step.state if step else '?'}"
                    details = {"approval": task.id, "reason": reason}
                    self._ctx.event(out, now, APPROVAL_ACTOR, "approval_cancelled", details=details)
        for step in self._ctx.definition.approvals:
            if step.state == state:
                self._open_level(out, step, 0, now)

    def _open_level(self, out: Outcome, step: ApprovalStep, level_index: int, now: datetime) -> None:
        """Open a level: its task waits for the directory to say who may decide (a ResolveRequest)."""
        record = self._ctx.record
        level = step.levels[level_index]
        record.approval_counter += 1
        deadline = None
        if step.deadline is not None:
            calendar = clocks.calendar_of(self._ctx.definition, step.calendar)
            deadline = add_business_time(calendar, now, step.deadline)
        task = ApprovalTask(
            id=f"{record.record_id}.a{record.approval_counter}",
            step=step.name,
            level=level_index,
            level_name=level.name,
            policy=level.policy,
            opened_at=now,
            deadline=deadline,
        )
        users, groups = policies.approver_fields(level, record.fields, self._ctx.field_types)
        users = list(dict.fromkeys(level.approvers.users + users))
        groups = list(dict.fromkeys(level.approvers.groups + groups))
        task.groups = groups
        record.approvals.append(task)
        out.resolves.append(ResolveRequest(task.id, users, groups, list(level.approvers.roles)))
        details = {
            "approval": task.id,
            "step": step.name,
            "level": level.name,
            "policy": level.policy,
            "deadline": deadline.isoformat() if deadline else None,
        }
        self._ctx.event(out, now, APPROVAL_ACTOR, "approval_opened", details=details)

    def resolved(self, task_id: str, users: list[str], now: datetime) -> Outcome:
        """The directory answered who may decide: apply separation of duties and open the task."""
        out = Outcome()
        task = self.task(task_id)
        step = self.step(task.step)
        if task.state != "resolving" or step is None:
            return out
        level = step.levels[task.level]
        excluded = policies.exclusions(step, self._ctx.record.fields)
        task.excluded = {u: rule for u, rule in excluded.items() if u in users}
        task.eligible = sorted(u for u in dict.fromkeys(users) if u not in excluded)
        task.needed = policies.needed(level, len(task.eligible))
        task.state = "pending"
        details: dict[str, Any] = {
            "approval": task.id,
            "eligible": task.eligible,
            "needed": task.needed,
            "excluded": task.excluded,
        }
        self._ctx.event(out, now, APPROVAL_ACTOR, "approval_pending", details=details)
        if len(task.eligible) < task.needed:
            message = (
                f"{task.needed} approvals needed but only "
                f"{len(task.eligible)} eligible approver(s) after separation of duties"
            )
            details = {"approval": task.id, "message": message}
            self._ctx.event(out, now, APPROVAL_ACTOR, "approval_unsatisfiable", details=details)
            if step.escalate_to:
                self._send(out, GENERIC_ESCALATION, step.escalate_to, task)
        return out

    # --- decisions ------------------------------------------------------------------------------------
    def check_decide(self, inp: DecideApprovalInput) -> ApprovalTask:
        record, d, lang = self._ctx.record, self._ctx.definition, inp.actor.language
        task = self.task(inp.approval_id, lang)
        named = words.step(d, task.step, lang)
        if task.state != "pending":
            state = phrases.approval_state(task.state, lang)
            raise Refusal(
                RefusalKind.AlreadyDecided,
                say("approval_closed", lang, step=named, number=record.number, state=state),
            )
        user = inp.actor.username
        step = self._step_of(task)
        excluded = {**task.excluded, **policies.exclusions(step, record.fields)}
        if inp.on_behalf_of is not None:
            substitutes.check(d, task, excluded, user, inp.on_behalf_of, record.number, lang)
            return task
        if substitutes.has_decided(task, user):
            raise Refusal(
                RefusalKind.AlreadyDecided,
                say("already_decided", lang, user=user, step=named, number=record.number),
            )
        if user in excluded:
            raise Refusal(
                RefusalKind.SeparationOfDuties,
                policies.sod_message(d, excluded[user], user, record.number, lang),
            )
        level = step.levels[task.level]
        by_group = bool(set(inp.actor.groups) & set(task.groups))
        by_role = bool(set(inp.actor.roles) & set(level.approvers.roles))
        if user not in task.eligible and not by_group and not by_role:
            raise Refusal(
                RefusalKind.NotAllowed,
                say(
                    "not_an_approver",
                    lang,
                    user=user,
                    step=named,
                    level=task.level_name,
                    number=record.number,
                ),
            )
        return task

    def decide(self, inp: DecideApprovalInput, now: datetime, delegation: int | None = None) -> Outcome:
        """Record a decision; `delegation` is the delegation the workflow found in force for a decision
        made on someone's behalf (`substitutes`)."""
        task = self.check_decide(inp)
        out = Outcome()
        step = self._step_of(task)
        user = inp.actor.username
        details: dict[str, Any] = {
            "approval": task.id,
            "step": task.step,
            "level": task.level_name,
            "decision": inp.decision,
        }
        if inp.on_behalf_of is not None:
            substitutes.require_delegation(delegation, user, inp.on_behalf_of, inp.actor.language)
            decision = Decision(
                by=inp.on_behalf_of,
                decision=inp.decision,
                comment=inp.comment,
                at=now,
                substitute=user,
                delegation=delegation,
            )
            details.update(on_behalf_of=inp.on_behalf_of, delegation=delegation)
        else:
            if user not in task.eligible:
                task.eligible = sorted([*task.eligible, user])
            decision = Decision(by=user, decision=inp.decision, comment=inp.comment, at=now)
        task.decisions.append(decision)
        self._ctx.event(out, now, inp.actor, "approval_decision", comment=inp.comment, details=details)
        verdict = policies.outcome(step.levels[task.level], task)
        if verdict is not None:
            out.extend(self._close(task, step, verdict, now))
        return out

    def _close(self, task: ApprovalTask, step: ApprovalStep, result: Closing, now: datetime) -> Outcome:
        """Close a level: an approved one opens the next level; the step's last verdict fires its trigger."""
        out = Outcome()
        task.state = result
        task.closed_at = now
        details = {"approval": task.id, "step": step.name, "level": task.level_name}
        self._ctx.event(out, now, APPROVAL_ACTOR, f"approval_{result}", details=details)
        if result == "approved" and task.level + 1 < len(step.levels):
            self._open_level(out, step, task.level + 1, now)
            return out
        trigger = {"approved": step.on_approved, "rejected": step.on_rejected}.get(
            result, step.expiry_trigger
        )
        if trigger:
            out.extend(self._mover.try_fire(Actor.system(f"approval:{step.name}"), trigger, now))
        return out

    # --- reminders and deadlines (fired by timers) ------------------------------------------------------
    def remind(self, task_id: str, at: datetime) -> Outcome:
        out = Outcome()
        task = self.task(task_id)
        step = self._step_of(task)
        task.reminders_sent += 1
        waiting = [u for u in task.eligible if u not in {d.by for d in task.decisions}]
        details = {"approval": task.id, "to": waiting, "reminder": task.reminders_sent}
        self._ctx.event(out, at, APPROVAL_ACTOR, "approval_reminder", details=details)
        tpl = self._ctx.definition.notifications.get(step.remind_template or "")
        texts = Texts(tpl.subject.model_dump(), tpl.body.model_dump()) if tpl else GENERIC_REMINDER
        self._send(out, texts, [f"user:{u}" for u in waiting], task)
        return out

    def expire(self, task_id: str, at: datetime) -> Outcome:
        out = Outcome()
        task = self.task(task_id)
        step = self._step_of(task)
        task.escalated = True
        details = {"approval": task.id, "on_expiry": step.on_expiry}
        self._ctx.event(out, at, APPROVAL_ACTOR, "approval_deadline", details=details)
        if step.escalate_to:
            self._send(out, GENERIC_ESCALATION, step.escalate_to, task)
        if step.on_expiry == "escalate":
            return out
        out.extend(self._close(task, step, ON_EXPIRY[step.on_expiry], at))
        return out

    def _send(self, out: Outcome, texts: Texts, to: list[str], task: ApprovalTask) -> None:
        extra = {"approval": task.step, "deadline": task.deadline.isoformat() if task.deadline else ""}
        self._notifier.send(out, "approval", texts, to, None, extra)
