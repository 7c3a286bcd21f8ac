"""What waits for a requester's word (issue 16): their records the team has resolved, each with the
actions the process gives a requester there (confirm the resolution; reopen it, saying why), on the
inbox page. The record's own workflow decides when one is fired (POST /ui/records/{ref}/transitions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from api.auth import Principal
from api.web import forms, i18n
from core.tables import RecordRow

LIMIT = 50


@dataclass
class RequesterAction:
    trigger: str
    label: str
    comment_required: bool


@dataclass
class AwaitingConfirmation:
    number: str
    title: str
    state: str
    resolved_at: datetime
    resolution: str
    actions: list[RequesterAction]


def awaiting_confirmation(session: Session, user: Principal, lang: str) -> list[AwaitingConfirmation]:
    rows = session.exec(
        select(RecordRow)
        .where(RecordRow.requester == user.username, RecordRow.state_category == "resolved")
        .order_by(col(RecordRow.updated_at).desc())
        .limit(LIMIT)
    ).all()
    out = []
    for row in rows:
        d = forms.definition(session, row.definition_key, row.definition_version)
        if d is None:
            continue
        actions = [
            RequesterAction(t.trigger, i18n.pick(t.label, lang, i18n.humanize(t.trigger)), t.comment_required)
            for t in d.transitions
            if row.state in d.sources(t)
            and t.allowed is not None
            and "requester" in t.allowed.relations
            and t.after is None
        ]
        if not actions:
            continue
        state = d.state(row.state)
        fields: dict[str, Any] = row.fields or {}
        out.append(
            AwaitingConfirmation(
                number=row.number,
                title=row.title,
                state=i18n.pick(state.label if state else None, lang, row.state),
                resolved_at=row.updated_at,
                resolution=str(fields.get("resolution_notes") or ""),
                actions=actions,
            )
        )
    return out
