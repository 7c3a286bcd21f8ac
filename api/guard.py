"""Refuse NUL characters before they reach a handler.

PostgreSQL text cannot hold U+0000 and would fail the statement (a 500); no field of this API has a
use for it, so a request carrying one, in its URL or in its JSON body, is malformed (422).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import PROBLEM_MEDIA_TYPE, unprocessable

MARKERS = (b"\x00", b"\\u0000")


class NulGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        url = scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")
        if b"%00" in url or b"\x00" in scope.get("path", "").encode():
            await self._refuse(send, "the URL contains a NUL character", "url")
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # a disconnect: let the app see it
                await self.app(scope, _replay([message]), send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if any(m in body for m in MARKERS):
            await self._refuse(send, "the body contains a NUL character", "body")
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}]), send)

    @staticmethod
    async def _refuse(send: Send, detail: str, path: str) -> None:
        problem = unprocessable(detail, [{"path": path, "message": "NUL characters are not accepted"}])
        payload = json.dumps(problem.body()).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 422,
                "headers": [
                    (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _replay(messages: list[Message]) -> Receive:
    queue = list(messages)

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        return {"type": "http.disconnect"}

    return receive
