"""A full run of the production processes, `itilflow api` and `itilflow worker`, on a real Temporal
server: sign-in with a password, API tokens, a signed webhook (failing once, then delivered), a metrics
token, an OTLP collector with an API key. Their logs are JSON lines (the action's with its record,
workflow id and trace id), and none of those secrets appears in them; the worker's /metrics counts
the webhook's failure and delivery; the worker's spans reach the collector."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from api.auth import issue_token
from api.identity.accounts import set_password
from core.db import session_scope
from core.settings import Settings
from core.store import upsert_user
from devenv.ports import free_port
from tests.api.conftest import MINI
from tests.api.otlp_receiver import Receiver
from tests.api.test_metrics import parse, value

PASSWORD = "Quiet-harbour-lantern-77"
WRONG_PASSWORD = "Loud-harbour-lantern-78"
WEBHOOK_SECRET = "whsec-never-in-a-log-5f2a"
METRICS_TOKEN = "metrics-never-in-a-log-9c1d"
OTLP_KEY = "otlp-never-in-a-log-3b7e"


class Hook:
    """A webhook endpoint that fails the first delivery (500) and takes the rest."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.failed = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = 500 if hook.failed == 0 else 200
                if status == 500:
                    hook.failed += 1
                else:
                    hook.bodies.append(body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "cli", *args], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=os.getcwd()
    )


def _wait_for(what: str, check: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what} not ready within {timeout:g}s")


def test_production_processes_log_json_without_secrets(
    settings: Settings,
    database_url: str,
    db_engine: Engine,
    tmp_path: Path,
    hook: Hook,
    receiver: Receiver,
) -> None:
    name = f"log{uuid.uuid4().hex[:6]}"
    with session_scope(db_engine) as session:
        upsert_user(session, username=name, roles=["agent", "process_owner"], language="en", email=None)
        owner_token = issue_token(session, username=name, name="tests")
        set_password(session, settings, username=name, password=PASSWORD, actor="tests")
    api_port, metrics_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ITILFLOW_", "OTEL_"))},
        "PYTHONPATH": os.getcwd(),
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": settings.temporal_address or "",
        "ITILFLOW_TASK_QUEUE": settings.task_queue,
        "ITILFLOW_WEBHOOK_URL": hook.url,
        "ITILFLOW_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "ITILFLOW_METRICS_TOKEN": METRICS_TOKEN,
        "ITILFLOW_WORKER_METRICS_PORT": str(metrics_port),
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        "OTEL_EXPORTER_OTLP_HEADERS": f"authorization=Bearer {OTLP_KEY}",
    }
    api_log, worker_log = tmp_path / "api.log", tmp_path / "worker.log"
    worker = _start(["worker"], env, worker_log)
    api = _start(["api", "--port", str(api_port), "--log-level", "debug"], env, api_log)
    base = f"http://127.0.0.1:{api_port}"
    try:
        _wait_for("the API", lambda: httpx.get(f"{base}/healthz", timeout=2).status_code == 200)
        _wait_for("the worker", lambda: b"worker polling task queue" in worker_log.read_bytes())
        with httpx.Client(base_url=base, timeout=30) as http:
            bearer = {"Authorization": f"Bearer {owner_token}"}
            # Sign in on the web page with the password (right, then wrong).
            r = http.post("/ui/sign-in", data={"username": name, "password": PASSWORD})
            assert r.status_code == 303, r.text
            http.cookies.clear()
            r = http.post("/ui/sign-in", data={"username": name, "password": WRONG_PASSWORD})
            assert r.status_code == 401
            # A wrong token, then the API with the right one: publish, create, act.
            assert (
                http.get("/api/v1/processes", headers={"Authorization": "Bearer itf_wrong"}).status_code
                == 401
            )
            key = f"log_{uuid.uuid4().hex[:8]}"
            r = http.post(
                "/api/v1/definitions",
                content=MINI.replace("key: mini\n", f"key: {key}\n", 1),
                headers={**bearer, "Content-Type": "application/yaml"},
            )
            assert r.status_code == 201, r.text
            r = http.post(f"/api/v1/definitions/{key}/versions/{r.json()['version']}/publish", headers=bearer)
            assert r.status_code == 200, r.text
            body = {"definition": key, "title": "Mail is down", "fields": {"impact": "2", "urgency": "2"}}
            rec = http.post("/api/v1/processes", json=body, headers=bearer).json()
            r = http.post(
                f"/api/v1/processes/{rec['id']}/transitions",
                json={"trigger": "accept", "fields": {"assignee": name}},
                headers=bearer,
            )
            assert r.status_code == 200, r.text
            # The accept notifies the assignee: the webhook fails once, then is delivered (retried).
            _wait_for("the webhook", lambda: hook.bodies, timeout=60)
            assert http.get("/metrics").status_code == 401
            assert (
                http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).status_code == 200
            )
        worker_metrics = f"http://127.0.0.1:{metrics_port}/metrics"
        assert httpx.get(worker_metrics).status_code == 401
        scraped = parse(httpx.get(worker_metrics, headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text)
        assert value(scraped, "itilflow_notifications_total", channel="webhook", outcome="failed") >= 1
        assert value(scraped, "itilflow_notifications_total", channel="webhook", outcome="delivered") >= 1
        assert value(scraped, "temporal_worker_task_slots_available") > 0 or any(
            n.startswith("temporal_workflow_task") for n, _ in scraped
        )
    finally:
        for process in (api, worker):
            process.terminate()
        for process in (api, worker):
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()

    # Spans from both processes reached the collector, with its API key.
    assert {"itilflow-api", "itilflow-worker"} <= receiver.services, receiver.services
    assert receiver.authorizations == {f"Bearer {OTLP_KEY}"}

    logs = {"api": api_log.read_text(), "worker": worker_log.read_text()}
    for process, text in logs.items():
        for secret in (PASSWORD, WRONG_PASSWORD, owner_token, WEBHOOK_SECRET, METRICS_TOKEN, OTLP_KEY):
            assert secret not in text, f"a secret in the {process} log"
        lines = [line for line in text.splitlines() if line.strip()]
        assert lines, process
        for line in lines:
            json.loads(line)  # every line one JSON object
    api_lines = [json.loads(line) for line in logs["api"].splitlines() if line.strip()]
    action = next(line for line in api_lines if line["message"].startswith("action accept"))
    assert action["record"] == rec["number"] and action["workflow_id"] == rec["id"]
    assert len(action["trace_id"]) == 32
    # The access log names the requests (never their headers).
    assert any("POST /api/v1/processes" in line["message"] for line in api_lines)
    worker_lines = [json.loads(line) for line in logs["worker"].splitlines() if line.strip()]
    failed = [line for line in worker_lines if "failed" in line["message"] and line.get("workflow_id")]
    assert failed and failed[0]["workflow_id"] == rec["id"], worker_lines
