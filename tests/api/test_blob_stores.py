"""The attachment stores (core/blobs.py): on disk, and in an S3-compatible bucket served by a real
local S3-compatible server (moto's server mode, from PyPI) — put once by digest, read back, delete."""

from __future__ import annotations

import hashlib
import io
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.blobs import BlobStore, DiskStore, S3Store, TooLarge, stage
from core.settings import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop()


def _round_trip(store: BlobStore) -> None:
    data = b"\x00evidence\xff" * 50_000
    staged = stage(io.BytesIO(data), len(data), store)
    assert staged.sha256 == hashlib.sha256(data).hexdigest() and staged.size == len(data)
    assert store.put(staged) is True
    again = stage(io.BytesIO(data), len(data), store)
    assert store.put(again) is False  # the same bytes are kept once
    assert not again.path.exists() and not staged.path.exists()
    assert store.exists(staged.sha256)
    assert b"".join(store.read(staged.sha256)) == data
    store.delete(staged.sha256)
    assert not store.exists(staged.sha256)
    with pytest.raises(TooLarge):
        stage(io.BytesIO(data), len(data) - 1, store)
    assert list(store.staging_dir().iterdir()) == []


def test_disk_store(tmp_path: Path) -> None:
    store = DiskStore(tmp_path)
    _round_trip(store)
    with pytest.raises(FileNotFoundError):
        b"".join(store.read("0" * 64))


def test_s3_store_against_a_local_s3_server(tmp_path: Path, s3_endpoint: str) -> None:
    settings = Settings(
        attachment_store="s3",
        s3_endpoint=s3_endpoint,
        s3_bucket="evidence",
        s3_access_key=SecretStr("testing"),
        s3_secret_key=SecretStr("testing"),
        s3_region="us-east-1",
        s3_secure=False,
    )
    store = S3Store(settings, tmp_path / "staging")
    _round_trip(store)
    with pytest.raises(FileNotFoundError):
        b"".join(store.read("0" * 64))
