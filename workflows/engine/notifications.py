"""Notifications: who a recipient spec names on this record, and the values a template is filled from.

A notification is a request in the outcome (`NotifyRequest`); the workflow writes it with the change
that caused it and the `notify` activity delivers it. Recipients stay unexpanded here (groups, roles,
a group's lead): the directory expands them at delivery."""

from __future__ import annotations

from typing import Any, NamedTuple

from workflows.contracts import Actor, NotificationRecipient
from workflows.engine.outcome import NotifyRequest, Outcome
from workflows.engine.policies import users_in
from workflows.engine.record import RecordContext


class Texts(NamedTuple):
    """A subject and a body, each in Chinese and English."""

    subject: dict[str, str]
    body: dict[str, str]


class Notifier:
    def __init__(self, ctx: RecordContext) -> None:
        self._ctx = ctx

    def values(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """What a template is filled from: the record's fields, its identity and state, and `extra`."""
        record = self._ctx.record
        state = self._ctx.state
        values: dict[str, Any] = {
            **record.fields,
            "number": record.number,
            "id": record.record_id,
            "state": record.state,
            "definition": self._ctx.definition.key,
            "state_label": state.label.en if state and state.label else record.state,
            # The notification activity swaps this in for Chinese-speaking recipients.
            "state_label_zh": state.label.zh if state and state.label else record.state,
        }
        values.update(extra or {})
        return values

    def recipients(self, specs: list[str], actor: Actor | None) -> list[NotificationRecipient]:
        """The recipients that `specs` name on this record now; an empty relation names nobody, and the
        engine acting itself is never a recipient."""
        out: list[NotificationRecipient] = []
        fields = self._ctx.record.fields
        for spec in specs:
            if spec in ("requester", "assignee") and fields.get(spec):
                out.append(NotificationRecipient(kind="user", name=str(fields[spec])))
            elif spec == "assignment_group" and fields.get("assignment_group"):
                out.append(NotificationRecipient(kind="group", name=str(fields["assignment_group"])))
            elif spec == "group_lead" and fields.get("assignment_group"):
                out.append(NotificationRecipient(kind="group_lead", name=str(fields["assignment_group"])))
            elif spec == "actor" and actor is not None and not actor.is_system:
                out.append(NotificationRecipient(kind="user", name=actor.username))
            elif ":" in spec:
                kind, name = spec.split(":", 1)
                if kind == "field":
                    is_group = self._ctx.field_types.get(name) == "group"
                    for value in users_in(fields.get(name)):
                        out.append(NotificationRecipient(kind="group" if is_group else "user", name=value))
                elif kind in ("user", "group", "role"):
                    out.append(NotificationRecipient(kind=kind, name=name))
        return out

    def notify(
        self,
        out: Outcome,
        template: str,
        to: list[str],
        actor: Actor | None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Ask for the definition's `template` to be sent to `to`, if it names anybody."""
        tpl = self._ctx.definition.notifications.get(template)
        if tpl is None:
            return
        self.send(out, template, Texts(tpl.subject.model_dump(), tpl.body.model_dump()), to, actor, extra)

    def send(
        self,
        out: Outcome,
        template: str,
        texts: Texts,
        to: list[str],
        actor: Actor | None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Ask for `texts` to be sent to `to` under the name `template`, if it names anybody."""
        recipients = self.recipients(to, actor)
        if recipients:
            out.notifications.append(
                NotifyRequest(template, texts.subject, texts.body, recipients, self.values(extra))
            )
