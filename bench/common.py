"""What the benchmarks share: one percentile, one CPU meter, the processes they start and watch, and
the load pool.

The figures of different benchmarks are read side by side (bench/README.md compares the API's
actions with bare Temporal updates from bench/floor.py, for instance), so a p99 or a "CPU ms per
action" must be computed the same way in each of them. Helpers here never print: each benchmark keeps
its own output.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from devenv.ports import free_port

# --- figures ---------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile, the definition bench/api.py reports: the ⌈p·n/100⌉-th smallest
    of n values, with no interpolation (p99 of 1000 samples is the 990th smallest, p50 of 60 the
    30th). Every figure is then one that was measured. NaN when there are no values.

    bench/api.py used to compute the rank as `round(p/100·n + 0.5)`, which round-half-to-even made
    one higher when p·n/100 is an odd whole number (p99 of 100 samples was the largest), and
    bench/floor.py took the next rank whenever p·n/100 is whole (bench/README.md, Shared helpers).
    """
    if not values:
        return math.nan
    ordered = sorted(values)
    # p * n first: p / 100 * n can land a hair above a whole rank (99.9 / 100 * 1000 > 999).
    rank = math.ceil(p * len(ordered) / 100)
    return ordered[min(len(ordered), max(1, rank)) - 1]


T = TypeVar("T")


async def timed(into: list[float], call: Awaitable[T]) -> T:
    """Await `call` and append how long it took, in milliseconds, to `into`."""
    started = time.perf_counter()
    result = await call
    into.append((time.perf_counter() - started) * 1000)
    return result


# --- CPU -------------------------------------------------------------------------------------------
# The benchmarks run on two cores shared by the client, the API, the worker and the Temporal server,
# so latency follows CPU: per-process CPU time says where a figure's time went.


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (from /proc/PID/stat)."""
    # The command name (field 2) may hold spaces; utime and stime are fields 14 and 15.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ms_per_item(seconds: Mapping[str, float], items: int) -> str:
    """`name 1.2, name 3.4`: CPU milliseconds per item (a start, an action, a lifecycle) by process."""
    return ", ".join(f"{name} {spent * 1000 / max(1, items):.1f}" for name, spent in seconds.items())


class CpuMeter:
    """CPU seconds that named processes (`{"worker": pid, "client": os.getpid(), ...}`) have used
    since the meter was made: one per measured phase."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self.pids = dict(pids)
        self.start = self.read()

    def read(self) -> dict[str, float]:
        return {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def spent(self) -> dict[str, float]:
        """Seconds per process since the meter was made."""
        now = self.read()
        return {name: now[name] - self.start[name] for name in now}

    def per_item_ms(self, items: int) -> str:
        return ms_per_item(self.spent(), items)


# --- processes -------------------------------------------------------------------------------------


def child_processes(parent: int) -> list[tuple[int, str]]:
    """(pid, command name) of each child of `parent`, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, rest = stat.read_text().split("(", 1)[1].rsplit(")", 1)
            if int(rest.split()[1]) == parent:
                found.append((int(stat.parent.name), name))
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    return found


def command_line(pid: int) -> bytes:
    """The process's arguments, NUL-separated (empty once it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def temporal_server_pid() -> int | None:
    """The dev server this process started (a child named `temporal`), if any."""
    return next((pid for pid, name in child_processes(os.getpid()) if name == "temporal"), None)


def dev_pids(dev_pid: int) -> dict[str, int]:
    """`itilflow dev`'s processes: the API (itself), its worker child and its Temporal server, and
    the client (this process)."""
    pids = {"api": dev_pid, "client": os.getpid()}
    for pid, name in child_processes(dev_pid):
        if name == "temporal":
            pids["server"] = pid
        elif b"worker.child" in command_line(pid):
            pids["worker"] = pid
    return pids


def kill_processes_of(fragment: str) -> None:
    """SIGKILL every process whose command line contains `fragment` (a data directory)."""
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            if entry.name.isdigit() and fragment in cmdline:
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue


# Settings of the environment that would point a started `itilflow dev` elsewhere.
FOREIGN_ENV = ("DATABASE_URL", "ITILFLOW_DATABASE_URL", "TEMPORAL_ADDRESS", "ITILFLOW_TEMPORAL_ADDRESS")


@dataclass
class Target:
    """An `itilflow dev` under test: where its API, database and Temporal are, the demo users'
    tokens, and the processes whose CPU is reported per action (none for one given with --url)."""

    base: str
    tokens: dict[str, str]
    database_url: str
    temporal_address: str
    pids: dict[str, int] = field(default_factory=dict)


@contextmanager
def dev_subprocess(log_level: str, *, demo: bool = False) -> Iterator[Target]:
    """`itilflow dev` in a temporary data dir on free ports; stopped with SIGINT like a user would.
    `demo`: with the demo records (bench/web.py shows them), else an empty read model."""
    with tempfile.TemporaryDirectory(prefix="itilflow-bench-api-") as tmp:
        data = Path(tmp) / "data"
        api_port, temporal_port = free_port(), free_port()
        script = Path(sys.executable).parent / "itilflow"
        cmd = [str(script)] if script.is_file() else [sys.executable, "-m", "cli"]
        cmd += ["dev", "--data-dir", str(data), "--api-port", str(api_port)]
        cmd += ["--temporal-port", str(temporal_port), "--no-ui", "--log-level", log_level]
        cmd += [] if demo else ["--no-demo"]
        env = {k: v for k, v in os.environ.items() if k not in FOREIGN_ENV}
        log = Path(tmp) / "dev.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
        try:
            base = f"http://127.0.0.1:{api_port}"
            deadline = time.monotonic() + 120
            while "is ready" not in log.read_text(errors="replace"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"itilflow dev did not start:\n{log.read_text(errors='replace')}")
                time.sleep(0.3)
            tokens = json.loads((data / "demo-tokens.json").read_text())
            yield Target(
                base=base,
                tokens={user: info["token"] for user, info in tokens.items()},
                database_url=f"sqlite:///{data / 'itilflow.db'}",
                temporal_address=f"127.0.0.1:{temporal_port}",
                pids=dev_pids(proc.pid),
            )
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                print(f"itilflow dev did not stop within 60 s; killing it and its Temporal server ({data})")
                proc.kill()
                proc.wait()
                # Temporal runs in its own process group; a killed parent cannot stop it.
                kill_processes_of(str(data))


# --- load ------------------------------------------------------------------------------------------


async def pool(n: int, clients: int, job: Callable[[int], Awaitable[None]]) -> float:
    """Run job(0..n-1) with `clients` at a time, in order; return the wall time in seconds.

    `clients` long-lived tasks each take the next index when their job is done, as that many real
    clients would: the client side costs the same whether n is 10 or 10,000.
    """
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)

    async def client() -> None:
        while not queue.empty():
            await job(queue.get_nowait())

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - t0


def change_plan() -> dict[str, object]:
    """The fields the library change needs to go to the CAB (submit), three days from now."""
    start = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    return {
        "risk": "low",
        "risk_assessment": "bench",
        "business_impact": "none",
        "affected_cis": ["bench"],
        "implementation_plan": "bench",
        "backout_plan": "bench",
        "test_plan": "bench",
        "implementer": "engineer",
        "planned_start": start.isoformat(),
        "planned_end": (start + timedelta(hours=1)).isoformat(),
    }
