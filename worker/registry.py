"""What the worker runs. Tests build their workers from here, so they run exactly what ships."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.agreements import AgreementActivities
from activities.alarms import AlarmClock
from activities.calendars import CalendarActivities
from activities.channels import EmailSender, WebhookSender
from activities.ci_changes import CiChangeActivities
from activities.directory import DirectoryActivities
from activities.linked_actions import LinkedActionActivities
from activities.links import LinkActivities
from activities.notifications import NotificationActivities
from activities.outages import OutageActivities
from activities.records import RecordActivities
from activities.references import ReferenceActivities
from activities.schedule_checks import ScheduleCheckActivities
from activities.scheduled_runs import ScheduledRunActivities
from workflows.cab_agenda import CabAgendaMailWorkflow
from workflows.process import ProcessWorkflow
from workflows.scheduled_run import ScheduledRunWorkflow

WORKFLOWS: Sequence[type] = (ProcessWorkflow, CabAgendaMailWorkflow, ScheduledRunWorkflow)

# Pure modules the workflows import: passing them through the sandbox skips re-importing them for
# every workflow run (transitions and pydantic are slow to import, and definitions are pure data code).
PASS_THROUGH = (
    "pydantic",
    "pydantic_core",
    "transitions",
    "definitions",
    "yaml",
    "annotated_types",
    "zoneinfo",
)


def workflow_runner() -> WorkflowRunner:
    """How the worker runs workflows: outside Temporal's sandbox.

    The sandbox re-imports a workflow's module for every run and, while any activation runs, swaps
    the process-wide `sys.modules`, `__import__`, `isinstance`, `issubclass` and other builtins for
    thread-local proxies, which every thread (the activities' too) then goes through. That was about
    a fifth of the worker's CPU per action (bench/api.py). What it guarded was little: the engine,
    which holds the logic, was passed through it (as it has to be, to share decoded definitions and
    machines), so only workflows/process.py ran restricted. Determinism is kept instead by
    - tests/unit/test_architecture.py: no I/O imports, and no clock, randomness, environment or thread
      calls anywhere in `workflows/` and `definitions/` (wider than the sandbox checked);
    - replaying recorded histories of earlier versions, under the sandbox (`sandbox_runner`), in
      tests/workflow/test_workflow_durability.py."""
    return UnsandboxedWorkflowRunner()


def sandbox_runner() -> SandboxedWorkflowRunner:
    """The sandbox, with the pure modules passed through: the replay tests run workflows in it."""
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*PASS_THROUGH)
    return SandboxedWorkflowRunner(restrictions=restrictions)


def activities(
    client: Client,
    engine: Engine,
    task_queue: str,
    *,
    email: EmailSender | None = None,
    webhook: WebhookSender | None = None,
) -> list[Callable[..., Any]]:
    notes = NotificationActivities(engine, email=email, webhook=webhook)
    records = RecordActivities(engine, notes)
    directory = DirectoryActivities(engine)
    links = LinkActivities(client, engine, task_queue)
    alarms = AlarmClock(engine, notes)
    return [
        records.persist_record,
        directory.resolve_approvers,
        directory.check_delegation,
        ReferenceActivities(engine).resolve_references,
        notes.notify,
        links.create_linked_record,
        alarms.arm_alarm,
        CiChangeActivities(engine).apply_ci_changes,
        AgreementActivities(engine).select_agreement,
        OutageActivities(engine).record_outage,
        CalendarActivities(engine).resolve_shared_calendars,
        ScheduleCheckActivities(engine).check_schedule,
        ScheduledRunActivities(client, engine, task_queue).start_scheduled_record,
        LinkedActionActivities(client, engine).act_on_linked,
    ]


def build_worker(
    client: Client,
    engine: Engine,
    task_queue: str,
    *,
    email: EmailSender | None = None,
    webhook: WebhookSender | None = None,
    max_concurrent_activities: int = 64,
    **kwargs: Any,
) -> Worker:
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=max_concurrent_activities)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=activities(client, engine, task_queue, email=email, webhook=webhook),
        activity_executor=executor,
        max_concurrent_activities=max_concurrent_activities,
        workflow_runner=workflow_runner(),
        **kwargs,
    )


__all__ = ["WORKFLOWS", "activities", "build_worker", "sandbox_runner", "workflow_runner"]
