"""`itilflow dev` end to end, exactly as a new user meets it.

Starts the command as a subprocess in a temporary data dir, reads the tokens it printed and wrote to
demo-tokens.json, and drives the product over HTTP with them: an incident from report to the
requester's confirmation, a change through CAB approval by the two CAB members, the audit history.
Then Ctrl-C (SIGINT to the process group, as a terminal sends it) must stop every child (the worker
process and the Temporal dev server too), and a restart with the same data dir must keep the records
and the tokens. The worker runs in a child process of its own, not in the API's: Temporal must see it,
and only it, polling. A worker that dies makes `itilflow dev` stop with an error; an `itilflow dev`
that dies takes its worker with it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from client.connection import connect
from core.settings import Settings
from devenv.ports import free_port
from devenv.temporal_cli import find_temporal_cli
from devenv.worker_process import settings_env

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        find_temporal_cli() is None, reason="Temporal CLI not built (itilflow server install)"
    ),
]

START_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0
# Settings that would point `itilflow dev` at another database or Temporal server than its own.
FOREIGN_ENV = ("DATABASE_URL", "ITILFLOW_DATABASE_URL", "TEMPORAL_ADDRESS", "ITILFLOW_TEMPORAL_ADDRESS")


def itilflow_command() -> list[str]:
    script = Path(sys.executable).parent / "itilflow"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "cli"]


def processes_mentioning(text: str) -> list[tuple[int, str]]:
    """Live processes whose command line contains `text` (psutil is not a dependency: read /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # exited meanwhile
        if text in cmdline:
            found.append((int(entry.name), cmdline.strip()))
    return found


def children_of(pid: int) -> list[tuple[int, str]]:
    """Live child processes of `pid` with their command lines (from /proc/<pid>/stat's ppid)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat_line = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat_line.rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, ...
        if fields[0] != "Z" and int(fields[1]) == pid:
            found.append((int(entry.name), cmdline.strip()))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if alive(p)]


async def pollers(temporal_port: int, task_queue: str = "itilflow") -> set[str]:
    """Identities (`pid@host`) Temporal lists as polling the task queue for workflow and activity tasks."""
    client = await connect(f"127.0.0.1:{temporal_port}")
    found: set[str] = set()
    for kind in (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY):
        reply = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace="default", task_queue=TaskQueue(name=task_queue), task_queue_type=kind
            )
        )
        found |= {p.identity for p in reply.pollers}
    return found


@dataclass
class Dev:
    """One `itilflow dev` run."""

    proc: subprocess.Popen[bytes]
    log: Path
    base: str

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"itilflow dev exited with {self.proc.returncode}:\n{self.output()}")
            try:
                r = httpx.get(f"{self.base}/healthz", timeout=5)
                if r.status_code == 200 and "is ready" in self.output():
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        pytest.fail(f"itilflow dev was not healthy within {START_TIMEOUT:g}s:\n{self.output()}")

    def worker_pid(self) -> int:
        """The worker process: a child of `itilflow dev` running worker.child, the only poller."""
        workers = [pid for pid, cmd in children_of(self.proc.pid) if "-m worker.child" in cmd]
        assert len(workers) == 1, f"no worker process among the children: {children_of(self.proc.pid)}"
        (pid,) = workers
        assert pid != self.proc.pid
        return pid

    def wait(self) -> int:
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"itilflow dev did not stop within {STOP_TIMEOUT:g}s:\n{self.output()}")

    def interrupt(self) -> int:
        """Ctrl-C as a terminal sends it (SIGINT to the whole process group), and wait for the exit."""
        os.killpg(self.proc.pid, signal.SIGINT)
        return self.wait()


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / f"dev-{uuid.uuid4().hex[:8]}"
    yield path
    # Whatever the test's outcome, leave nothing running that was started for this data dir.
    for pid, _ in processes_mentioning(str(path)):
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def ports() -> dict[str, int]:
    return {"api": free_port(), "temporal": free_port()}


def start_dev(data_dir: Path, ports: dict[str, int], run: int, *extra: str) -> Dev:
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN_ENV}
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir.parent / f"dev-output-{run}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                *itilflow_command(),
                "dev",
                "--data-dir",
                str(data_dir),
                "--api-port",
                str(ports["api"]),
                "--temporal-port",
                str(ports["temporal"]),
                "--no-ui",
                "--log-level",
                "warning",
                *extra,
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group, like a terminal's foreground job
        )
    dev = Dev(proc=proc, log=log, base=f"http://127.0.0.1:{ports['api']}")
    dev.wait_healthy()
    return dev


class Http:
    """The API as the demo users see it, with the tokens `itilflow dev` handed out."""

    def __init__(self, base: str, tokens: dict[str, str]) -> None:
        self.client = httpx.Client(base_url=base, timeout=30)
        self.tokens = tokens

    def _headers(self, user: str, key: bool) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        if key:
            headers["Idempotency-Key"] = uuid.uuid4().hex
        return headers

    def get(self, user: str, path: str, **params: Any) -> Any:
        r = self.client.get(path, headers=self._headers(user, False), params=params)
        assert r.status_code == 200, f"GET {path} as {user}: {r.status_code} {r.text}"
        return r.json()

    def post(self, user: str, path: str, body: dict[str, Any], status: int = 200) -> Any:
        r = self.client.post(path, headers=self._headers(user, True), json=body)
        assert r.status_code == status, f"POST {path} as {user}: {r.status_code} {r.text}"
        return r.json()

    def fire(self, user: str, record: str, trigger: str, **fields: Any) -> Any:
        body = {"trigger": trigger, "fields": fields}
        return self.post(user, f"/api/v1/processes/{record}/transitions", body)

    def close(self) -> None:
        self.client.close()


def printed_tokens(output: str) -> dict[str, str]:
    """The tokens as printed on the console (`  <user> roles=… / token itf_…`)."""
    tokens: dict[str, str] = {}
    user = None
    for line in output.splitlines():
        m = re.match(r"^  (\S+)\s+roles=", line)
        if m:
            user = m.group(1)
        m = re.match(r"^\s+token (itf_\S+)$", line)
        if m and user:
            tokens[user] = m.group(1)
    return tokens


def incident_lifecycle(api: Http) -> str:
    inc = api.post(
        "requester",
        "/api/v1/processes",
        {
            "definition": "incident",
            "title": "Laptop cannot reach the VPN",
            "fields": {"impact": "3", "urgency": "2"},
        },
        status=201,
    )
    assert inc["state"] == "new" and inc["requester"] == "requester" and inc["number"].startswith("INC")
    monitored = api.post(
        "integrator",
        "/api/v1/processes",
        {
            "definition": "incident",
            "title": "Disk 91% full on db-03",
            "fields": {"impact": "2", "urgency": "2"},
        },
        status=201,
    )
    assert monitored["requester"] == "integrator" and monitored["assignment_group"] == "service_desk"

    seen = api.get("agent", f"/api/v1/processes/{inc['id']}")
    assert "accept" in {t["trigger"] for t in seen["available_transitions"]}
    assert api.fire("agent", inc["id"], "accept", assignee="agent")["state"] == "in_progress"
    resolved = api.fire(
        "agent",
        inc["id"],
        "resolve",
        category="network",
        resolution_code="solved_permanently",
        resolution_notes="Re-issued the VPN profile.",
    )
    assert resolved["state"] == "resolved" and resolved["fields"]["resolved_by"] == "agent"
    closed = api.fire("requester", inc["id"], "confirm")
    assert closed["state"] == "closed" and closed["state_category"] == "closed"

    history = api.get("requester", f"/api/v1/processes/{inc['id']}/history")
    moves = [(h["from_state"], h["to_state"]) for h in history if h["to_state"] and h["from_state"]]
    assert moves[-3:] == [("new", "in_progress"), ("in_progress", "resolved"), ("resolved", "closed")]
    assert {h["actor"] for h in history} >= {"requester", "agent"}
    return str(inc["id"])


def change_through_cab(api: Http) -> str:
    chg = api.post(
        "requester",
        "/api/v1/processes",
        {
            "definition": "change",
            "title": "Rotate the TLS certificates of the portal",
            "fields": {"change_type": "normal"},
        },
        status=201,
    )
    assert chg["state"] == "new"
    assert api.fire("change_manager", chg["id"], "assess", assignee="change_manager")["state"] == "assessment"
    start = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    submitted = api.fire(
        "change_manager",
        chg["id"],
        "submit",
        risk="low",
        risk_assessment="Certificates are swapped one node at a time.",
        business_impact="None expected.",
        affected_cis=["portal"],
        implementation_plan="Install the new certificates and reload nginx on each node.",
        backout_plan="Reinstall the old certificates.",
        test_plan="Check the certificate chain from outside.",
        implementer="engineer",
        planned_start=start.isoformat(),
        planned_end=(start + timedelta(hours=1)).isoformat(),
    )
    assert submitted["state"] == "cab_review"

    for i, member in enumerate(("cab1", "cab2")):
        inbox = api.get(member, "/api/v1/approvals", status="pending")
        task = next((t for t in inbox if t["record"]["id"] == chg["id"]), None)
        assert task is not None, f"{member} has no approval task for {chg['number']}: {inbox}"
        outcome = api.post(member, f"/api/v1/approvals/{task['id']}/decision", {"decision": "approve"})
        assert outcome["state"] == ("pending" if i == 0 else "approved")
    after = api.get("requester", f"/api/v1/processes/{chg['id']}")
    assert after["state"] == "scheduled"
    assert [a["state"] for a in after["approvals"]] == ["approved"]
    return str(chg["id"])


def assert_worker_in_own_process(dev: Dev, temporal_port: int) -> int:
    worker = dev.worker_pid()
    # Not asyncio.run: it leaves the main thread without an event loop, which the async tests
    # that run after this file (pytest-asyncio) then fail to find.
    loop = asyncio.new_event_loop()
    try:
        identities = loop.run_until_complete(pollers(temporal_port))
    finally:
        loop.close()
    assert identities and {i.split("@")[0] for i in identities} == {str(worker)}, (
        f"pollers {identities}: expected only the worker process {worker} (itilflow dev is {dev.proc.pid})"
    )
    return worker


def test_itilflow_dev_end_to_end(data_dir: Path, ports: dict[str, int]) -> None:
    dev = start_dev(data_dir, ports, 1)
    worker = assert_worker_in_own_process(dev, ports["temporal"])
    tokens_file = data_dir / "demo-tokens.json"
    assert stat.S_IMODE(tokens_file.stat().st_mode) == 0o600
    written = json.loads(tokens_file.read_text())
    tokens = {user: info["token"] for user, info in written.items()}
    assert printed_tokens(dev.output()) == tokens
    assert {"agent", "cab1", "cab2", "release_manager", "owner", "integrator", "requester", "admin"} <= set(
        tokens
    )
    assert written["cab1"]["groups"] == ["cab", "ecab"] and written["cab1"]["roles"] == ["approver"]
    assert "process_owner" in written["owner"]["roles"] and "integrator" in written["integrator"]["roles"]
    assert f"{dev.base}/docs" in dev.output()
    # The web page's sign-in offers the demo users (dev only), never the service account.
    sign_in = httpx.get(f"{dev.base}/ui/sign-in", timeout=30)
    assert sign_in.status_code == 200 and "cab1" in sign_in.text and "requester" in sign_in.text
    assert "integrator" not in sign_in.text

    api = Http(dev.base, tokens)
    try:
        definitions = {d["key"]: d for d in api.get("requester", "/api/v1/definitions")}
        assert {"incident", "change", "release", "problem", "handover"} <= set(definitions)
        assert all(d["status"] == "published" for d in definitions.values())
        # The demo data: a change waiting for the CAB is in both members' inboxes.
        demo = [
            t
            for t in api.get("cab1", "/api/v1/approvals", status="pending")
            if t["record"]["state"] == "cab_review"
        ]
        assert len(demo) == 1
        incident = incident_lifecycle(api)
        change = change_through_cab(api)
        count = len(api.get("admin", "/api/v1/processes", limit=100)["items"])
    finally:
        api.close()

    assert dev.interrupt() == 0, dev.output()
    assert "Stopped." in dev.output()
    assert "Traceback" not in dev.output()
    assert processes_mentioning(str(data_dir)) == [], "a child of itilflow dev outlived it"
    assert not alive(worker), "the worker process outlived itilflow dev"

    again = start_dev(data_dir, ports, 2)
    worker = assert_worker_in_own_process(again, ports["temporal"])
    assert json.loads(tokens_file.read_text()) == written  # the same tokens, still valid
    assert printed_tokens(again.output()) == tokens
    api = Http(again.base, tokens)
    try:
        for user in ("requester", "cab2", "admin"):
            assert api.get(user, "/api/v1/me")["username"] == user
        assert api.get("requester", f"/api/v1/processes/{incident}")["state"] == "closed"
        assert api.get("requester", f"/api/v1/processes/{change}")["state"] == "scheduled"
        # Nothing was seeded twice and nothing was lost.
        assert len(api.get("admin", "/api/v1/processes", limit=100)["items"]) == count
        assert all(d["version"] == 1 for d in api.get("owner", "/api/v1/definitions"))
        # Workflows survived the restart: the running demo change still takes decisions.
        assert api.get("cab2", "/api/v1/approvals", status="pending")
    finally:
        api.close()
    assert again.interrupt() == 0, again.output()
    assert processes_mentioning(str(data_dir)) == []
    assert not alive(worker)
    assert "Traceback" not in again.output()


def test_dev_stops_when_its_worker_dies(data_dir: Path, ports: dict[str, int]) -> None:
    dev = start_dev(data_dir, ports, 1, "--no-demo")
    worker = assert_worker_in_own_process(dev, ports["temporal"])
    os.kill(worker, signal.SIGKILL)
    assert dev.wait() == 1, dev.output()
    assert f"worker process (pid {worker}) was killed by SIGKILL" in dev.output()
    assert processes_mentioning(str(data_dir)) == [], "Temporal outlived itilflow dev"


def test_worker_dies_with_dev(data_dir: Path, ports: dict[str, int]) -> None:
    """A dev process killed outright (no chance to stop anything) still takes its children along."""
    dev = start_dev(data_dir, ports, 1, "--no-demo")
    worker = assert_worker_in_own_process(dev, ports["temporal"])
    dev.proc.kill()
    dev.proc.wait(timeout=STOP_TIMEOUT)
    assert wait_gone([worker], STOP_TIMEOUT) == [], "the worker process outlived a killed itilflow dev"
    temporal = [pid for pid, _ in processes_mentioning(str(data_dir))]
    assert wait_gone(temporal, STOP_TIMEOUT) == [], "Temporal outlived a killed itilflow dev"


def test_worker_settings_go_through_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The worker process gets the dev process's settings, secrets included, in its environment (not
    on its command line), whatever the shell had set."""
    settings = Settings(
        data_dir=tmp_path,
        database_url="postgresql://itilflow:s3cret@db/itilflow",
        temporal_address="127.0.0.1:1",
        temporal_namespace="ns",
        task_queue="tq",
        smtp_host="mail",
        smtp_port=2525,
        smtp_password=SecretStr("mail-secret"),
        smtp_tls_verify=False,
        smtp_timeout=2.5,
        webhook_url="http://hook",
        webhook_secret=SecretStr("hook-secret"),
        dev_login=True,
    )
    shell = {"DATABASE_URL": "sqlite:///other.db", "itilflow_task_queue": "other", "TEMPORAL_ADDRESS": "x:1"}
    env = settings_env(settings, base={**shell, "PATH": "/bin"})
    assert env["PATH"] == "/bin" and "itilflow_task_queue" not in env
    for key in list(os.environ):
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    child = Settings()
    assert child.model_dump() == settings.model_dump()
    assert child.smtp_password is not None and child.smtp_password.get_secret_value() == "mail-secret"
    assert child.webhook_secret is not None and child.webhook_secret.get_secret_value() == "hook-secret"
