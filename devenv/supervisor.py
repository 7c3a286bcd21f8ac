"""`itilflow dev`: the whole product from one command, for a laptop or a demo.

Three processes. This one serves the API (uvicorn) and seeds the demo data (devenv/seed.py,
devenv/tokens.py); the Temporal worker is a child process running exactly what `itilflow worker` runs
(worker/child.py, started by devenv/worker_process.py with this process's settings passed through its
environment); the Temporal dev server (devenv/temporal_server.py) is a child in its own process group.
The API and the worker are separate processes so that each has its own GIL: in one process they shared
one core, and under load the API waited for the worker's CPU (workflow activations, activities). Now
they use two cores.

Start-up: Temporal, the database migration, the worker process (it imports and connects while this
process publishes the definitions and issues the tokens), then a wait until Temporal sees the worker
polling (it says so on a pipe), because the demo records are real workflows; then the API. Ctrl-C or
SIGTERM stops the API first (a request in flight may wait on the worker), then the worker (SIGTERM: it
lets running activities finish, SIGKILL after a grace period), then Temporal (a terminal's Ctrl-C does
not reach it, nor the worker, which ignores SIGINT so that this order holds). The worker also dies with
this process however that dies (PR_SET_PDEATHSIG); if it ends on its own, everything stops and the
exit code is 1.

Everything lives in the data dir: Temporal's SQLite file, the itilflow database (unless DATABASE_URL
says otherwise) and `demo-tokens.json`, so a restart with the same dir keeps every record, definition,
user and token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import uvicorn

from api.app import create_app
from api.auth import principal_for
from client.connection import connect
from core import aio, gctune, jsonlog, tracing
from core.db import make_engine, migrate, session_scope
from core.settings import Settings
from core.tables import UserRow
from devenv.banner import summary, web_path
from devenv.options import DevError, DevOptions
from devenv.ports import bind_api_socket, check_port_free, free_port
from devenv.seed import ensure_directory, load_demo_data, publish_library
from devenv.temporal_cli import TemporalServerError
from devenv.temporal_server import DevServer
from devenv.tokens import TOKENS_FILE, ensure_tokens
from devenv.worker_process import WorkerExited, WorkerProcess, describe_exit

log = logging.getLogger("itilflow.dev")

# Seconds the API and the worker get to finish in-flight work after Ctrl-C before they are cut off.
STOP_GRACE = 10.0
# Seconds the worker process may take to start polling (imports, connecting, the sandbox).
WORKER_START_TIMEOUT = 120.0

T = TypeVar("T")


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handling: `itilflow dev` stops the API, the worker and Temporal,
    in that order (uvicorn's handlers would stop only the API and re-raise the signal afterwards)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class _Interrupted(Exception):
    """Ctrl-C or SIGTERM during start-up: stop what has started so far."""


async def _first(
    aw: Awaitable[T], worker: WorkerProcess, stop: asyncio.Event, out: Callable[[str], None]
) -> T:
    """`aw`'s result, unless the worker process ends first (DevError) or a signal asks to stop
    (_Interrupted); `aw` is cancelled then."""
    task = asyncio.ensure_future(aw)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, worker.exited, stopping}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        raise
    finally:
        stopping.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    if worker.exited.done():
        why = f"worker process (pid {worker.pid}) {describe_exit(worker.exited.result())} unexpectedly"
        out(f"\nThe {why}: stopping the API and Temporal…")
        raise DevError(f"the {why} (its output is above); the API and Temporal were stopped")
    raise _Interrupted


async def run_dev(opts: DevOptions) -> int:
    """Start everything, wait for SIGINT/SIGTERM, stop everything. Returns the exit code (a worker
    process that ends on its own raises DevError, after everything was stopped)."""
    data_dir = opts.data_dir.expanduser().resolve()
    opts.data_dir = data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    out = opts.out

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    force = asyncio.Event()  # a second signal: kill instead of waiting for graceful stops
    signals_seen = 0
    server: _Uvicorn | None = None

    def on_signal(sig: signal.Signals) -> None:
        nonlocal signals_seen
        signals_seen += 1
        if signals_seen == 1:
            out(f"\n{sig.name}: stopping the API, the worker and Temporal (again to force)…")
        else:
            force.set()
            if server is not None:
                server.force_exit = True
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)

    # Refuse before starting anything when a port is taken.
    api_socket = bind_api_socket(opts.host, opts.api_port)
    temporal = DevServer(
        data_dir,
        host=opts.host,
        port=opts.temporal_port,
        ui_port=opts.ui_port,
        headless=opts.ui_port is None,
        db_file=data_dir / "temporal.db",
    )
    try:
        # Leaving the stack stops what started, in reverse: the API, the worker process, Temporal.
        async with contextlib.AsyncExitStack() as stack:
            stack.callback(api_socket.close)
            check_port_free(opts.host, opts.temporal_port, "Temporal", "--temporal-port")
            if opts.ui_port is not None:
                check_port_free(opts.host, opts.ui_port, "Temporal UI", "--ui-port (or --no-ui)")
            if opts.worker_metrics_port is None:
                opts.worker_metrics_port = free_port(opts.host)
            elif opts.worker_metrics_port:
                check_port_free(
                    opts.host, opts.worker_metrics_port, "worker metrics", "--worker-metrics-port"
                )

            out(f"Starting the Temporal dev server on {opts.host}:{opts.temporal_port} (data in {data_dir})…")
            # The server stops on the way out whatever happens next (it is in its own process group, so
            # nothing else would stop it): SIGTERM to its group, SIGKILL after 10 s. Registered before
            # start: a failed start also cleans up.
            stack.callback(temporal.stop)
            try:
                await asyncio.to_thread(temporal.start)
            except TemporalServerError as exc:
                raise DevError(str(exc)) from None
            if stop.is_set():
                raise _Interrupted

            settings = Settings(
                data_dir=data_dir,
                temporal_address=temporal.address,
                base_url=f"http://{opts.host}:{opts.api_port}",
                dev_login=True,  # the sign-in page lists the demo users (a local, single-user setup)
                worker_metrics_port=opts.worker_metrics_port or None,
                worker_metrics_host=opts.host,
            )
            url = settings.resolved_database_url()
            out(f"Migrating the database ({_safe_url(url)})…")
            await asyncio.to_thread(migrate, url)
            engine = make_engine(url)
            stack.callback(engine.dispose)
            tracing.install(settings, "itilflow-api")  # before the client: it takes the interceptor then
            stack.callback(tracing.shutdown)
            client = await connect(temporal.address, settings.temporal_namespace)

            # The worker starts (imports, connects) while this process publishes and issues tokens.
            worker = WorkerProcess(
                settings.model_copy(update={"database_url": url}),
                graceful_shutdown=STOP_GRACE / 2,
                kill_after=STOP_GRACE,
            )
            stack.push_async_callback(worker.stop, force)
            await worker.start()

            tokens_file = data_dir / TOKENS_FILE
            with session_scope(engine) as session:
                ensure_directory(session)
            with session_scope(engine) as session:
                owner = principal_for(session, _require(session.get(UserRow, "owner")))
                published = publish_library(session, owner=owner)
                tokens = ensure_tokens(session, tokens_file)
            out(
                "Published: "
                + (", ".join(published) if published else "library definitions already up to date")
            )

            # Demo records are real workflows: they need the worker polling.
            try:
                await _first(worker.wait_ready(WORKER_START_TIMEOUT), worker, stop, out)
            except WorkerExited as exc:
                raise DevError(f"{exc} (its output is above)") from None
            except TimeoutError:
                raise DevError(
                    f"the worker process (pid {worker.pid}) was not polling within {WORKER_START_TIMEOUT:g}s"
                ) from None
            out(f"Worker polling task queue {settings.task_queue} (pid {worker.pid}).")
            if opts.demo:
                made = await _first(load_demo_data(client, engine, settings.task_queue), worker, stop, out)
                if made:
                    out("Demo data: " + "; ".join(made))

            app = create_app(settings, client=client, engine=engine)
            config = uvicorn.Config(
                app,
                log_level=opts.log_level,
                log_config=None,  # its lines go through the root logger: JSON, redacted (core/jsonlog.py)
                # The client and engine are injected, so the app's lifespan has nothing to do; leaving
                # it on made uvicorn print a CancelledError traceback on every Ctrl-C.
                lifespan="off",
                timeout_graceful_shutdown=int(STOP_GRACE / 2),
            )
            server = _Uvicorn(config)
            gctune.settle()
            serving = asyncio.create_task(server.serve(sockets=[api_socket]))
            stack.push_async_callback(_stop_api, server, serving)
            while not server.started and not serving.done() and not stop.is_set():
                await _first(asyncio.sleep(0.05), worker, stop, out)
            if serving.done():
                serving.result()  # raises what stopped it
                raise DevError("the API stopped during start-up; see the log above")
            base = f"http://{opts.host}:{opts.api_port}"
            if not stop.is_set():
                for line in summary(opts, base, web_path(app), temporal, tokens, tokens_file):
                    out(line)

            await _first(stop.wait(), worker, stop, out)
    except _Interrupted:
        pass
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    out("Stopped.")
    return 0


async def _stop_api(server: _Uvicorn, serving: asyncio.Task[None]) -> None:
    """Stop accepting requests and let those in flight finish (5 s), cut it off after STOP_GRACE."""
    if serving.done():  # failed during start-up: that error is on its way already
        return
    server.should_exit = True
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(asyncio.shield(serving), STOP_GRACE)
    if not serving.done():
        serving.cancel()


def _require(user: UserRow | None) -> UserRow:
    if user is None:
        raise DevError("the demo process owner 'owner' is missing from the directory")
    return user


def _safe_url(url: str) -> str:
    """The database URL without its password (it would end up in terminals and CI logs)."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main(opts: DevOptions) -> int:
    jsonlog.install(logging.WARNING, json_lines=Settings().log_format == "json")
    try:
        return aio.run(run_dev(opts))
    except DevError as exc:
        print(f"itilflow dev: {exc}", file=sys.stderr, flush=True)
        return 1
