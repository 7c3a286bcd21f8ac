"""Attachments (issue 20): the engine's side of a file attached to a record.

The file itself never enters the workflow: the API stores its bytes (content-addressed) and asks the
record to take the attachment's metadata by an Update, so the attachment is in the record's history and
its audit trail says who added what and when. A transition's `requires_attachment` names kinds the
record must carry before it may fire; the refusal names each kind by its label."""

from __future__ import annotations

from datetime import datetime

from definitions.model import TransitionDef
from workflows.contracts import Actor, AddAttachmentInput
from workflows.engine import field_rights, phrases, words
from workflows.engine.outcome import Outcome
from workflows.engine.phrases import say
from workflows.engine.record import RecordContext
from workflows.engine.refusals import Refusal, RefusalKind


def kind_label(ctx: RecordContext, kind: str, lang: str) -> str:
    label = ctx.definition.attachment_kinds.get(kind)
    return label.get(lang) if label else kind


def check(ctx: RecordContext, inp: AddAttachmentInput) -> None:
    """Refuse an attachment the record cannot take: a closed record, someone who may not edit it, a kind
    the definition does not declare, the same attachment twice."""
    d, record, lang, actor = ctx.definition, ctx.record, inp.actor.language, inp.actor
    state = ctx.state
    if state is not None and state.final:
        here = words.state(d, record.state, lang)
        raise Refusal(RefusalKind.WrongState, say("closed", lang, number=record.number, state=here))
    if not actor.is_system and not field_rights.may_edit_any(ctx, actor):
        who = words.who(d, d.editors, lang)
        raise Refusal(
            RefusalKind.NotAllowed,
            say("may_not_attach", lang, user=actor.username, number=record.number, who=who),
        )
    kind = inp.attachment.kind
    if kind is not None and kind not in d.attachment_kinds:
        kinds = phrases.listed([kind_label(ctx, k, lang) for k in d.attachment_kinds], lang)
        message = say(
            "unknown_attachment_kind", lang, process=phrases.process(d, lang), kind=kind, kinds=kinds or "—"
        )
        raise Refusal(RefusalKind.InvalidFields, message, [{"path": "kind", "message": message}])
    if any(a.id == inp.attachment.id for a in record.attachments):
        message = say("duplicate_attachment", lang, id=inp.attachment.id, number=record.number)
        raise Refusal(RefusalKind.InvalidFields, message, [{"path": "id", "message": message}])


def attach(ctx: RecordContext, inp: AddAttachmentInput, now: datetime) -> Outcome:
    check(ctx, inp)
    out = Outcome()
    ctx.record.attachments.append(inp.attachment)
    details = inp.attachment.model_dump()
    ctx.event(out, now, inp.actor, "attachment_added", comment=inp.comment, details=details)
    return out


def refuse_missing(ctx: RecordContext, transition: TransitionDef, actor: Actor, trigger: str) -> None:
    """Refuse a transition whose `requires_attachment` kinds the record does not carry yet."""
    have = {a.kind for a in ctx.record.attachments}
    missing = [k for k in transition.requires_attachment if k not in have]
    if not missing:
        return
    lang = actor.language
    kinds = phrases.listed([kind_label(ctx, k, lang) for k in missing], lang)
    named = phrases.action(ctx.definition, trigger, lang)
    needed = say("attachment_missing", lang)
    raise Refusal(
        RefusalKind.MissingFields,
        say("needs_attachment", lang, action=named, kinds=kinds),
        [{"path": f"attachments.{k}", "message": f"{kind_label(ctx, k, lang)}: {needed}"} for k in missing],
    )
