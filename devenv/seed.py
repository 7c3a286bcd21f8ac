"""The demo of `itilflow dev`: the shipped definitions published, demo users and groups, a few records.

Seeding goes through the functions the API itself uses (api.services.definitions and .actions, the store),
never around them: demo records are real workflows, published definitions have the usual history.
Each step is idempotent, so a restart with the same data dir, or a start interrupted half-way and
run again, converges.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client

from api.auth import Principal, principal_for
from api.services import actions as service
from api.services.definitions import create_draft, publish
from core.db import session_scope
from core.store import definition_versions, upsert_user, utcnow
from core.tables import GroupRow, RecordRow, UserRow
from definitions.loader import definition_hash, library_files, load_file
from devenv.options import DevError


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


# --- definitions and directory ----------------------------------------------------------------------


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
    # A standard change template for the catalogue: once a CAB member approves it, a standard change
    # naming it goes straight to scheduled.
    template = await create(
        "change_manager",
        "standard-change-1",
        "standard_change",
        "Restart a stuck print spooler",
        {
            "scope": "Restart the print spooler service on one Windows print server.",
            "service": "Printing",
            "implementation_plan": "Drain the queue, restart the Spooler service, print a test page.",
            "backout_plan": "Start the service again; move the queue to the standby print server.",
            "risk": "low",
            "expected_duration": "PT15M",
            "review_date": (utcnow() + timedelta(days=180)).replace(microsecond=0).isoformat(),
        },
    )
    await _fire(engine, client, "change_manager", template, "submit", {})
    made.append("a standard change template waiting for approval (cab1, cab2)")
    return made
