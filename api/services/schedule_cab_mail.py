"""Sending the CAB agenda to the CAB's members: one message per active member of the group, holding the
agenda as that member may see it (their own visibility, not the sender's) in both languages; the
worker delivers them (workflows/cab_agenda.py) through the notification outbox."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlmodel import Session

from api.auth import Principal
from api.services import schedule_cab as cab
from core.store import group_members, user_groups
from core.tables import UserRow
from schedule import agenda
from schedule.views import AgendaSendIn
from workflows.contracts import NotificationRecipient, NotifyInput


def messages(
    session: Session, sender: Principal, body: AgendaSendIn, run_key: str, tz: str
) -> tuple[list[NotifyInput], list[str], list[date], int]:
    """(messages, recipients, meeting dates, changes the sender sees) for one sending."""
    out: list[NotifyInput] = []
    recipients: list[str] = []
    for username in group_members(session, [body.group]):
        user = session.get(UserRow, username)
        if user is None or not user.active:
            continue
        member = Principal(
            username=user.username,
            roles=list(user.roles),
            groups=user_groups(session, user.username),
            language=user.language,
        )
        texts = {}
        for lang in ("zh", "en"):
            reader = replace(member, language=lang)  # the same member, reading in each language
            meetings = cab.build(session, reader, states=body.states, weekday=body.weekday, weeks=body.weeks)
            texts[lang] = agenda.as_text(meetings, lang, tz)
        recipients.append(username)
        out.append(
            NotifyInput(
                key=f"cab-agenda:{run_key}:{username}",
                record_id="",
                template_name="cab_agenda",
                # Placeholders filled with the finished texts: a title with braces stays as written.
                subject={"zh": "{{ subject_zh }}", "en": "{{ subject_en }}"},
                body={"zh": "{{ body_zh }}", "en": "{{ body_en }}"},
                recipients=[NotificationRecipient(kind="user", name=username)],
                context={
                    "subject_zh": texts["zh"][0],
                    "body_zh": texts["zh"][1],
                    "subject_en": texts["en"][0],
                    "body_en": texts["en"][1],
                },
            )
        )
    seen = cab.build(session, sender, states=body.states, weekday=body.weekday, weeks=body.weeks)
    return out, recipients, [m.date for m in seen], sum(len(m.changes) for m in seen)
