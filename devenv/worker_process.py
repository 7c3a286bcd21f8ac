"""The worker of `itilflow dev` in a process of its own: the parent's end (the child's is worker/child.py).

The supervisor (devenv/supervisor.py) uses `WorkerProcess`: it starts `python -m worker.child` with
the same interpreter, hands it its resolved settings through the environment (`settings_env`; never
on the command line, which `ps` shows to every user: the settings hold the SMTP password and the
webhook secret), and waits for the child to say it is ready on a pipe, which the child does once
Temporal lists it among the task queue's pollers, so work the parent sends from then on is picked up.

Lifetime: Linux sends the child SIGTERM when the parent dies, however it dies (PR_SET_PDEATHSIG, as
for the Temporal dev server; devenv/lifetime.py). The child ignores SIGINT: a terminal's Ctrl-C
reaches the whole foreground process group, and the parent must stop the API before the worker (an
API request in flight may wait for the worker), so the parent decides when the worker stops, by
SIGTERM: the worker then stops polling, lets running activities finish within its graceful shutdown
timeout, and exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, SecretStr

from core.settings import Settings
from devenv.lifetime import die_with_parent
from worker.child import MODULE, READY


class WorkerExited(RuntimeError):
    """The worker process ended on its own (crashed, killed, or failed to start)."""


# --- settings through the environment ---------------------------------------------------------------


def _env_names(settings: Settings, name: str) -> list[str]:
    """The environment variables pydantic-settings reads for field `name`, highest priority first."""
    field = type(settings).model_fields[name]
    alias = field.validation_alias or field.alias
    if isinstance(alias, AliasChoices):
        return [choice for choice in alias.choices if isinstance(choice, str)]
    if isinstance(alias, str):
        return [alias]
    return [str(settings.model_config.get("env_prefix", "")) + name]


def _env_value(settings: Settings, name: str) -> str | None:
    value = getattr(settings, name)
    if value is None:
        return None
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float | Path):
        return str(value)
    return json.dumps(settings.model_dump(mode="json", include={name})[name])  # lists, dicts: JSON


def settings_env(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """`base` (default: this process's environment) with every setting replaced by its value in
    `settings`, so `Settings()` in a process started with it equals `settings`.

    All the names a setting can be read from are removed first (case-insensitively, as pydantic-settings
    matches them), so a DATABASE_URL inherited from the shell cannot override ITILFLOW_DATABASE_URL.
    """
    env = dict(os.environ if base is None else base)
    for name in type(settings).model_fields:
        names = _env_names(settings, name)
        lowered = {n.lower() for n in names}
        for key in [k for k in env if k.lower() in lowered]:
            del env[key]
        value = _env_value(settings, name)
        if value is not None:
            env[names[0]] = value
    return env


# --- the worker process ------------------------------------------------------------------------------


def _child_preexec() -> None:
    """In the child before exec: die with the parent, and ignore Ctrl-C (see the module docstring).
    An ignored signal stays ignored across exec, and Python keeps it so."""
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def describe_exit(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


class WorkerProcess:
    """The worker child of `itilflow dev`. Start it from the main thread: Linux ties
    PR_SET_PDEATHSIG to the thread that started the child (see devenv/lifetime.py)."""

    def __init__(self, settings: Settings, *, graceful_shutdown: float, kill_after: float) -> None:
        self.settings = settings
        self.graceful_shutdown = graceful_shutdown
        self.kill_after = kill_after  # after SIGTERM; more than graceful_shutdown
        self._proc: asyncio.subprocess.Process | None = None
        self._ready: asyncio.StreamReader | None = None
        self._ready_transport: asyncio.ReadTransport | None = None
        self._exited: asyncio.Task[int] | None = None
        self.stopping = False

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    @property
    def exited(self) -> asyncio.Task[int]:
        """Done (with the exit code) once the process has ended."""
        if self._exited is None:
            raise RuntimeError("the worker process was not started")
        return self._exited

    def command(self, ready_fd: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            MODULE,
            "--ready-fd",
            str(ready_fd),
            "--graceful-shutdown",
            f"{self.graceful_shutdown:g}",
        ]

    async def start(self) -> None:
        read_fd, write_fd = os.pipe()
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *self.command(write_fd),
                stdin=asyncio.subprocess.DEVNULL,  # stdout and stderr: the parent's (its terminal)
                env=settings_env(self.settings),
                pass_fds=(write_fd,),
                preexec_fn=_child_preexec,
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)  # the child's copy is the only one left: EOF when the child ends
        self._exited = asyncio.ensure_future(self._proc.wait())
        loop = asyncio.get_running_loop()
        self._ready = asyncio.StreamReader()
        reader = self._ready
        self._ready_transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_fd, "rb", buffering=0)
        )

    async def wait_ready(self, timeout: float) -> None:
        """Return once the worker polls; WorkerExited if it ends first, TimeoutError after `timeout`."""
        if self._ready is None or self._proc is None:
            raise RuntimeError("the worker process was not started")
        try:
            line = await asyncio.wait_for(self._ready.readline(), timeout)
        finally:
            if self._ready_transport is not None:
                self._ready_transport.close()
        if line != READY:  # EOF: the child closed the pipe by ending
            code = await self.exited
            raise WorkerExited(
                f"the worker process (pid {self._proc.pid}) {describe_exit(code)} while starting"
            )

    async def stop(self, force: asyncio.Event | None = None) -> None:
        """SIGTERM (a graceful stop), SIGKILL after `kill_after` seconds or as soon as `force` is set."""
        self.stopping = True
        if self._ready_transport is not None:
            self._ready_transport.close()
        proc, exited = self._proc, self._exited
        if proc is None or exited is None:
            return
        if not exited.done():
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            waiters: set[asyncio.Future[Any]] = {exited}
            forced = None if force is None else asyncio.ensure_future(force.wait())
            if forced is not None:
                waiters.add(forced)
            await asyncio.wait(waiters, timeout=self.kill_after, return_when=asyncio.FIRST_COMPLETED)
            if forced is not None:
                forced.cancel()
            if not exited.done():
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
        await exited
