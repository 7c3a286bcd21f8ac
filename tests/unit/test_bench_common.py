"""The benchmarks' shared helpers (bench/common.py): every benchmark's figures rest on them."""

from __future__ import annotations

import asyncio
import math
import os
import subprocess
import sys

from bench.common import CpuMeter, child_processes, command_line, ms_per_item, percentile, pool


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 1001)]  # 1 … 1000
    assert percentile(values, 99) == 990  # the 990th smallest: no interpolation
    assert percentile(values, 50) == 500
    assert percentile(list(reversed(values)), 100) == 1000
    assert percentile([5.0, 1.0, 3.0], 0) == 1  # the smallest, not an index of -1
    # ⌈p·n/100⌉ exactly: p·n/100 = 15 names the 15th value, not the 16th (round-half-to-even) …
    assert percentile([float(v) for v in range(1, 31)], 50) == 15
    # … and 99 of 100 the 99th, not the largest.
    assert percentile([float(v) for v in range(1, 101)], 99) == 99
    assert percentile(values, 99.9) == 999  # not pushed to 1000 by floating point
    assert math.isnan(percentile([], 50))


async def test_pool_runs_every_job_in_order_with_at_most_clients_at_once() -> None:
    started: list[int] = []
    running = peak = 0

    async def job(i: int) -> None:
        nonlocal running, peak
        started.append(i)
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001)
        running -= 1

    wall = await pool(25, 4, job)
    assert started == list(range(25)) and peak == 4 and wall > 0


def test_cpu_meter_and_child_processes_read_proc() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert (child.pid, os.path.basename(sys.executable)[:15]) in child_processes(os.getpid())
        assert b"time.sleep(30)" in command_line(child.pid)
        meter = CpuMeter({"client": os.getpid(), "child": child.pid})
        sum(i * i for i in range(300_000))  # some CPU for the client
        spent = meter.spent()
        assert list(spent) == ["client", "child"] and spent["client"] >= 0 and spent["child"] >= 0
        assert ms_per_item({"api": 0.5, "worker": 0.25}, 100) == "api 5.0, worker 2.5"
    finally:
        child.kill()
        child.wait()
