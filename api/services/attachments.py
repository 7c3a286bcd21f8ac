"""Attachments on records (issue 20, docs/attachments.md): upload, list, download.

An upload is checked (the record is one the caller may act on, the file's type is allowed, its size
within the limit) before anything is kept; its bytes then go to the content-addressed store
(core/blobs.py) and the record takes the attachment's metadata by a Temporal Update, so the attachment
is in the record's history and audit trail (who, what, when) and `requires_attachment` sees it. The
bytes never enter Temporal. A refused Update removes bytes this upload alone added. Listing and
downloading read the audit trail and follow the record's visibility (api/services/lookup.py)."""

from __future__ import annotations

import hashlib
import mimetypes
import uuid
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import PurePath
from typing import Any, BinaryIO

from anyio.to_thread import run_sync
from pydantic import BaseModel, Field
from sqlalchemy import String, cast
from sqlmodel import Session, col, select
from temporalio.client import Client

from api.auth import Principal
from api.problems import ProblemError, not_found, unprocessable
from api.services.lookup import find_record_key
from api.services.updates import send_update
from core.blobs import BlobStore, Staged, TooLarge, stage
from core.settings import Settings
from core.tables import AuditRow
from workflows.contracts import AddAttachmentInput, Attachment
from workflows.process import ProcessWorkflow


class AttachmentOut(BaseModel):
    """A file attached to a record, with who added it and when (its audit event)."""

    id: str
    record_id: str
    kind: str | None = Field(description="The definition's kind of attachment (e.g. drill_report), if any.")
    filename: str
    content_type: str
    size: int = Field(description="Bytes.")
    sha256: str = Field(description="The SHA-256 of the bytes: where the store keeps them.")
    added_by: str
    added_at: datetime
    seq: int = Field(description="The audit event that recorded it.")


def _refused_type(filename: str, allowed: list[str]) -> ProblemError:
    kinds = ", ".join(allowed)
    return ProblemError(
        415,
        f"files of this type are not accepted: {filename!r} (allowed: {kinds})",
        zh=f"不接受此类型的文件：{filename}（允许的类型：{kinds}）",
        kind="UnsupportedType",
        errors=[{"path": "file", "message": f"allowed: {kinds}"}],
    )


def _too_large(limit: int) -> ProblemError:
    mb = limit / 1024 / 1024
    return ProblemError(
        413,
        f"the file is larger than the limit of {limit:,} bytes ({mb:.1f} MiB)",
        zh=f"文件超过 {limit:,} 字节（{mb:.1f} MiB）的上限",
        kind="TooLarge",
        errors=[{"path": "file", "message": f"at most {limit:,} bytes"}],
    )


def check_name(filename: str | None, settings: Settings) -> tuple[str, str]:
    """The file's name (its last path part) and its content type by extension; 415 for a refused type."""
    name = PurePath((filename or "").replace("\\", "/")).name.strip()
    if not name or len(name) > 255 or any(ord(c) < 32 for c in name):
        raise unprocessable(
            "the file needs a name of 1 to 255 printable characters",
            [{"path": "file", "message": "invalid"}],
            zh="文件名须为 1 到 255 个可打印字符",
        )
    allowed = [t.lower() for t in settings.attachment_types]
    suffix = PurePath(name).suffix.lower()
    if suffix not in allowed:
        raise _refused_type(name, allowed)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return name, content_type


def _attachment_id(update_id: str | None) -> str:
    """A retried upload (same Idempotency-Key) names the same attachment."""
    if update_id:
        return hashlib.sha256(update_id.encode()).hexdigest()[:32]
    return uuid.uuid4().hex


async def upload(
    *,
    session: Session,
    client: Client,
    store: BlobStore,
    settings: Settings,
    user: Principal,
    ref: str,
    source: BinaryIO,
    filename: str | None,
    kind: str | None,
    comment: str | None,
    update_id: str | None,
) -> AttachmentOut:
    row = find_record_key(session, ref=ref, user=user)  # 404 for a record the caller may not act on
    name, content_type = check_name(filename, settings)
    try:
        staged: Staged = await run_sync(partial(stage, source, settings.attachment_max_bytes, store))
    except TooLarge:
        raise _too_large(settings.attachment_max_bytes) from None
    new = await run_sync(partial(store.put, staged))
    attachment = Attachment(
        id=_attachment_id(update_id),
        kind=kind or None,
        filename=name,
        content_type=content_type,
        size=staged.size,
        sha256=staged.sha256,
    )
    inp = AddAttachmentInput(actor=user.actor(), attachment=attachment, comment=comment)
    try:
        snap = await send_update(
            session, client, row, ProcessWorkflow.add_attachment, inp, update_id=update_id
        )
    except BaseException:
        if new and not _referenced(session, staged.sha256):
            await run_sync(partial(store.delete, staged.sha256))  # refused: keep nothing of it
        raise
    return AttachmentOut(
        **attachment.model_dump(),
        record_id=snap.id,
        added_by=user.username,
        added_at=snap.updated_at,
        seq=snap.seq,
    )


def _referenced(session: Session, sha256: str) -> bool:
    """Whether any record's audit trail names these bytes (another upload of the same file)."""
    session.rollback()  # a fresh look after the Update (the request's transaction was released)
    found = session.exec(
        select(AuditRow.id)
        .where(AuditRow.action == "attachment_added")
        .where(cast(AuditRow.details, String).contains(sha256))
        .limit(1)
    ).first()
    return found is not None


def listed(*, session: Session, user: Principal, ref: str) -> list[AttachmentOut]:
    """The record's attachments, oldest first, as its audit trail recorded them."""
    row = find_record_key(session, ref=ref, user=user, reading=True)
    events = session.exec(
        select(AuditRow)
        .where(AuditRow.record_id == row.id, AuditRow.action == "attachment_added")
        .order_by(col(AuditRow.seq))
    ).all()
    return [_out(row.id, e) for e in events]


def _out(record_id: str, event: Any) -> AttachmentOut:
    d = event.details or {}
    return AttachmentOut(
        id=d["id"],
        record_id=record_id,
        kind=d.get("kind"),
        filename=d["filename"],
        content_type=d["content_type"],
        size=d["size"],
        sha256=d["sha256"],
        added_by=event.actor,
        added_at=event.at,
        seq=event.seq,
    )


def find(*, session: Session, user: Principal, ref: str, attachment_id: str) -> AttachmentOut:
    for item in listed(session=session, user=user, ref=ref):
        if item.id == attachment_id:
            return item
    raise not_found(f"no attachment '{attachment_id}' on '{ref}'", zh=f"“{ref}”上没有附件“{attachment_id}”")


def content(store: BlobStore, item: AttachmentOut) -> Iterator[bytes]:
    """The attachment's bytes, checked against their digest as they stream: a store that returns
    other bytes ends the download with an error instead of completing it."""
    digest = hashlib.sha256()
    for chunk in store.read(item.sha256):
        digest.update(chunk)
        yield chunk
    if digest.hexdigest() != item.sha256:
        raise OSError(f"attachment {item.id}: the stored bytes do not match their SHA-256")
