"""The approvals inbox: what waits for my decision, oldest first; approve or reject in place."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from api.auth import Principal
from api.deps import SessionDep, TemporalClientDep
from api.idempotency import update_id
from api.problems import ProblemError
from api.schemas import ApprovalOut
from api.services import approvals
from api.services.record_schedule import record_schedule
from api.web import confirmations, forms, i18n
from api.web.common import PageRoute, PostUser, User, engine_of, is_htmx, render
from core.db import session_scope
from core.tables import RecordRow
from definitions.model import Definition

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@dataclass
class InboxItem:
    task: ApprovalOut
    slas: list[dict[str, Any]]
    state_label: dict[str, str] | None
    key: str  # a fresh idempotency key per rendered form: a double click decides once
    words: dict[str, str] = field(default_factory=dict)  # risk, step and level in the reader's words
    # What an approver decides on beyond the chips (issue 16): the texts the record gives for these
    # fields, labelled as its definition labels them, and where the planned window meets a freeze or
    # clashes with another change.
    texts: list[tuple[str, str]] = field(default_factory=list)
    findings: list[str] | None = None  # None: the record plans no window

    @property
    def fields(self) -> dict[str, Any]:
        return self.task.record.fields

    @property
    def sla_state(self) -> str | None:
        """The worst clock of the record: breached > running > paused > met."""
        order = ["breached", "running", "paused", "pending", "met"]
        states = [str(s["state"]) for s in self.slas if s.get("state") in order]
        return min(states, key=order.index) if states else None

    @property
    def sla_due(self) -> str | None:
        """When the first running clock breaches (stored with the record, so still right now)."""
        dues = [str(s["due_at"]) for s in self.slas if s.get("state") == "running" and s.get("due_at")]
        return min(dues) if dues else None


def _words(d: Definition | None, task: ApprovalOut, lang: str) -> dict[str, str]:
    """The card's keys in the reader's words: the risk's option label, the approval step and level."""
    out: dict[str, str] = {"step": task.step, "level": task.level_name or ""}
    risk = task.record.fields.get("risk")
    if risk is not None:
        out["risk"] = str(risk)
    if d is None:
        return out
    spec = d.field("risk")
    if risk is not None and spec is not None and spec.value_labels and str(risk) in spec.value_labels:
        out["risk"] = i18n.pick(spec.value_labels[str(risk)], lang, str(risk))
    step = next((a for a in d.approvals if a.name == task.step), None)
    if step is not None:
        out["step"] = i18n.pick(step.label, lang, task.step)
        level = next((lv for lv in step.levels if lv.name == task.level_name), None)
        if level is not None:
            out["level"] = i18n.pick(level.label, lang, task.level_name or "")
    return out


# The fields a CAB reads before deciding (002 §8.3.6: impact, back-out), when the record has them.
DECISION_FIELDS = ("business_impact", "risk_assessment", "backout_plan")


def _texts(d: Definition | None, fields: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    out = []
    for name in DECISION_FIELDS:
        value = fields.get(name)
        spec = d.field(name) if d is not None else None
        if isinstance(value, str) and value.strip() and spec is not None:
            out.append((i18n.pick(spec.label, lang, i18n.humanize(name)), value.strip()))
    return out


def _findings(session: Session, user: Principal, task: ApprovalOut, lang: str) -> list[str] | None:
    """The change schedule's verdict on the record's planned window, as the approver may see it."""
    fields = task.record.fields
    if not (fields.get("planned_start") and fields.get("planned_end")):
        return None
    try:
        found = record_schedule(session, user, task.record.number, lang)
    except ProblemError:
        return None
    return [c.message for c in found.violations + found.conflicts]


def inbox_items(
    session: Session, tasks: list[ApprovalOut], lang: str = "en", user: Principal | None = None
) -> list[InboxItem]:
    ids = {t.record.id for t in tasks}
    rows = (
        {r.id: r for r in session.exec(select(RecordRow).where(col(RecordRow.id).in_(ids))).all()}
        if ids
        else {}
    )
    items = []
    for task in tasks:
        row = rows.get(task.record.id)
        snap = row.snapshot if row is not None else {}
        d = forms.definition(session, row.definition_key, row.definition_version) if row is not None else None
        items.append(
            InboxItem(
                task=task,
                slas=list(snap.get("slas") or []),
                state_label=snap.get("state_label"),
                key=secrets.token_urlsafe(12),
                words=_words(d, task, lang),
                texts=_texts(d, task.record.fields, lang),
                findings=_findings(session, user, task, lang) if user is not None else None,
            )
        )
    return items


@router.get("/ui/inbox")
def inbox(request: Request, user: User, session: SessionDep) -> Response:
    lang = i18n.language(request, user.language)
    items = inbox_items(session, approvals.pending_approvals(session=session, user=user), lang, user)
    confirm = confirmations.awaiting_confirmation(session, user, lang)
    return render(
        request,
        "inbox.html",
        user,
        items=items,
        confirm=confirm,
        decide_key=lambda: secrets.token_urlsafe(12),  # an idempotency key per rendered form
    )


@router.get("/ui/inbox/count")
def inbox_count(request: Request, user: User, session: SessionDep) -> Response:
    count = len(approvals.pending_approvals(session=session, user=user))
    return render(request, "partials/inbox_count.html", user, count=count)


@router.post("/ui/approvals/{approval_id}/decision")
async def decide(
    request: Request,
    user: PostUser,
    session: SessionDep,
    client: TemporalClientDep,
    approval_id: Annotated[str, Path(min_length=1, max_length=80)],
    decision: Annotated[Literal["approve", "reject"], Form()],
    comment: Annotated[str, Form(max_length=20000)] = "",
    key: Annotated[str, Form(max_length=64)] = "",
    back: Annotated[str, Form(max_length=200)] = "",
    where: Annotated[str, Form(max_length=10)] = "inbox",
    on_behalf_of: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    try:
        outcome = await approvals.decide(
            session=session,
            client=client,
            user=user,
            approval_id=approval_id,
            decision=decision,
            comment=comment.strip() or None,
            update_id=update_id(user.username, key or None),
            on_behalf_of=on_behalf_of or None,
        )
    except ProblemError as problem:
        if not is_htmx(request) or where == "record":
            raise  # the record page shows it in the task's own slot (common.problem_page)
        # The row stays, with the rule that refused the decision right under its buttons.
        tasks = [
            t
            for t in approvals.pending_approvals(session=session, user=user)
            if t.id == approval_id and t.on_behalf_of == (on_behalf_of or None)
        ]
        items = inbox_items(session, tasks, i18n.language(request, user.language), user)
        return render(
            request,
            "partials/decision_refused.html",
            user,
            item=items[0] if items else None,
            approval_id=approval_id,
            problem=problem,
            comment=comment,
        )
    target = back if back.startswith("/ui/") else f"/ui/records/{outcome.record.number}"
    if not is_htmx(request):
        return RedirectResponse(target, status_code=303)
    if where == "record":
        return Response(status_code=204, headers={"HX-Redirect": target})
    with session_scope(engine_of(request)) as fresh:  # the workflow wrote the read model meanwhile
        row = fresh.get(RecordRow, outcome.record.id)
        label = (row.snapshot or {}).get("state_label") if row else None
    return render(
        request,
        "partials/decided.html",
        user,
        outcome=outcome,
        state_label=label,
        decision=decision,
        headers={"HX-Trigger": "inbox-changed"},
    )
