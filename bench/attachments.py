"""Attachment throughput (issue 20): 10 MB files uploaded to a record and downloaded back through the
HTTP API of an `itilflow dev` in a temporary folder (uvicorn, a real Temporal server, SQLite, the
default content-addressed disk store).

    python -m bench.attachments [--quick] [--files N] [--mb M]

Each upload is one multipart POST (the file is hashed while it is staged, stored under its SHA-256,
then the record takes the attachment by a Temporal Update); each download streams the file back and
is checked against its digest. Uploads and downloads run one after another from one client, so the
figures are a single client's throughput. Prints the figures, then one JSON object on the last line:
{"files", "file_mb", "upload_mb_per_s", "download_mb_per_s", "upload_p50_s", "upload_p99_s",
"download_p50_s", "download_p99_s"}. No timed asserts anywhere.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time

import httpx

from bench.common import dev_subprocess, percentile


def run(files: int, mb: float, log_level: str) -> dict[str, float]:
    size = int(mb * 1_000_000)
    up: list[float] = []
    down: list[float] = []
    with dev_subprocess(log_level) as target, httpx.Client(base_url=target.base, timeout=120) as http:
        headers = {"Authorization": f"Bearer {target.tokens['agent']}"}
        body = {
            "definition": "incident",
            "title": "Attachment bench",
            "fields": {"impact": "2", "urgency": "2"},
        }
        r = http.post("/api/v1/processes", json=body, headers=headers)
        r.raise_for_status()
        number = r.json()["number"]
        uploaded: list[tuple[str, str]] = []
        for i in range(files):
            data = os.urandom(size)  # distinct bytes: every upload is a new object in the store
            started = time.perf_counter()
            r = http.post(
                f"/api/v1/processes/{number}/attachments",
                files={"file": (f"bench-{i}.zip", data, "application/zip")},
                headers=headers,
            )
            up.append(time.perf_counter() - started)
            r.raise_for_status()
            uploaded.append((r.json()["id"], hashlib.sha256(data).hexdigest()))
        for attachment, digest in uploaded:
            started = time.perf_counter()
            got = hashlib.sha256()
            with http.stream(
                "GET", f"/api/v1/processes/{number}/attachments/{attachment}", headers=headers
            ) as s:
                s.raise_for_status()
                for chunk in s.iter_bytes():
                    got.update(chunk)
            down.append(time.perf_counter() - started)
            if got.hexdigest() != digest:
                raise SystemExit(f"attachment {attachment}: the downloaded bytes differ")
    total_mb = files * size / 1_000_000
    return {
        "files": files,
        "file_mb": mb,
        "upload_mb_per_s": round(total_mb / sum(up), 1),
        "download_mb_per_s": round(total_mb / sum(down), 1),
        "upload_p50_s": round(percentile(up, 50), 3),
        "upload_p99_s": round(percentile(up, 99), 3),
        "download_p50_s": round(percentile(down, 50), 3),
        "download_p99_s": round(percentile(down, 99), 3),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="5 files (about a minute with start-up)")
    p.add_argument("--files", type=int, default=None, help="files to upload and download (default 30)")
    p.add_argument("--mb", type=float, default=10.0, help="size of each file in MB (default 10)")
    p.add_argument("--log-level", default="warning")
    args = p.parse_args()
    files = args.files or (5 if args.quick else 30)
    figures = run(files, args.mb, args.log_level)
    print(f"{files} files of {args.mb:g} MB through the API (one client, disk store)")
    for way in ("upload", "download"):
        f = {k.removeprefix(way + "_"): v for k, v in figures.items() if k.startswith(way)}
        print(f"{way:9} {f['mb_per_s']} MB/s  p50 {f['p50_s']} s  p99 {f['p99_s']} s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
