"""`itilflow dev` end to end, exactly as a new user meets it.

Starts the command as a subprocess in a temporary data dir, reads the tokens it printed and wrote to
demo-tokens.json, and drives the product over HTTP with them: an incident from report to the
requester's confirmation, a change through CAB approval by the two CAB members, the audit history.
Then Ctrl-C (SIGINT) must stop every child (the Temporal dev server too), and a restart with the same
data dir must keep the records and the tokens.
"""

from __future__ import annotations

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

from core.devserver import find_temporal_cli, free_port

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

    def interrupt(self) -> int:
        """Ctrl-C, and wait for the process to exit."""
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"itilflow dev did not stop within {STOP_TIMEOUT:g}s of SIGINT:\n{self.output()}")


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


def start_dev(data_dir: Path, ports: dict[str, int], run: int) -> Dev:
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
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
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


def test_itilflow_dev_end_to_end(data_dir: Path, ports: dict[str, int]) -> None:
    dev = start_dev(data_dir, ports, 1)
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
    assert processes_mentioning(str(data_dir)) == [], "a child of itilflow dev outlived it"

    again = start_dev(data_dir, ports, 2)
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
