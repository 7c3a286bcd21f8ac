"""Engine benchmark (issue 2): figures, not pass/fail.

In one run, against a Temporal dev server and a SQLite read model in a temporary folder:

1. lifecycles: N records of bench/fixtures/lifecycle.yaml driven through six steps (start, accept,
   submit, an approval decision, resolve, close) through the Temporal client, `--in-flight` at a time;
   then the same number of lifecycles of a bare baseline workflow (bench/baseline.py, on its own worker):
   the same start + ready + five updates, each step one activity that INSERTs a row into a SQLite file.
   Reports lifecycles/s for both, their ratio, and our engine's update latency p50/p99.
2. timers: `--deadlines` records of bench/fixtures/sla.yaml whose SLA deadlines all fall within the same
   0.1 s, and the lag from each deadline (the `sla_threshold` audit event's `at`) to the escalation
   it causes (the `notify` activity's `notifications.created_at`, taken when the activity runs).
3. worker_rss_mb: the peak RSS (VmHWM) of the engine worker, which runs in its own process so the
   client's load does not count.

Run from the project root: `.venv/bin/python -m bench.engine [--quick]` (`make bench` runs it as a
script, `python bench/engine.py`, which works too). The last line printed is one JSON object with the
headline figures. Uses $TEMPORAL_ADDRESS when set, else starts a dev server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import signal
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script (`make bench`): `bench` is a package of the root
    sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from sqlalchemy import Engine  # noqa: E402
from sqlmodel import col, select  # noqa: E402
from temporalio.client import Client  # noqa: E402

from bench.baseline import baseline_lifecycle, baseline_worker  # noqa: E402
from bench.common import CpuMeter, percentile, pool, temporal_server_pid, timed  # noqa: E402
from client.connection import connect  # noqa: E402
from client.launch import launch_record  # noqa: E402
from core.db import make_engine, migrate, session_scope  # noqa: E402
from core.store import upsert_user  # noqa: E402
from core.tables import AuditRow, NotificationRow  # noqa: E402
from definitions.loader import PinnedDefinition, from_data, load_file, pin  # noqa: E402
from devenv.temporal_server import temporal_server  # noqa: E402
from worker.registry import build_worker  # noqa: E402
from workflows.contracts import (  # noqa: E402
    Actor,
    DecideApprovalInput,
    FireTransitionInput,
    RecordSnapshot,
    UpdateFieldsInput,
)
from workflows.process import ProcessWorkflow  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
SLA_GRID = 0.1  # seconds between the generated SLA targets: deadlines align within this
SLA_MIN_LEAD = 3.0  # seconds between a record's start and the common deadline, at least

DIRECTORY = [
    # username, roles, groups
    ("bench_requester", ["requester"], []),
    ("bench_agent", ["agent"], ["bench_desk"]),
    ("bench_approver", ["approver"], ["bench_cab"]),
]
REQUESTER = Actor(username="bench_requester", roles=["requester"])
AGENT = Actor(username="bench_agent", roles=["agent"], groups=["bench_desk"])
APPROVER = Actor(username="bench_approver", roles=["approver"], groups=["bench_cab"])


# --- workers, each in its own process -------------------------------------------------------------------


async def _serve(kind: str, address: str, database_url: str, task_queue: str) -> None:
    client = await connect(address)
    engine = make_engine(database_url)
    if kind == "engine":
        worker = build_worker(client, engine, task_queue)
    else:
        worker = baseline_worker(client, engine, task_queue)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with worker:
        print("READY", flush=True)
        await stop.wait()


def serve_main() -> None:
    """Entry point of a worker subprocess: `<kind> <address> <database url> <task queue>`."""
    kind, address, database_url, task_queue = sys.argv[1:5]
    if os.environ.get("ITILFLOW_BENCH_LOG"):  # the worker's own log, e.g. to see replaced audit rows
        logging.basicConfig(level=os.environ["ITILFLOW_BENCH_LOG"], stream=sys.stderr)
    asyncio.run(_serve(kind, address, database_url, task_queue))


def cpu_meter(worker_pid: int) -> CpuMeter:
    """CPU seconds used by the worker, the client (this process) and the dev server during a phase.

    On a machine with two shared cores these say where the time goes: Temporal, the worker or the client.
    """
    pids = {"worker": worker_pid, "client": os.getpid()}
    server = temporal_server_pid()
    if server is not None:
        pids["server"] = server
    return CpuMeter(pids)


class WorkerProcess:
    """A worker in a subprocess: its peak RSS is the worker's own, not the load generator's."""

    def __init__(self, proc: asyncio.subprocess.Process, log: Path) -> None:
        self.proc = proc
        self.log = log
        self.pid = proc.pid

    def peak_rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no VmHWM in /proc/{self.proc.pid}/status")


@contextlib.asynccontextmanager
async def worker_process(
    kind: str, address: str, database_url: str, task_queue: str, tmp: Path
) -> AsyncIterator[WorkerProcess]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    log = tmp / f"worker-{kind}.log"
    with log.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "from bench.engine import serve_main; serve_main()",
            kind,
            address,
            database_url,
            task_queue,
            stdout=asyncio.subprocess.PIPE,
            stderr=err,
            cwd=ROOT,
            env=env,
        )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=120)
        if line.strip() != b"READY":
            raise RuntimeError(f"{kind} worker did not start:\n{log.read_text()[-3000:]}")
        yield WorkerProcess(proc, log)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), timeout=30)
            except TimeoutError:
                proc.kill()
                await proc.wait()


# --- measuring ------------------------------------------------------------------------------------------


def describe(values: list[float]) -> str:
    if not values:
        return "no samples"
    p50, p99 = percentile(values, 50), percentile(values, 99)
    return f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {max(values):.0f} ms (n={len(values)})"


@dataclass
class Timings:
    updates_ms: list[float] = field(default_factory=list)
    launches_ms: list[float] = field(default_factory=list)


async def engine_lifecycle(
    client: Client, engine: Engine, task_queue: str, pinned: PinnedDefinition, t: Timings
) -> None:
    record_id = uuid.uuid4().hex[:20]
    await timed(
        t.launches_ms,
        launch_record(
            client,
            engine,
            task_queue=task_queue,
            pinned=pinned,
            record_id=record_id,
            title="Benchmark record",
            fields={},
            actor=REQUESTER,
        ),
    )
    handle = client.get_workflow_handle_for(ProcessWorkflow.run, record_id)

    async def fire(actor: Actor, trigger: str, **fields: str) -> RecordSnapshot:
        inp = FireTransitionInput(actor=actor, trigger=trigger, fields=fields)
        return await timed(t.updates_ms, handle.execute_update(ProcessWorkflow.fire_transition, inp))

    await fire(AGENT, "accept", assignee="bench_agent")
    snap = await fire(AGENT, "submit", plan="swap the disk")
    pending = [a for a in snap.approvals if a.state == "pending"]
    if snap.state != "approval" or not pending:
        raise RuntimeError(f"{snap.number}: expected a pending approval, got state {snap.state}")
    decision = DecideApprovalInput(actor=APPROVER, approval_id=pending[0].id, decision="approve")
    snap = await timed(t.updates_ms, handle.execute_update(ProcessWorkflow.decide_approval, decision))
    if snap.state != "implementing":
        raise RuntimeError(f"{snap.number}: approved but in state {snap.state}")
    await fire(AGENT, "resolve", resolution="disk swapped")
    snap = await fire(AGENT, "close")
    if not snap.final:
        raise RuntimeError(f"{snap.number}: not closed after the last step (state {snap.state})")


@dataclass
class Throughput:
    per_s: float
    wall_s: float


async def measure(
    count: int, in_flight: int, warmup: int, worker_pid: int, one: Callable[[], Awaitable[None]]
) -> Throughput:
    # A few lifecycles first, so that worker start-up (imports, sandbox, caches) is not measured.
    await pool(warmup, in_flight, lambda _: one())
    cpu = cpu_meter(worker_pid)
    wall = await pool(count, in_flight, lambda _: one())
    print(f"      CPU ms per lifecycle: {cpu.per_item_ms(count)}")
    return Throughput(per_s=count / wall, wall_s=wall)


# --- SLA deadlines due in the same second --------------------------------------------------------------


def sla_definition(max_target_s: float) -> PinnedDefinition:
    """bench/fixtures/sla.yaml plus a target (and a matrix entry) every SLA_GRID seconds.

    Urgency "<n>" with impact "go" gives priority "<n>", whose target is n * SLA_GRID seconds.
    """
    data = yaml.safe_load((FIXTURES / "sla.yaml").read_text())
    steps = range(math.floor(SLA_MIN_LEAD / SLA_GRID), math.ceil(max_target_s / SLA_GRID) + 1)
    data["priority_matrix"]["matrix"]["go"] = {str(n): str(n) for n in steps}
    targets = data["slas"][0]["targets"]
    targets.update({str(n): round(n * SLA_GRID, 3) for n in steps})
    result = from_data(data)
    if not result.ok or result.definition is None:
        raise RuntimeError("bench SLA definition is invalid: " + "; ".join(map(str, result.issues)))
    return pin(result.definition, 1)


@dataclass
class TimerFigures:
    lags_ms: list[float]
    spread_ms: float
    off_grid: int
    late_retargets: int


async def sla_deadlines(
    client: Client,
    engine: Engine,
    task_queue: str,
    *,
    count: int,
    in_flight: int,
    seconds_per_record: float,
    worker_pid: int,
) -> TimerFigures:
    # Start + re-prioritise every record before the common deadline, with room to spare.
    window = count * seconds_per_record * 1.5 + 5.0
    max_target = window + SLA_MIN_LEAD + 5.0
    pinned = sla_definition(max_target)
    deadline = datetime.now(UTC) + timedelta(seconds=window + SLA_MIN_LEAD)
    off_grid = late = 0
    print(f"  starting {count} records; common deadline in {window + SLA_MIN_LEAD:.1f} s", flush=True)

    async def one(_: int) -> None:
        nonlocal off_grid, late
        record_id = uuid.uuid4().hex[:20]
        snap = await launch_record(
            client,
            engine,
            task_queue=task_queue,
            pinned=pinned,
            record_id=record_id,
            title="Benchmark SLA record",
            fields={"impact": "hold", "urgency": "hold"},
            actor=AGENT,
        )
        # The clock started with the record: its deadline is created_at + target, whenever retargeted.
        needed = (deadline - snap.created_at).total_seconds()
        steps = math.ceil(needed / SLA_GRID - 1e-9)
        if needed < SLA_MIN_LEAD:
            steps, off_grid = math.ceil(SLA_MIN_LEAD / SLA_GRID), off_grid + 1
        handle = client.get_workflow_handle_for(ProcessWorkflow.run, record_id)
        inp = UpdateFieldsInput(actor=AGENT, fields={"impact": "go", "urgency": str(steps)})
        snap = await handle.execute_update(ProcessWorkflow.update_fields, inp)
        due = snap.slas[0].due_at
        if due is None or datetime.now(UTC) >= due:
            late += 1

    await pool(count, in_flight, one)
    cpu = cpu_meter(worker_pid)
    wait_until = deadline + timedelta(seconds=120)
    # The notifications go out at the deadline; the threshold's audit event (which holds the
    # deadline) is written when the durable timer comes, a few seconds later when an alarm was armed.
    while True:
        with session_scope(engine) as session:
            rows = session.exec(
                select(NotificationRow.record_id, NotificationRow.created_at).where(
                    NotificationRow.template == "sla_breach"
                )
            ).all()
            due_rows = session.exec(
                select(AuditRow.record_id, AuditRow.at).where(col(AuditRow.action) == "sla_threshold")
            ).all()
        done = len({r for r, _ in rows}) >= count and len(due_rows) >= count
        if done or datetime.now(UTC) > wait_until:
            break
        await asyncio.sleep(0.5)
    due_at = dict(due_rows)
    ran_at: dict[str, datetime] = {}
    for record_id, created in rows:
        ran_at[record_id] = min(created, ran_at.get(record_id, created))
    lags = [(ran_at[r] - due_at[r]).total_seconds() * 1000 for r in ran_at if r in due_at]
    print(f"      CPU ms per escalation (idle wait included): {cpu.per_item_ms(max(1, len(lags)))}")
    if len(lags) < count:
        print(f"  WARNING: only {len(lags)} of {count} escalations within 120 s of the deadline")
    spread = (max(due_at.values()) - min(due_at.values())).total_seconds() * 1000 if due_at else math.nan
    return TimerFigures(lags_ms=lags, spread_ms=spread, off_grid=off_grid, late_retargets=late)


# --- the run --------------------------------------------------------------------------------------------


def seed_directory(engine: Engine) -> None:
    with session_scope(engine) as session:
        for name, roles, groups in DIRECTORY:
            upsert_user(
                session,
                username=name,
                roles=roles,
                groups=groups,
                language="en",
                email=f"{name}@example.test",
            )


def fixture(name: str) -> PinnedDefinition:
    result = load_file(FIXTURES / name)
    if not result.ok or result.definition is None:
        raise RuntimeError(f"{name} is invalid: " + "; ".join(map(str, result.issues)))
    return pin(result.definition, 1)


async def run(args: argparse.Namespace) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="itilflow-bench-") as tmp_name:
        tmp = Path(tmp_name)
        with temporal_server(tmp / "temporal", headless=True) as address:
            return await run_against(address, tmp, args)


async def run_against(address: str, tmp: Path, args: argparse.Namespace) -> dict[str, float]:
    database_url = f"sqlite:///{tmp / 'itilflow.sqlite'}"
    migrate(database_url)
    engine = make_engine(database_url)
    seed_directory(engine)
    client = await connect(address)
    queue = f"bench-engine-{uuid.uuid4().hex[:8]}"
    n, in_flight, warmup = args.records, args.in_flight, min(10, args.records)
    print(f"Temporal at {address}; read model {database_url}")
    # The cores are shared: other processes' load shows in every figure, so say how busy the machine was.
    print("load average (1, 5, 15 min) at start: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    async with worker_process("engine", address, database_url, queue, tmp) as engine_worker:
        lifecycle = fixture("lifecycle.yaml")
        t = Timings()
        print(
            f"[1/3] engine: {n} lifecycles of 6 steps, {in_flight} in flight (+{warmup} warm-up)", flush=True
        )
        ours = await measure(
            n,
            in_flight,
            warmup,
            engine_worker.pid,
            lambda: engine_lifecycle(client, engine, queue, lifecycle, t),
        )
        # Only the measured lifecycles' latencies: drop the warm-up's.
        updates, launches = t.updates_ms[warmup * 5 :], t.launches_ms[warmup:]
        print(f"      {ours.per_s:.1f} lifecycles/s ({n} in {ours.wall_s:.1f} s)")
        print(f"      update latency {describe(updates)}")
        print(f"      start latency (launch_record: number, start, first write) {describe(launches)}")

        base_queue = f"bench-baseline-{uuid.uuid4().hex[:8]}"
        base_url = f"sqlite:///{tmp / 'baseline.sqlite'}"
        print(
            f"[2/3] baseline: {n} lifecycles of 6 steps, {in_flight} in flight (+{warmup} warm-up)",
            flush=True,
        )
        base_updates: list[float] = []
        async with worker_process("baseline", address, base_url, base_queue, tmp) as base_worker:
            base = await measure(
                n,
                in_flight,
                warmup,
                base_worker.pid,
                lambda: baseline_lifecycle(client, base_queue, base_updates),
            )
            base_rss = base_worker.peak_rss_mb()
        print(f"      {base.per_s:.1f} lifecycles/s ({n} in {base.wall_s:.1f} s)")
        # The same load on a bare workflow: what the machine itself allows.
        print(f"      baseline update latency {describe(base_updates[warmup * 5 :])}")
        print(f"      baseline worker peak RSS {base_rss:.0f} MB")

        print(f"[3/3] timers: {args.deadlines} SLA deadlines due within the same {SLA_GRID:g} s", flush=True)
        per_record = 2 / (ours.per_s * 6)  # a start and one update, at the engine's measured step rate
        timers = await sla_deadlines(
            client,
            engine,
            queue,
            count=args.deadlines,
            in_flight=in_flight,
            seconds_per_record=per_record,
            worker_pid=engine_worker.pid,
        )
        lags = timers.lags_ms
        print(f"      deadlines spread over {timers.spread_ms:.0f} ms")
        print(f"      lag from deadline to escalation {describe(lags)}")
        if timers.off_grid or timers.late_retargets:
            print(
                f"      note: {timers.off_grid} records started too late for the common deadline, "
                f"{timers.late_retargets} re-prioritised after their deadline"
            )
        rss = engine_worker.peak_rss_mb()
        print(f"      engine worker peak RSS {rss:.0f} MB")
    print("load average (1, 5, 15 min) at end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    return {
        "lifecycles_per_s": round(ours.per_s, 2),
        "baseline_per_s": round(base.per_s, 2),
        "throughput_ratio": round(ours.per_s / base.per_s, 3),
        "update_p50_ms": round(percentile(updates, 50), 1),
        "update_p99_ms": round(percentile(updates, 99), 1),
        "timer_lag_p50_ms": round(percentile(lags, 50), 1),
        "timer_lag_p99_ms": round(percentile(lags, 99), 1),
        "worker_rss_mb": round(rss, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.engine", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="40 records, 20 in flight, 100 deadlines")
    parser.add_argument("--records", type=int, help="lifecycles per engine (default 200)")
    parser.add_argument("--in-flight", type=int, help="concurrent lifecycles (default 50)")
    parser.add_argument("--deadlines", type=int, help="SLA deadlines due in the same second (default 500)")
    args = parser.parse_args(argv)
    defaults = (40, 20, 100) if args.quick else (200, 50, 500)
    args.records = args.records or defaults[0]
    args.in_flight = args.in_flight or defaults[1]
    args.deadlines = args.deadlines or defaults[2]
    figures = asyncio.run(run(args))
    targets = [
        ("throughput_ratio", figures["throughput_ratio"] >= 0.7, ">= 0.7"),
        ("update_p99_ms", figures["update_p99_ms"] < 250, "< 250"),
        ("timer_lag_p99_ms", figures["timer_lag_p99_ms"] < 1000, "< 1000"),
    ]
    for name, met, target in targets:
        print(f"target {name} {target}: {figures[name]} ({'met' if met else 'MISSED'})")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
