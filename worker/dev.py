"""`itilflow dev`: the whole product from one command, for a laptop or a demo.

Three processes. This one serves the API (uvicorn) and seeds the demo data; the Temporal worker is a
child process running exactly what `itilflow worker` runs (worker/child.py, with this process's
settings passed through its environment); the Temporal dev server is a child in its own process group.
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

Seeding goes through the functions the API itself uses (definitions_service, api.service, the store),
never around them: demo records are real workflows, published definitions have the usual history.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client

from api.app import create_app
from api.auth import Principal, authenticate, issue_token, principal_for
from api.services import actions as service
from api.services.definitions import create_draft, publish
from core import aio, gctune
from core.db import make_engine, migrate, session_scope
from core.devserver import DevServer, TemporalServerError
from core.settings import Settings
from core.store import definition_versions, upsert_user, utcnow
from core.tables import GroupRow, RecordRow, UserRow
from definitions.loader import definition_hash, library_files, load_file
from worker.child import WorkerExited, WorkerProcess, describe_exit
from worker.registry import connect

log = logging.getLogger("itilflow.dev")

TOKENS_FILE = "demo-tokens.json"
TOKEN_NAME = "itilflow dev (demo)"
DEFAULT_API_PORT = 8000
DEFAULT_TEMPORAL_PORT = 7233
# Seconds the API and the worker get to finish in-flight work after Ctrl-C before they are cut off.
STOP_GRACE = 10.0
# Seconds the worker process may take to start polling (imports, connecting, the sandbox).
WORKER_START_TIMEOUT = 120.0

T = TypeVar("T")


class DevError(RuntimeError):
    """`itilflow dev` cannot start; the message says why and what to do."""


@dataclass(frozen=True)
class DemoUser:
    username: str
    title: str  # what the person does, printed next to the token
    roles: tuple[str, ...]
    groups: tuple[str, ...] = ()
    service_account: bool = False


# Who a new user needs to try every library process. Group and role names are the ones the library
# definitions use (definitions/library/*.yaml): the incident desk and its escalation lines, the change
# manager and the CAB quorum of two, the release test (qa) and sign-off (release_managers) steps.
DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "administrator: users, groups, tokens", ("admin",)),
    DemoUser("owner", "process owner: drafts and publishes definitions", ("process_owner",)),
    DemoUser(
        "agent", "service desk agent, lead of service_desk", ("agent", "service_desk"), ("service_desk",)
    ),
    DemoUser(
        "engineer",
        "second/third line engineer, problem manager, implements changes",
        ("agent", "problem_manager"),
        ("l2_support", "l3_support", "problem_managers", "major_incident_team"),
    ),
    DemoUser(
        "change_manager",
        "change manager: assesses and submits changes",
        ("agent", "change_manager"),
        ("change_management",),
    ),
    DemoUser("cab1", "CAB member (approves changes; quorum 2)", ("approver",), ("cab", "ecab")),
    DemoUser("cab2", "CAB member (approves changes; quorum 2)", ("approver",), ("cab", "ecab")),
    DemoUser("it_manager", "IT manager: second level of major changes", ("approver",), ("managers",)),
    DemoUser(
        "release_manager",
        "release manager: plans releases, signs them off",
        ("agent", "release_manager"),
        ("release_managers", "release_team"),
    ),
    DemoUser("tester", "QA: approves release tests", ("approver",), ("qa",)),
    DemoUser("integrator", "service account for monitoring / CI/CD", ("integrator",), service_account=True),
    DemoUser("requester", "an end user who reports incidents and requests changes", ("requester",)),
)

# Every group the library definitions name (assignment defaults, approvers, escalation, notifications),
# so each demo record can be assigned, escalated and approved. name -> (label, lead)
DEMO_GROUPS: dict[str, tuple[str, str | None]] = {
    "service_desk": ("Service desk (first line)", "agent"),
    "l2_support": ("Second line support", "engineer"),
    "l3_support": ("Third line support", "engineer"),
    "major_incident_team": ("Major incident team", "engineer"),
    "problem_managers": ("Problem management", "engineer"),
    "change_management": ("Change management", "change_manager"),
    "cab": ("Change advisory board", None),
    "ecab": ("Emergency CAB", None),
    "managers": ("IT management", "it_manager"),
    "release_team": ("Release team", "release_manager"),
    "release_managers": ("Release managers", "release_manager"),
    "qa": ("Quality assurance", "tester"),
    "dba": ("Database administrators", None),
    "security": ("Information security", None),
}


@dataclass
class DevOptions:
    data_dir: Path
    host: str = "127.0.0.1"
    api_port: int = DEFAULT_API_PORT
    temporal_port: int = DEFAULT_TEMPORAL_PORT
    ui_port: int | None = DEFAULT_TEMPORAL_PORT + 1000  # None: no Temporal UI
    demo: bool = True
    log_level: str = "info"
    out: Callable[[str], None] = field(default=lambda line: print(line, flush=True))


# --- ports ---------------------------------------------------------------------------------------------


def bind_api_socket(host: str, port: int) -> socket.socket:
    """Bind the API port now, before anything starts, so a taken port is refused up front and cannot
    be taken by someone else while Temporal starts."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise DevError(
            f"API port {host}:{port} is already in use ({exc.strerror}); pass --api-port"
        ) from None
    # Not listening yet: until uvicorn serves (asyncio listens on it then), clients are refused
    # instead of hanging, so a health poll sees a clean "not yet".
    return sock


