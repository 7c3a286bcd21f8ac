"""The attachment store (issue 20, docs/attachments.md): files kept by the SHA-256 of their bytes.

Content addressing makes a store write idempotent (the same file twice is one object; a retried upload
writes nothing new) and lets a download check what it serves. Two stores: a folder on disk (default,
`data_dir/attachments/ab/cd/<sha256>`) and an S3-compatible bucket (`minio`, the MinIO client: small,
maintained, speaks to any S3-compatible server). The record's workflow only ever sees the metadata.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from core.settings import Settings

CHUNK = 1024 * 1024


class TooLarge(Exception):
    """The file passed the size limit while it was read (nothing is kept)."""


@dataclass(frozen=True)
class Staged:
    """A file read whole into a temporary file of the store's, with its digest and size."""

    path: Path
    sha256: str
    size: int


class BlobStore(Protocol):
    def staging_dir(self) -> Path: ...

    def put(self, staged: Staged) -> bool:
        """Keep the staged file under its digest (the staged file is gone after); True when new."""
        ...

    def exists(self, sha256: str) -> bool: ...

    def read(self, sha256: str) -> Iterator[bytes]:
        """The file's bytes in chunks; FileNotFoundError when the store does not have it."""
        ...

    def delete(self, sha256: str) -> None: ...


def stage(source: BinaryIO, limit: int, store: BlobStore) -> Staged:
    """Copy `source` to a temporary file, hashing as it goes; TooLarge past `limit` bytes."""
    digest = hashlib.sha256()
    size = 0
    handle, name = tempfile.mkstemp(dir=store.staging_dir(), prefix="upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(size)
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        os.unlink(name)
        raise
    return Staged(Path(name), digest.hexdigest(), size)


class DiskStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / ".staging").mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def staging_dir(self) -> Path:
        return self.root / ".staging"

    def put(self, staged: Staged) -> bool:
        target = self.path(staged.sha256)
        if target.exists():
            staged.path.unlink(missing_ok=True)
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(staged.path, "rb") as f:
            os.fsync(f.fileno())  # the bytes are on disk before the record says the file is attached
        os.replace(staged.path, target)  # atomic: a reader sees the whole file or none
        return True

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def read(self, sha256: str) -> Iterator[bytes]:
        with open(self.path(sha256), "rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)


class S3Store:
    """An S3-compatible bucket; objects keyed `sha256/<digest>`. Staging stays on local disk."""

    def __init__(self, settings: Settings, staging: Path) -> None:
        from minio import Minio  # imported only when configured: the disk store needs nothing

        if not settings.s3_endpoint:
            raise ValueError("ITILFLOW_S3_ENDPOINT is required with ITILFLOW_ATTACHMENT_STORE=s3")
        self.client = Minio(
            settings.s3_endpoint,
            access_key=settings.s3_access_key.get_secret_value() if settings.s3_access_key else None,
            secret_key=settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None,
            secure=settings.s3_secure,
            region=settings.s3_region,
        )
        self.bucket = settings.s3_bucket
        self._staging = staging
        staging.mkdir(parents=True, exist_ok=True)
        self._bucket_checked = False

    def _key(self, sha256: str) -> str:
        return f"sha256/{sha256}"

    def _ensure_bucket(self) -> None:
        if not self._bucket_checked:
            if not self.client.bucket_exists(self.bucket):
                self.client.make_bucket(self.bucket)
            self._bucket_checked = True

    def staging_dir(self) -> Path:
        return self._staging

    def put(self, staged: Staged) -> bool:
        self._ensure_bucket()
        try:
            if self.exists(staged.sha256):
                return False
            self.client.fput_object(self.bucket, self._key(staged.sha256), str(staged.path))
            return True
        finally:
            staged.path.unlink(missing_ok=True)

    def exists(self, sha256: str) -> bool:
        from minio.error import S3Error

        try:
            self.client.stat_object(self.bucket, self._key(sha256))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchBucket", "NoSuchObject"):
                return False
            raise
        return True

    def read(self, sha256: str) -> Iterator[bytes]:
        from minio.error import S3Error

        try:
            response = self.client.get_object(self.bucket, self._key(sha256))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchBucket"):
                raise FileNotFoundError(sha256) from None
            raise
        try:
            yield from response.stream(CHUNK)
        finally:
            response.close()
            response.release_conn()

    def delete(self, sha256: str) -> None:
        self.client.remove_object(self.bucket, self._key(sha256))


def store_for(settings: Settings) -> BlobStore:
    root = settings.attachment_dir or settings.data_dir / "attachments"
    if settings.attachment_store == "s3":
        return S3Store(settings, root / ".staging")
    return DiskStore(root)
