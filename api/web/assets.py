"""The page's static files: content-hashed names cached for a year, sent compressed (brotli or gzip).

`/static/app.css` is also served as `/static/app.<hash>.css`, where the hash is of its content: pages
link the hashed name (`asset_url`, a template global), so a browser keeps the file until it changes
(`Cache-Control: immutable`), and a new version has a new name. The plain name stays served, with
`no-cache` (revalidated by its ETag), for links outside the page's templates.

Large vendored files are compressed at set-up (`X.br`, `X.gz` beside them, `python -m api.web.vendor`);
anything else compressible is compressed once, on first request, and kept in memory. Only files found
under the folder are served: a name is a key of the listing, never a path joined from the request.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import brotli  # type: ignore[import-untyped]
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

YEAR = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")
_HASHED = re.compile(r"^(?P<stem>.+)\.(?P<hash>[0-9a-f]{12})(?P<ext>\.[A-Za-z0-9]+)$")


@dataclass
class Asset:
    path: Path
    name: str
    digest: str
    mtime: float
    media_type: str
    packed: dict[str, bytes] = field(default_factory=dict)

    @property
    def hashed(self) -> str:
        stem, dot, ext = self.name.rpartition(".")
        return f"{stem}.{self.digest}.{ext}" if dot else f"{self.name}.{self.digest}"

    @property
    def compressible(self) -> bool:
        return self.media_type.startswith(_COMPRESSIBLE)


def _media_type(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith("text/") or kind.endswith("javascript") else kind


class StaticAssets:
    """An ASGI app serving one folder's files under hashed and plain names."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._assets: dict[str, Asset] = {}
        self._lock = threading.Lock()

    def _asset(self, name: str) -> Asset | None:
        """The file `name` (relative, with `/`), re-hashed when it changed on disk since last seen."""
        if name.endswith((".gz", ".br")) or "/." in f"/{name}":
            return None
        path = self.root / name
        try:
            if not path.resolve().is_relative_to(self.root.resolve()) or not path.is_file():
                return None
            mtime = path.stat().st_mtime
        except OSError:
            return None
        known = self._assets.get(name)
        if known is not None and known.mtime == mtime:
            return known
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        asset = Asset(path, name, digest, mtime, _media_type(path))
        with self._lock:
            self._assets[name] = asset
        return asset

    def url(self, name: str) -> str:
        """The hashed URL of a static file (the plain one if it does not exist)."""
        asset = self._asset(name)
        return f"/static/{asset.hashed}" if asset else f"/static/{name}"

    def _lookup(self, name: str) -> tuple[Asset | None, bool]:
        match = _HASHED.match(name)
        if match:
            asset = self._asset(match["stem"] + match["ext"])
            if asset is not None and asset.digest == match["hash"]:
                return asset, True
        return self._asset(name), False

    def _packed(self, asset: Asset, encoding: str) -> bytes | None:
        if encoding in asset.packed:
            return asset.packed[encoding]
        ready = asset.path.with_name(asset.path.name + (".br" if encoding == "br" else ".gz"))
        if ready.exists() and ready.stat().st_mtime >= asset.mtime:
            data = ready.read_bytes()
        else:
            raw = asset.path.read_bytes()
            if len(raw) < 512:
                return None
            # Not precompressed (a committed file, or set-up not run again): a quick level, once.
            quality = 5 if len(raw) > 200_000 else 11
            data = brotli.compress(raw, quality=quality) if encoding == "br" else gzip.compress(raw, 6)
        asset.packed[encoding] = data
        return data

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        name = path[len(root) :] if root and path.startswith(root) else path
        name = name.lstrip("/")
        if scope["method"] not in ("GET", "HEAD"):
            await Response(status_code=405, headers={"Allow": "GET, HEAD"})(scope, receive, send)
            return
        asset, hashed = self._lookup(name)
        if asset is None:
            await Response("Not Found", status_code=404, media_type="text/plain")(scope, receive, send)
            return
        headers = _headers(scope)
        encoding = _encoding(headers.get("accept-encoding", "")) if asset.compressible else None
        body = self._packed(asset, encoding) if encoding else None
        if body is None:
            encoding, body = None, asset.path.read_bytes()
        etag = f'"{asset.digest}{"-" + encoding if encoding else ""}"'
        out = {"Cache-Control": YEAR if hashed else REVALIDATE, "ETag": etag, "Vary": "Accept-Encoding"}
        if encoding:
            out["Content-Encoding"] = encoding
        if etag in headers.get("if-none-match", ""):
            await Response(status_code=304, headers=out)(scope, receive, send)
            return
        content = b"" if scope["method"] == "HEAD" else body
        response = Response(content, headers=out, media_type=asset.media_type)
        response.headers["Content-Length"] = str(len(body))
        await response(scope, receive, send)


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _encoding(accept: str) -> str | None:
    offered = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    refused = {
        part.split(";")[0].strip().lower() for part in accept.split(",") if re.search(r"q=0(\.0*)?\s*$", part)
    }
    for encoding in ("br", "gzip"):
        if encoding in offered and encoding not in refused:
            return encoding
    return None