def check_port_free(host: str, port: int, what: str, flag: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise DevError(
                f"{what} port {host}:{port} is already in use ({exc.strerror}); pass {flag}"
            ) from None


# --- definitions, directory, tokens ----------------------------------------------------------------------


def publish_library(session: Session, *, owner: Principal) -> list[str]:
    """Publish each shipped definition unless this exact version is already stored.

    A stored version with the same hash means the library file did not change: nothing to do (even if
    the process owner has published their own edit since, or retired it: their decision stands). A
    draft with the same hash is what an interrupted earlier start left behind: publish it.
    """
    done = []
    for path in library_files():
        result = load_file(path)
        if result.definition is None:
            raise DevError(f"shipped definition {path.name} is invalid: {result.issues[0]}")
        d = result.definition
        digest = definition_hash(d)
        rows = definition_versions(session, d.key)
        same = [r for r in rows if r.hash == digest]
        if same and not (same[-1] is rows[-1] and rows[-1].status == "draft"):
            continue
        version = (
            same[-1].version
            if same
            else create_draft(session, source=path.read_text("utf-8"), user=owner).version
        )
        publish(session, key=d.key, version=version, user=owner)
        done.append(f"{d.key} v{version}")
    return done


def ensure_directory(session: Session) -> None:
    """Create the demo users and groups; existing ones keep any changes an admin made since."""
    for user in DEMO_USERS:
        if session.get(UserRow, user.username) is None:
            upsert_user(
                session,
                username=user.username,
                roles=list(user.roles),
                display_name=user.username.replace("_", " ").title(),
                email=f"{user.username}@example.com",
                language="en",
                groups=user.groups,
                service_account=user.service_account,
            )
    for name, (label, lead) in DEMO_GROUPS.items():
        group = session.get(GroupRow, name)
        if group is None:
            session.add(GroupRow(name=name, label=label, lead=lead))
        elif group.label == name:  # created bare by a membership above: give it its label and lead
            group.label, group.lead = label, group.lead or lead
            session.add(group)
    session.flush()


def _read_tokens(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (it holds bearer tokens), replacing it atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o600)  # the mode above is masked by the umask and ignored for an existing file
    os.replace(tmp, path)


def ensure_tokens(session: Session, path: Path) -> dict[str, dict[str, Any]]:
    """Each demo user's token: the one in `path` while it still works (so printed tokens stay the
    same across restarts), else a new one. Writes `path` with mode 0600."""
    previous = _read_tokens(path)
    out: dict[str, dict[str, Any]] = {}
    for user in DEMO_USERS:
        row = session.get(UserRow, user.username)
        if row is None or not row.active:
            continue
        old = previous.get(user.username)
        token = old.get("token") if isinstance(old, dict) else None
        principal = authenticate(session, token) if isinstance(token, str) else None
        if principal is None or principal.username != user.username:
            token = issue_token(session, username=user.username, name=TOKEN_NAME)
            principal = principal_for(session, row)
        out[user.username] = {
            "token": token,
            "roles": principal.roles,
            "groups": principal.groups,
            "title": user.title,
        }
    session.flush()
    _write_private(path, json.dumps(out, indent=2) + "\n")
    return out


# --- demo records ----------------------------------------------------------------------------------------


def _principal(engine: Engine, username: str) -> Principal:
    with session_scope(engine) as session:
        row = session.get(UserRow, username)
        if row is None:
            raise DevError(f"demo user {username} is missing")
        return principal_for(session, row)


async def _fire(
    engine: Engine, client: Client, username: str, record_id: str, trigger: str, fields: dict[str, Any]
) -> None:
    with session_scope(engine) as session:
        await service.fire_transition(
            session=session,
            client=client,
            user=_principal(engine, username),
            ref=record_id,
            trigger=trigger,
            fields=fields,
            comment=None,
            update_id=f"demo:{record_id}:{trigger}",
        )


async def load_demo_data(client: Client, engine: Engine, task_queue: str) -> list[str]:
    """A few records so the lists are not empty, on the first start only (an empty read model).

    Idempotency keys and update ids are fixed, so a start interrupted half-way converges when rerun.
    """
    with session_scope(engine) as session:
        if session.exec(select(RecordRow.id).limit(1)).first() is not None:
            return []

    async def create(username: str, key: str, definition: str, title: str, fields: dict[str, Any]) -> str:
        snap = await service.create_record(
            client=client,
            engine=engine,
            task_queue=task_queue,
            user=_principal(engine, username),
            definition=definition,
            title=title,
            fields=fields,
            idempotency_key=f"demo:{key}",
        )
        return snap.id

    made = []
    incident = await create(
        "requester",
        "incident-1",
        "incident",
        "E-mail to the finance team is delayed by an hour",
        {"impact": "2", "urgency": "2", "category": "software", "configuration_item": "mail-gateway"},
    )
    await _fire(engine, client, "agent", incident, "accept", {"assignee": "agent"})
    made.append("an incident in progress (agent)")
    await create(
        "integrator",
        "incident-2",
        "incident",
        "Monitoring: VPN gateway packet loss above 5%",
        {"impact": "2", "urgency": "1", "category": "network", "configuration_item": "vpn-gw-01"},
    )
    made.append("a new incident from monitoring (integrator)")
    change = await create(
        "requester",
        "change-1",
        "change",
        "Upgrade the payroll database to PostgreSQL 16",
        {"change_type": "normal", "reason": "PostgreSQL 12 is out of support."},
    )
    await _fire(engine, client, "change_manager", change, "assess", {"assignee": "change_manager"})
    start = (utcnow() + timedelta(days=7)).replace(hour=12, minute=0, second=0, microsecond=0)
    await _fire(
        engine,
        client,
        "change_manager",
        change,
        "submit",
        {
            "risk": "medium",
            "risk_assessment": "One-hour outage of payroll in a quiet window; tested on staging.",
            "business_impact": "Payroll unavailable during the window.",
            "affected_cis": ["payroll-db"],
            "implementation_plan": "pg_upgrade --link on the standby, switch over, upgrade the old primary.",
            "backout_plan": "Switch back to the untouched old primary.",
            "test_plan": "Payroll smoke tests and a month-end dry run.",
            "implementer": "engineer",
            "planned_start": start.isoformat(),
            "planned_end": (start + timedelta(hours=2)).isoformat(),
        },
    )
    made.append("a change waiting for CAB approval (cab1, cab2)")
    return made


# --- running -----------------------------------------------------------------------------------------------


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handling: `itilflow dev` stops the API, the worker and Temporal,
    in that order (uvicorn's handlers would stop only the API and re-raise the signal afterwards)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _web_path(app: FastAPI) -> str | None:
    """Where the web page is served, when this build has one."""
    paths = {getattr(route, "path", "") for route in app.routes}
    return next((p for p in ("/", "/ui", "/ui/", "/web", "/app") if p in paths), None)


def _summary(
    opts: DevOptions,
    base: str,
    web: str | None,
    temporal: DevServer,
    tokens: dict[str, dict[str, Any]],
    tokens_file: Path,
) -> list[str]:
    lines = ["", "Demo users (token file: " + str(tokens_file) + "):"]
    for username, info in tokens.items():
        roles = ",".join(info["roles"])
        groups = ",".join(info["groups"]) or "-"
        lines.append(f"  {username:<16} roles={roles:<28} groups={groups}")
        lines.append(f"  {'':<16} {info['title']}")
        lines.append(f"  {'':<16} token {info['token']}")
    lines += [
        "",
        f"API:          {base}/api/v1",
        f"API docs:     {base}/docs",
        f"Health:       {base}/healthz",
        f"Web page:     {base}{web}" if web else "Web page:     (not in this build)",
        f"Temporal UI:  {temporal.ui_url}" if temporal.ui_url else "Temporal UI:  (disabled: --no-ui)",
        f"Temporal:     {temporal.address} (namespace default, task queue itilflow)",
        f"Data:         {opts.data_dir}",
        "",
        'Try:  curl -H "Authorization: Bearer $TOKEN" ' + f"{base}/api/v1/processes",
        "itilflow dev is ready. Press Ctrl-C to stop.",
    ]
    return lines


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
            )
            url = settings.resolved_database_url()
            out(f"Migrating the database ({_safe_url(url)})…")
            await asyncio.to_thread(migrate, url)
            engine = make_engine(url)
            stack.callback(engine.dispose)
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
                for line in _summary(opts, base, _web_path(app), temporal, tokens, tokens_file):
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
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        return aio.run(run_dev(opts))
    except DevError as exc:
        print(f"itilflow dev: {exc}", file=sys.stderr, flush=True)
        return 1
