"""iCalendar feeds of the schedule: created by a signed-in user for themselves, one of their groups
or a CI; read by a calendar program with the secret in the URL (only its hash is kept, compared in
constant time); revoked by their owner. A feed shows what its owner may see now: a disabled owner's
feed answers 404."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from api.auth import Principal, principal_for
from api.problems import ProblemError
from api.services import schedule as forward
from cmdb.tables import CiRow
from core.tables import UserRow
from schedule import ical
from schedule.tables import FeedRow
from schedule.views import FeedIn, FeedOut

BACK, AHEAD = timedelta(days=30), timedelta(days=365)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _out(row: FeedRow, token: str | None = None) -> FeedOut:
    path = f"/api/v1/schedule/feed/{token}.ics" if token else None
    return FeedOut(
        id=row.id,
        kind=row.kind,
        target=row.target,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        path=path,
    )


def create(session: Session, user: Principal, body: FeedIn) -> FeedOut:
    admin = user.has_role("admin")
    if body.kind == "user" and body.target != user.username and not admin:
        raise ProblemError(
            422,
            "a user feed is your own",
            zh="用户日历只能订阅自己的",
            kind="FeedTarget",
            errors=[{"path": "target", "message": "not you / 不是您本人"}],
        )
    if body.kind == "group" and body.target not in user.groups and not admin:
        raise ProblemError(
            422,
            f"you are not in the group {body.target}",
            zh=f"您不在组 {body.target} 中",
            kind="FeedTarget",
            errors=[{"path": "target", "message": "not your group / 不是您所在的组"}],
        )
    if body.kind == "ci" and (not body.target.isdigit() or session.get(CiRow, int(body.target)) is None):
        raise ProblemError(
            422,
            f"no CI {body.target}",
            zh=f"没有配置项 {body.target}",
            kind="FeedTarget",
            errors=[{"path": "target", "message": "no such CI / 没有该配置项"}],
        )
    feed_id, secret = secrets.token_hex(8), secrets.token_urlsafe(24)
    row = FeedRow(
        id=feed_id,
        secret_hash=_digest(secret),
        owner=user.username,
        kind=body.kind,
        target=body.target,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    return _out(row, f"{feed_id}.{secret}")


def mine(session: Session, user: Principal) -> list[FeedOut]:
    rows = session.exec(
        select(FeedRow).where(FeedRow.owner == user.username).order_by(col(FeedRow.created_at))
    )
    return [_out(r) for r in rows]


def revoke(session: Session, user: Principal, feed_id: str) -> FeedOut:
    row = session.get(FeedRow, feed_id)
    if row is None or row.owner != user.username:
        raise ProblemError(404, f"no feed {feed_id}", zh=f"没有日历订阅 {feed_id}", kind="NotFound")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        session.add(row)
        session.flush()
    return _out(row)


def document(session: Session, token: str, host: str) -> bytes:
    """The feed's calendar, or 404 alike for an unknown, wrong, revoked or orphaned feed."""
    feed_id, _, secret = token.partition(".")
    row = session.get(FeedRow, feed_id)
    valid = row is not None and hmac.compare_digest(row.secret_hash, _digest(secret))
    owner = session.get(UserRow, row.owner) if row is not None and valid else None
    if row is None or not valid or row.revoked_at is not None or owner is None or not owner.active:
        raise ProblemError(404, "no such feed", zh="没有该日历订阅", kind="NotFound")
    user = principal_for(session, owner)
    now = datetime.now(UTC)
    ci = int(row.target) if row.kind == "ci" else None
    group = row.target if row.kind == "group" else None
    schedule = forward.forward(session, user, now - BACK, now + AHEAD, ci=ci, group=group)
    if row.kind == "user":
        schedule.changes = [c for c in schedule.changes if c.implementer == row.target]
    name = ("变更日程" if user.language == "zh" else "Change schedule") + f" ({row.target})"
    return ical.render(schedule, name=name, lang=user.language, host=host)
