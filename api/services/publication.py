"""Four-eyes publishing: with `publish_requires_second_owner`, a definition version is published only
when a second process owner approves the request of a first.

A process owner asks for a draft to be published (`request`); another process owner — neither the
draft's author nor the one who asked — approves it (`approve`), which publishes it, or refuses it
(`refuse`, with a reason), which leaves the draft as it was, free to be asked for again. Publishing
directly is refused while the setting is on. Each step lands in the draft's `definition_events` and
in the admin audit trail, in the same transaction; a refusal names its rule in the caller's language.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from api.auth import Principal
from api.identity import audit
from api.problems import ProblemError, conflict
from api.schemas import DefinitionRef, PublicationOut
from api.services import definitions as defs
from core.store import utcnow
from core.tables import DefinitionEventRow, DefinitionRow

RULE = "FourEyesPublishing"
_MESSAGES = {
    "direct": (
        "four-eyes publishing: a definition version is published only when another process owner "
        "approves a request to publish it; ask for publication instead",
        "四眼发布：定义版本须经另一位流程负责人批准发布申请后才能发布；请改为申请发布",
    ),
    "requester": (
        "four-eyes publishing: the process owner who asked for publication cannot approve it; "
        "another process owner must",
        "四眼发布：申请发布的流程负责人不能批准自己的申请，须由另一位流程负责人批准",
    ),
    "author": (
        "four-eyes publishing: the author of a draft cannot approve its publication; "
        "another process owner must",
        "四眼发布：草稿的作者不能批准其发布，须由另一位流程负责人批准",
    ),
}


def _say(user: Principal, what: str) -> str:
    en, zh = _MESSAGES[what]
    return zh if user.language == "zh" else en


def refused(user: Principal, what: str) -> ProblemError:
    return ProblemError(403, _say(user, what), kind=RULE)


def _draft(session: Session, key: str, version: int, user: Principal) -> DefinitionRow:
    row = defs.definition_row(session, key, version)
    if row.status != "draft":
        raise conflict(
            (f"{key} 第 {version} 版已{_STATUS_ZH.get(row.status, row.status)}，只有草稿可以申请发布")
            if user.language == "zh"
            else f"{key} version {version} is {row.status}; only a draft can be asked to be published",
            "WrongState",
        )
    return row


_STATUS_ZH = {"published": "发布", "retired": "停用"}


def _event(session: Session, row: DefinitionRow, action: str, actor: str, at: datetime) -> None:
    session.add(DefinitionEventRow(key=row.key, version=row.version, action=action, actor=actor, at=at))


def _out(row: DefinitionRow, status: str, **extra: object) -> PublicationOut:
    return PublicationOut.model_validate(
        {
            "key": row.key,
            "version": row.version,
            "status": status,
            "author": row.created_by,
            "requested_by": row.publication_requested_by,
            "requested_at": row.publication_requested_at,
            **extra,
        }
    )


def publish_directly(
    session: Session, *, key: str, version: int, user: Principal, required: bool
) -> DefinitionRef:
    """The publish button and route: refused while four-eyes publishing is on."""
    if required:
        defs.definition_row(session, key, version)  # an unknown version is a 404 all the same
        raise refused(user, "direct")
    return defs.publish(session, key=key, version=version, user=user)


def request(session: Session, *, key: str, version: int, user: Principal, required: bool) -> PublicationOut:
    """Ask for a draft to be published by another process owner."""
    if not required:
        raise conflict(
            "发布无需第二位流程负责人批准（未开启四眼发布）；请直接发布"
            if user.language == "zh"
            else "publishing needs no second process owner here (four-eyes publishing is off); publish it",
            "NotRequired",
        )
    row = _draft(session, key, version, user)
    if row.publication_requested_by is not None:
        who, when = row.publication_requested_by, f"{row.publication_requested_at:%Y-%m-%d %H:%M} UTC"
        raise conflict(
            f"{who} 已于 {when} 申请发布 {key} 第 {version} 版，正等待批准"
            if user.language == "zh"
            else f"{who} asked for {key} version {version} to be published at {when}; it awaits approval",
            "AlreadyRequested",
        )
    now = utcnow()
    row.publication_requested_by, row.publication_requested_at = user.username, now
    session.add(row)
    _event(session, row, "publication_requested", user.username, now)
    audit.record(
        session,
        actor=user.username,
        action="definition.publication_requested",
        target=f"{key} v{version}",
        author=row.created_by,
    )
    session.flush()
    return _out(row, "pending")


def _pending(session: Session, key: str, version: int, user: Principal) -> DefinitionRow:
    row = _draft(session, key, version, user)
    if row.publication_requested_by is None:
        raise conflict(
            f"{key} 第 {version} 版没有待批准的发布申请"
            if user.language == "zh"
            else f"nobody has asked for {key} version {version} to be published",
            "NotRequested",
        )
    return row


def approve(session: Session, *, key: str, version: int, user: Principal) -> DefinitionRef:
    """A second process owner approves: the version is published."""
    row = _pending(session, key, version, user)
    if user.username == row.publication_requested_by:
        raise refused(user, "requester")
    if user.username == row.created_by:
        raise refused(user, "author")
    requested_by = row.publication_requested_by
    _event(session, row, "publication_approved", user.username, utcnow())
    audit.record(
        session,
        actor=user.username,
        action="definition.publication_approved",
        target=f"{key} v{version}",
        requested_by=requested_by,
        author=row.created_by,
    )
    return defs.publish(session, key=key, version=version, user=user)


def refuse(session: Session, *, key: str, version: int, user: Principal, reason: str) -> PublicationOut:
    """A process owner refuses the request: the draft stays a draft and may be asked for again."""
    row = _pending(session, key, version, user)
    requested_by, requested_at = row.publication_requested_by, row.publication_requested_at
    now = utcnow()
    row.publication_requested_by, row.publication_requested_at = None, None
    session.add(row)
    _event(session, row, "publication_refused", user.username, now)
    audit.record(
        session,
        actor=user.username,
        action="definition.publication_refused",
        target=f"{key} v{version}",
        requested_by=requested_by,
        reason=reason,
    )
    session.flush()
    out = _out(row, "refused", refused_by=user.username, reason=reason)
    return out.model_copy(update={"requested_by": requested_by, "requested_at": requested_at})
