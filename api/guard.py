"""Refuse oversized bodies and NUL characters before any other work.

Runs first, before authentication: a 400 MB POST without a token once made the API grow by 2 GB
before it answered 401, because the body was read whole before anything looked at it. Now a body is
refused with 413 as soon as its declared `Content-Length` or the bytes streamed so far pass the limit
(`ITILFLOW_MAX_REQUEST_BYTES`, 1 MiB by default: the largest legitimate body is a definition's YAML,
at most 256 KiB), and nothing more of it is read.

NUL characters: PostgreSQL text cannot hold U+0000 and would fail the statement (a 500); no field of
this API has a use for it, so a request carrying one, in its URL or in its body, is malformed (422).
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import PROBLEM_MEDIA_TYPE, ProblemError, unprocessable

MARKERS = (b"\x00", b"\\u0000")
DEFAULT_MAX_BYTES = 1024 * 1024


# Uploads of attachments (docs/attachments.md): files are binary (NUL bytes are content) and larger than
# any other body, so they pass unread with their own limit, and must declare their length: a body that
# could grow without bound is never streamed into a temporary file.
UPLOAD_PATH = re.compile(r"^/(api/v1/processes|ui/records)/[^/]+/attachments$")
MULTIPART_OVERHEAD = 64 * 1024


class RequestGuard:
    def __init__(
        self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BYTES, upload_bytes: int | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        url = scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")
        if b"%00" in url or b"\x00" in scope.get("path", "").encode():
            await _refuse(send, _nul("the URL contains a NUL character", "url"))
            return
        if self.upload_bytes is not None and scope["method"] == "POST" and UPLOAD_PATH.match(scope["path"]):
            await self._upload(scope, receive, send, self.upload_bytes + MULTIPART_OVERHEAD)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _refuse(send, self._too_large(declared), close=True)  # its body is never read
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # a disconnect: let the app see it
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _refuse(send, self._too_large(size), close=True)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if any(m in body for m in MARKERS):
            await _refuse(send, _nul("the body contains a NUL character", "body"))
            return
        await self.app(
            scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send
        )

    async def _upload(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        declared = _content_length(scope)
        if declared is None:
            problem = ProblemError(
                411,
                "an upload must declare its Content-Length / 上传文件时须声明 Content-Length",
                kind="LengthRequired",
            )
            await _refuse(send, problem, close=True)
        elif declared > limit:
            await _refuse(send, self._too_large(declared, limit), close=True)
        else:  # the server reads exactly the declared length: no more can arrive
            await self.app(scope, receive, send)

    def _too_large(self, size: int, limit: int | None = None) -> ProblemError:
        limit = limit or self.max_bytes
        return ProblemError(
            413,
            f"the request body is larger than the limit of {limit:,} bytes (at least {size:,} "
            f"bytes were sent) / 请求体超过 {limit:,} 字节的上限",
            kind="TooLarge",
        )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _nul(detail: str, path: str) -> ProblemError:
    return unprocessable(detail, [{"path": path, "message": "NUL characters are not accepted"}])


async def _refuse(send: Send, problem: ProblemError, *, close: bool = False) -> None:
    payload = json.dumps(problem.body()).encode()
    headers = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(payload)).encode()),
    ]
    if close:  # the rest of the body is never read: the connection cannot be reused
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def _replay(messages: list[Message], then: Receive) -> Receive:
    """The messages read, then the client's own: a streaming response listens for the client's
    disconnect after the body, and must not be told of one that did not happen."""
    queue = list(messages)

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        return await then()

    return receive
