"""The lifetime of the child processes that `itilflow dev` and the tests start (Temporal, the worker)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


def die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM the child when its parent dies.

    A parent killed with SIGKILL cannot stop its children; without this the dev server would be
    left running (holding its ports) after `itilflow dev` or a test process was killed, and the
    worker of `itilflow dev` polling.
    Linux ties this to the *thread* that started the child: start servers from a long-lived thread.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def signal_group(pid: int, sig: signal.Signals) -> None:
    """Send `sig` to the process group that `pid` leads, if it still exists."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def spawn_logged(
    command: list[str], log_file: Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start a server in its own process group, its output appended to `log_file`, dying with us
    (`env`: its whole environment; default ours)."""
    with log_file.open("ab") as log:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )


def stop_group(proc: subprocess.Popen[bytes] | None, grace: float) -> None:
    """SIGTERM the process group `proc` leads; SIGKILL it if it is still there after `grace` seconds."""
    if proc is None or proc.poll() is not None:
        return
    signal_group(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        signal_group(proc.pid, signal.SIGKILL)
        proc.wait()
