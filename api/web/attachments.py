"""A record's attachments on the web page (issue 20): the list and upload form on the record page
(partials/attachments.html), the upload (multipart) and the download, through the same service as the
API (api/services/attachments.py): the same checks, the same refusals in the reader's language."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlmodel import Session

from api.auth import Principal
from api.deps import SessionDep, SettingsDep, TemporalClientDep
from api.idempotency import update_id
from api.routes.attachments import blob_store, download_headers
from api.services import attachments
from api.web.common import PageRoute, PostUser, User
from core.settings import Settings

router = APIRouter(route_class=PageRoute, include_in_schema=False)
RecordRef = Annotated[str, Path(min_length=1, max_length=100)]
AttachmentId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


def context(session: Session, user: Principal, record_id: str, settings: Settings) -> dict[str, Any]:
    """What the record page's attachment section shows."""
    return {
        "attachments": attachments.listed(session=session, user=user, ref=record_id),
        "attachment_limit_mb": f"{settings.attachment_max_bytes / 1024 / 1024:g}",
        "attachment_types": " ".join(settings.attachment_types),
    }


@router.post("/ui/records/{ref}/attachments")
async def upload(
    request: Request,
    ref: RecordRef,
    user: PostUser,
    session: SessionDep,
    client: TemporalClientDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File()],
    kind: Annotated[str, Form(max_length=64)] = "",
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    out = await attachments.upload(
        session=session,
        client=client,
        store=blob_store(request, settings),
        settings=settings,
        user=user,
        ref=ref,
        source=file.file,
        filename=file.filename,
        kind=kind.strip() or None,
        comment=None,
        update_id=update_id(user.username, key or None),
    )
    return RedirectResponse(f"/ui/records/{out.record_id}#attachments", status_code=303)


@router.get("/ui/records/{ref}/attachments/{attachment}")
def download(
    request: Request,
    ref: RecordRef,
    attachment: AttachmentId,
    user: User,
    session: SessionDep,
    settings: SettingsDep,
) -> StreamingResponse:
    item = attachments.find(session=session, user=user, ref=ref, attachment_id=attachment)
    session.commit()
    return StreamingResponse(
        attachments.content(blob_store(request, settings), item),
        media_type=item.content_type,
        headers=download_headers(item),
    )
