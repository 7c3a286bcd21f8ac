"""The `act_on_linked` activity (issue 20): fire a transition on each linked record through its own
workflow, as its `fire` Update, so its own rules decide (state, guard, required fields).

A refusal is an answer: kept with the rule family, named in Chinese, and the linked record's own words
(asking again in Chinese would be a second Update, which could move the record if it changed meanwhile).
The Update id comes from the acting record and its sequence number, so a retried activity moves a
linked record once. A chain of linked actions that would come back to a record it passed through (A acts
on B acts on A), or grows beyond `MAX_CHAIN` records, is refused before anything is sent: the Update
would wait on the very record that waits for it.
"""

from __future__ import annotations

from typing import Any

from anyio.to_thread import run_sync
from sqlalchemy import Engine, or_
from sqlmodel import select
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from core.db import session_scope
from core.tables import RecordRow
from workflows.contracts import Actor, FireTransitionInput, RecordSnapshot
from workflows.linked_actions import MAX_CHAIN, ActOnLinkedInput, ActOnLinkedResult
from workflows.process import ProcessWorkflow

_LOOP = (
    "refused: this action would loop back to {number}, whose own action led here",
    "已拒绝：该操作会回到 {number}，形成循环（正是它的操作引发了本次操作）",
)
_DEEP = (
    f"refused: a chain of linked actions may pass through at most {MAX_CHAIN} records",
    f"已拒绝：关联操作链最多经过 {MAX_CHAIN} 条记录",
)
_MISSING = ("refused: no record {ref}", "已拒绝：没有记录 {ref}")
_RULES_ZH = {
    "NotAllowed": "被拒绝：无权执行该操作",
    "SeparationOfDuties": "被拒绝：职责分离规则",
    "WrongState": "被拒绝：该记录当前状态不允许此操作",
    "GuardFailed": "被拒绝：不满足该操作的条件",
    "MissingFields": "被拒绝：缺少必填字段",
    "InvalidFields": "被拒绝：字段值无效",
    "UnknownTrigger": "被拒绝：该记录的流程没有此操作",
}
_CLOSED = ("refused: the record is closed", "已拒绝：该记录已关闭")


class LinkedActionActivities:
    def __init__(self, client: Client, engine: Engine) -> None:
        self.client = client
        self.engine = engine

    @activity.defn(name="act_on_linked")
    async def act_on_linked(self, inp: ActOnLinkedInput) -> ActOnLinkedResult:
        found = await run_sync(self._find, inp.targets)
        results = []
        for ref in inp.targets:
            row = found.get(ref)
            results.append(await self._one(inp, ref, row))
        return ActOnLinkedResult(results=results)

    def _find(self, refs: list[str]) -> dict[str, tuple[str, str]]:
        with session_scope(self.engine) as session:
            rows = session.exec(
                select(RecordRow.id, RecordRow.number).where(
                    or_(RecordRow.id.in_(refs), RecordRow.number.in_(refs))  # type: ignore[attr-defined]
                )
            ).all()
        out: dict[str, tuple[str, str]] = {}
        for rid, number in rows:
            out[rid] = out[number] = (rid, number)
        return out

    async def _one(self, inp: ActOnLinkedInput, ref: str, row: tuple[str, str] | None) -> dict[str, Any]:
        if row is None:
            return _refused(ref, ref, "NotFound", _MISSING, ref=ref)
        rid, number = row
        if rid in inp.chain or rid == inp.origin_id:
            return _refused(rid, number, "Loop", _LOOP, number=number)
        if len(inp.chain) >= MAX_CHAIN:
            return _refused(rid, number, "Loop", _DEEP)
        handle = self.client.get_workflow_handle(rid)
        update_id = f"link:{inp.origin_id}:{inp.seq}:{rid}"
        try:
            snapshot: RecordSnapshot = await handle.execute_update(
                ProcessWorkflow.fire_transition,
                self._input(inp, "en"),
                id=update_id,
            )
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            if not isinstance(cause, ApplicationError):
                raise
            kind = cause.type or "Refused"
            return {
                "record": rid,
                "number": number,
                "outcome": "refused",
                "kind": kind,
                "reason_en": cause.message,
                "reason_zh": f"{_RULES_ZH.get(kind, '被该记录的规则拒绝')}（{cause.message}）",
            }
        except RPCError:  # the record's workflow has completed: a closed record takes no action
            return _refused(rid, number, "WrongState", _CLOSED)
        return {"record": rid, "number": number, "outcome": "moved", "state": snapshot.state}

    def _input(self, inp: ActOnLinkedInput, language: str) -> FireTransitionInput:
        return FireTransitionInput(
            actor=Actor(username=f"system:link:{inp.origin_number}", roles=["system"], language=language),
            trigger=inp.trigger,
            fields=inp.fields,
            comment=inp.comment,
            chain=inp.chain,
        )


def _refused(rid: str, num: str, kind: str, words: tuple[str, str], **values: str) -> dict[str, Any]:
    return {
        "record": rid,
        "number": num,
        "outcome": "refused",
        "kind": kind,
        "reason_en": words[0].format(**values),
        "reason_zh": words[1].format(**values),
    }
