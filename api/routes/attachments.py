"""Attachments on records (issue 20, docs/attachments.md): upload (multipart), list, download."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import Response, StreamingResponse

from api.deps import CurrentUser, Idempotent, SessionDep, SettingsDep, TemporalClientDep
from api.problems import responses
from api.routes.processes import RecordRef
from api.services import attachments
from api.services.attachments import AttachmentOut
from core.blobs import BlobStore, store_for

router = APIRouter(prefix="/api/v1/processes", tags=["attachments"])
DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The file's bytes.", "content": {"application/octet-stream": {}}},
    **responses(401, 404),
}
AttachmentId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The attachment's id.")]


def blob_store(request: Request, settings: SettingsDep) -> BlobStore:
    """The attachment store of this app (built once: the S3 client keeps its connections)."""
    store: BlobStore | None = getattr(request.app.state, "blobs", None)
    if store is None:
        store = request.app.state.blobs = store_for(settings)
    return store


@router.post(
    "/{record}/attachments",
    status_code=201,
    response_model=AttachmentOut,
    responses=responses(401, 403, 404, 409, 411, 413, 415, 422, 503),
)
async def upload_attachment(
    request: Request,
    record: RecordRef,
    file: Annotated[UploadFile, File(description="The file (multipart/form-data).")],
    user: CurrentUser,
    session: SessionDep,
    client: TemporalClientDep,
    settings: SettingsDep,
    idempotency: Idempotent,
    kind: Annotated[
        str | None,
        Form(max_length=64, pattern=r"^[a-z][a-z0-9_]*$", description="The kind, e.g. drill_report."),
    ] = None,
    comment: Annotated[str | None, Form(max_length=20000)] = None,
) -> Response:
    """Attach a file to the record: its type must be allowed and its size within the limit (both by
    configuration); the record's audit trail records who added what and when. Whoever may change the
    record's fields may attach files, while it is not closed."""
    act = partial(
        attachments.upload,
        session=session,
        client=client,
        store=blob_store(request, settings),
        settings=settings,
        user=user,
        ref=record,
        source=file.file,
        filename=file.filename,
        kind=kind,
        comment=(comment or "").replace("\x00", "").strip() or None,
        update_id=idempotency.update_id,
    )
    fingerprint = f"{file.filename}|{file.size}|{kind}|{comment}"
    return await idempotency.respond(fingerprint, act, status=201)


@router.get("/{record}/attachments", response_model=list[AttachmentOut], responses=responses(401, 404))
def list_attachments(record: RecordRef, user: CurrentUser, session: SessionDep) -> list[AttachmentOut]:
    """The record's attachments, oldest first, with who added each and when (whoever sees the record)."""
    return attachments.listed(session=session, user=user, ref=record)


@router.get(
    "/{record}/attachments/{attachment}",
    response_class=StreamingResponse,
    responses=DOWNLOAD_RESPONSES,
)
def download_attachment(
    request: Request,
    record: RecordRef,
    attachment: AttachmentId,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> StreamingResponse:
    """Download an attachment (whoever sees the record); always as a download, never shown inline."""
    item = attachments.find(session=session, user=user, ref=record, attachment_id=attachment)
    session.commit()  # the transaction ends before the bytes stream
    return StreamingResponse(
        attachments.content(blob_store(request, settings), item),
        media_type=item.content_type,
        headers=download_headers(item),
    )


def download_headers(item: AttachmentOut) -> dict[str, str]:
    """Always a download (never rendered inline in our origin), under its own name."""
    return {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(item.filename)}",
        "Content-Length": str(item.size),
        "X-Content-Type-Options": "nosniff",
        "ETag": f'"{item.sha256}"',
    }
