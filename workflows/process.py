"""ProcessWorkflow: one workflow run is one record, interpreting its pinned definition.

One workflow type serves every process: a process is data (its definition), so adding one needs no
code and no worker deployment. The run
- applies human actions as Updates (validator = the engine's `check_*`, so refusals write nothing),
- sleeps until the earliest durable timer (SLA thresholds, approval reminders and deadlines, timed
  transitions), computed as absolute instants in business time,
- after every change writes the read model and audit trail through one idempotent activity before
  the Update returns (read-your-writes for the API),
- continues-as-new when Temporal suggests it, carrying the whole record.
A lock serialises handlers: Updates run concurrently, and every change must see the previous one.
"""

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows import (
        agreements,
        alarm_arming,
        linked_actions,
        lookups,
        metrics,
        outages,
        patches,
        schedule_checks,
        shared_calendars,
    )
    from workflows.calls import (
        DB_RETRY,
        DB_TIMEOUT,
        MAX_REMEMBERED_REQUESTS,
        NOTIFY_RETRY,
        notify_input,
        refused,
    )
    from workflows.contracts import (
        Actor,
        AddAttachmentInput,
        AddCommentInput,
        ApplyCiChangesInput,
        ApplyCiChangesResult,
        CreateLinkedRecordInput,
        CreateLinkedRecordResult,
        DecideApprovalInput,
        FireTransitionInput,
        NotifyInput,
        PersistRecordInput,
        PersistRecordResult,
        RecordSnapshot,
        ResolveApproversInput,
        ResolveApproversResult,
        SnapshotQuery,
        StartProcessInput,
        UpdateFieldsInput,
    )
    from workflows.engine import Outcome, ProcessEngine, Refusal, RefusalKind
    from workflows.engine import schedule_checks as engine_schedule
    from workflows.engine.schedule_checks import ScheduleCheckInput

# How far each change made with `workflow.patched()` is retired: workflows/patches.py.


@workflow.defn(name="ProcessWorkflow")
class ProcessWorkflow:
    @workflow.init
    def __init__(self, inp: StartProcessInput) -> None:
        self._lock = asyncio.Lock()
        self._poked = False
        self._ready = False
        self._notifications: list[workflow.ActivityHandle[Any]] = []
        self._startup: Outcome | None = None
        self._refusal: Refusal | None = None
        # Continue-as-new well before Temporal's own limits (50k events); tests lower it.
        self._history_limit = inp.history_limit
        # Started by version 0.5: the changes before it were taken without markers (see _patched).
        self._started_on_generation_1 = inp.code_version >= 1
        # The workflow task the run is in (its history length when it began) and the record's sequence
        # number then: every change up to it is in Temporal's history, anything after may be discarded
        # with the task (see _mark_task and persist_record).
        self._task_length = workflow.info().get_current_history_length()
        self._committed_seq = 0
        now = workflow.now()
        if inp.carried is not None:
            self._engine = ProcessEngine(inp.definition, inp.carried)
            self._committed_seq = inp.carried.seq  # continue-as-new's input is committed
            return
        try:
            self._engine, self._startup = ProcessEngine.create(inp, now)
        except Refusal as refusal:
            self._refusal = refusal
            self._engine = None  # type: ignore[assignment]

    # ---------------------------------------------------------------------------------------------
    @workflow.run
    async def run(self, inp: StartProcessInput) -> RecordSnapshot:
        if self._refusal is not None:
            raise refused(self._refusal)
        # Runs that began before SLA alarms existed keep sleeping exactly as they did (replay).
        alarms = self._patched(patches.SLA_ALARMS)
        async with self._lock:
            if self._startup is not None:
                inp = await self._run_on_lookups(inp)
                try:  # a new record's checked references too (a Temporal client may start one directly)
                    await self._check_references(self._engine.references_in(inp.fields), inp.actor.language)
                except Refusal as refusal:
                    raise refused(refusal) from None
                await self._execute(self._startup)  # the first task: nothing is committed yet
            self._ready = True
        while not self._engine.is_final:
            wake = self._engine.next_wakeup()
            if alarms:
                async with self._lock:
                    wake = await self._alarm_wake(wake)
            timeout = None if wake is None else (wake - workflow.now()).total_seconds()
            if timeout is None or timeout > 0:
                try:
                    await workflow.wait_condition(
                        lambda: self._poked or self._should_continue(), timeout=timeout
                    )
                except TimeoutError:
                    pass
            self._poked = False
            async with self._lock:
                self._mark_task()
                fired = self._engine.on_timers(workflow.now())
                metrics.timers_fired(self._engine.definition.key, fired.events, workflow.now())  # replay-safe
                await self._execute(fired)
            if self._should_continue() and not self._engine.is_final:
                await workflow.wait_condition(workflow.all_handlers_finished)
                await self._drain_notifications()
                # The next run starts a history of its own (it records its own patch markers), and its
                # first write seals what this run left unsealed.
                update = {"carried": self._engine.record, "code_version": 0}
                workflow.continue_as_new(inp.model_copy(update=update))
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._drain_notifications()
        # The closing task's rows are sealed by the API once Temporal acknowledged the closing action
        # (api: seal_committed), or by `itilflow audit verify --seal`: a task of the run's own just for
        # that cost a seventh more work per record.
        return self._engine.snapshot(None, workflow.now())

    async def _run_on_lookups(self, inp: StartProcessInput) -> StartProcessInput:
        """A new record made again on the shared calendars (workflows/shared_calendars.py), then on the
        service level agreement (workflows/agreements.py) in force when it starts."""
        for lookup in (shared_calendars.run_on_shared_calendars, agreements.run_on_agreement):
            found = await lookup(inp, self._engine.record)
            if found is not None:
                inp, self._engine, self._startup = found
        return inp
        inp, self._engine, self._startup = found
        return inp

    def _mark_task(self) -> None:
        """Note the record's sequence number when the current workflow task began.

        Called before anything that changes the record. Temporal hands the worker a workflow task's
        history up to its start, so the record's state at a task's first change is what Temporal has
        committed: a task that is discarded or retried (its Updates possibly in another order) never
        changes what came before it. A new task has a longer history than the one before."""
        length = workflow.info().get_current_history_length()
        if length != self._task_length:
            self._task_length = length
            self._committed_seq = self._engine.record.seq

    async def _alarm_wake(self, wake: datetime | None) -> datetime | None:
        """Arm the next SLA alarm when it is due (workflows/alarm_arming.py); when to wake up next."""
        return await alarm_arming.arm_next(self._engine, wake)

    def _should_continue(self) -> bool:
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() > self._history_limit

    # ---------------------------------------------------------------------------------------------
    async def _execute(self, out: Outcome) -> RecordSnapshot | None:
        """Run what the engine asked for (look-ups, linked records), persist, then notify."""
        engine = self._engine
        while out.resolves or out.creates:
            if out.resolves:
                req = out.resolves.pop(0)
                users = sorted(set(req.users))
                # Only groups and roles need the directory; named users are taken as named.
                if not (req.groups or req.roles):
                    workflow.deprecate_patch(patches.NAMED_APPROVERS)
                else:
                    result = await workflow.execute_local_activity(
                        "resolve_approvers",
                        ResolveApproversInput(users=req.users, groups=req.groups, roles=req.roles),
                        result_type=ResolveApproversResult,
                        start_to_close_timeout=DB_TIMEOUT,
                        retry_policy=DB_RETRY,
                    )
                    users = result.users
                self._mark_task()
                out.extend(engine.approvers_resolved(req.task_id, users, workflow.now()))
            else:
                create = out.creates.pop(0)
                created = await workflow.execute_activity(
                    "create_linked_record",
                    CreateLinkedRecordInput(
                        key=f"{engine.record.record_id}:link:{engine.record.seq}",
                        parent_id=engine.record.record_id,
                        parent_number=engine.record.number,
                        definition=create.definition,
                        title=create.title,
                        fields=create.fields,
                        back_link_field=create.back_link_field,
                        actor=Actor.system("link"),
                    ),
                    result_type=CreateLinkedRecordResult,
                    start_to_close_timeout=timedelta(seconds=60),
                )
                self._mark_task()  # an activity's result comes in a later workflow task
                out.extend(engine.linked_created(create, created.record_id, created.number, workflow.now()))
        while (
            out.acts
        ):  # only definitions with an `act_on_linked` effect get here (workflows/linked_actions.py)
            linked = out.acts.pop(0)
            record = engine.record
            acted = await linked_actions.act(record.record_id, record.number, record.seq, linked)
            self._mark_task()
            out.extend(engine.linked_acted(linked, acted, workflow.now()))
        if out.apply_ci_changes is not None:
            # Only definitions with an `apply_ci_changes` effect get here (none before it existed), so
            # recorded histories replay unchanged without a patch.
            request, out.apply_ci_changes = out.apply_ci_changes, None
            applied = await workflow.execute_activity(
                "apply_ci_changes",
                ApplyCiChangesInput(record_id=engine.record.record_id, actor=request.actor),
                result_type=ApplyCiChangesResult,
                start_to_close_timeout=timedelta(seconds=60),
            )
            self._mark_task()
            out.extend(engine.ci_changes_applied(request.spec, applied, workflow.now()))
        if out.outages:
            # Only definitions with a `record_outage` effect get here (none before it existed).
            wanted, out.outages = out.outages, []
            for outage in wanted:
                recorded = await outages.record(engine.record.record_id, outage)
                self._mark_task()
                out.extend(engine.outage_recorded(outage, recorded, workflow.now()))
        notes = [
            notify_input(note, engine.record.record_id, engine.record.seq, i)
            for i, note in enumerate(out.notifications)
        ]
        # The outbox: notifications are written with the change that caused them, and only those with
        # an e-mail or webhook to send become a `notify` activity (an inbox-only one used to cost an
        # activity and a second workflow task per action). Runs that began before keep their order.
        outbox = bool(out.events) and self._patched(patches.NOTIFICATIONS_IN_PERSIST)
        if not outbox:
            # Notifications start first: they do not depend on the read model.
            for note in notes:
                self._start_notify(note)
            if not out.events:
                return None
        persisted = engine.snapshot(None, workflow.now())
        engine.record.unsealed.extend(out.events)
        result = await self._persist(persisted, notes if outbox else [], notifications=outbox)
        if isinstance(result, PersistRecordResult):
            deliver = set(result.deliver)
            for note in notes:
                if note.key in deliver:
                    self._start_notify(note)
        return persisted

    async def _persist(
        self, snapshot: RecordSnapshot, notes: list[NotifyInput], *, notifications: bool
    ) -> PersistRecordResult | None:
        """Write the record, its unsealed audit events and `notes` in one transaction (the read model).

        Every write sends all the events not yet sealed and the sequence number Temporal has committed
        (the start of this workflow task): the stored rows from the first unsealed event on are made
        equal to the events sent, so whatever a discarded task wrote there is replaced, and the rows up
        to the committed number are sealed (never changed again). A write from an older task than the
        one that last wrote is ignored. See persist_record."""
        engine = self._engine
        result = await workflow.execute_local_activity(
            "persist_record",
            PersistRecordInput(
                snapshot=snapshot,
                events=list(engine.record.unsealed),
                committed_seq=self._committed_seq,
                written_seq=engine.record.written_seq,
                notifications=notes,
                cis=engine.named_cis(),
            ),
            # Older runs recorded no result (null): decoding it as a PersistRecordResult would fail.
            result_type=PersistRecordResult if notifications else None,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        engine.record.unsealed = [e for e in engine.record.unsealed if e.seq > self._committed_seq]
        engine.record.written_seq = snapshot.seq
        return result if isinstance(result, PersistRecordResult) else None

    def _start_notify(self, note: NotifyInput) -> None:
        handle = workflow.start_activity(
            "notify",
            note,
            # Short enough that a delivery lost with a crashed worker is retried soon.
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=NOTIFY_RETRY,
        )
        # Failures are recorded by the activity; retrieve them so none is reported as unhandled.
        handle.add_done_callback(lambda h: h.cancelled() or h.exception())
        self._notifications.append(handle)

    async def _drain_notifications(self) -> None:
        pending, self._notifications = self._notifications, []
        for handle in pending:
            try:
                await handle
            except ActivityError:
                # Each failure is recorded in the notifications table; a lost e-mail never fails a record.
                workflow.logger.warning("notification failed after retries")

    def _patched(self, change: str) -> bool:
        """Whether this run takes `change` ("sla-alarms" or "notifications-in-persist"): as Temporal's
        patch (True in a run that recorded its marker or starts now, False when replaying a run that
        began before the change), or without a marker for a run started on version 0.5."""
        return self._started_on_generation_1 or workflow.patched(change)

    def _remembered(self) -> bool:
        info = workflow.current_update_info()
        return info is not None and info.id in self._engine.record.applied_requests

    def _remember(self) -> None:
        info = workflow.current_update_info()
        if info is not None:
            ids = self._engine.record.applied_requests
            ids.append(info.id)
            del ids[:-MAX_REMEMBERED_REQUESTS]

    async def _command(
        self,
        actor: Actor,
        apply: Callable[[datetime], Outcome],
        wanted: Callable[[], dict[str, str]] = dict,
        schedule: Callable[[datetime], ScheduleCheckInput | None] = lambda _: None,
    ) -> RecordSnapshot:
        """Apply a command under the lock; `wanted` names the checked reference values it needs looked
        up first (workflows/engine/references.py), `schedule` the change-schedule check it needs
        (workflows/schedule_checks.py)."""
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            persisted = None
            if not self._remembered():
                self._mark_task()
                try:
                    await self._check_references(wanted(), actor.language)
                    warned = await self._check_schedule(schedule(workflow.now()))
                    with self._engine.protection(workflow.patched(patches.PROTECTED_FIELDS)):
                        out = apply(workflow.now())
                    if warned is not None:
                        self._engine.note(
                            out, workflow.now(), Actor.system("schedule"), "schedule_conflicts", warned
                        )
                except Refusal as refusal:
                    raise refused(refusal) from None
                persisted = await self._execute(out)
                self._remember()
                self._poked = True
            if persisted is None:
                return self._engine.snapshot(actor, workflow.now())
            # Exactly what the read model now holds (read-your-writes), plus what this caller may do.
            return persisted.model_copy(update=self._engine.for_actor(actor))

    async def _check_references(self, wanted: dict[str, str], language: str) -> None:
        """Refuse checked reference values that name no allowed record (only asked when there are some)."""
        if wanted:
            found = await lookups.referenced_records(self._engine.definition, wanted)
            self._mark_task()  # an activity's result may come in a later workflow task
            self._engine.check_references(wanted, found, language)

    async def _check_schedule(self, inp: ScheduleCheckInput | None) -> dict[str, Any] | None:
        """Refuse a planned window the change schedule does not allow; the conflicts that only warn,
        for the audit trail (None: nothing to note)."""
        if inp is None:
            return None
        result = await schedule_checks.check(inp)
        self._mark_task()
        refusal = engine_schedule.refusal(result, inp.block_conflicts, inp.language)
        if refusal is not None:
            raise refusal
        return engine_schedule.noted(result)

    def _validate(self, check: Callable[[], object]) -> None:
        if self._engine is None:
            raise ApplicationError(
                "record could not be created", type=RefusalKind.WrongState.value, non_retryable=True
            )
        if self._remembered():
            return  # a retried request: the handler answers with the current snapshot
        try:
            check()
        except Refusal as refusal:
            raise refused(refusal) from None

    # ---------------------------------------------------------------------------------------------
    @workflow.update
    async def ready(self, q: SnapshotQuery) -> RecordSnapshot:
        """Returns once the record's first state is written: the API's read-your-writes on create."""
        await workflow.wait_condition(lambda: self._ready)
        return self._engine.snapshot(q.actor, workflow.now())

    @ready.validator
    def _validate_ready(self, q: SnapshotQuery) -> None:
        if self._engine is None:
            raise ApplicationError(
                "record could not be created", type=RefusalKind.WrongState.value, non_retryable=True
            )

    @workflow.update
    async def fire_transition(self, inp: FireTransitionInput) -> RecordSnapshot:
        return await self._command(
            inp.actor,
            lambda now: self._engine.fire(inp, now),
            lambda: self._engine.references_to_fire(inp),
            lambda now: self._engine.schedule_check_to_fire(inp, now),
        )

    @fire_transition.validator
    def _validate_fire(self, inp: FireTransitionInput) -> None:
        self._validate(lambda: self._engine.check_fire(inp, workflow.now()))

    @workflow.update
    async def update_fields(self, inp: UpdateFieldsInput) -> RecordSnapshot:
        return await self._command(
            inp.actor,
            lambda now: self._engine.update_fields(inp, now),
            lambda: self._engine.references_in(inp.fields),
            lambda _now: self._engine.schedule_check_to_update(inp),
        )

    @update_fields.validator
    def _validate_update_fields(self, inp: UpdateFieldsInput) -> None:
        self._validate(lambda: self._engine.check_update(inp))

    @workflow.update
    async def decide_approval(self, inp: DecideApprovalInput) -> RecordSnapshot:
        delegation = None
        if inp.on_behalf_of is not None and not self._remembered():
            # The workflow looks the delegation up itself (workflows/lookups.py).
            delegation = await lookups.delegation_in_force(
                inp.on_behalf_of, inp.actor.username, workflow.now()
            )
        return await self._command(inp.actor, lambda now: self._engine.decide(inp, now, delegation))

    @decide_approval.validator
    def _validate_decide(self, inp: DecideApprovalInput) -> None:
        self._validate(lambda: self._engine.check_decide(inp))

    @workflow.update
    async def add_comment(self, inp: AddCommentInput) -> RecordSnapshot:
        return await self._command(inp.actor, lambda now: self._engine.comment(inp, now))

    @add_comment.validator
    def _validate_comment(self, inp: AddCommentInput) -> None:
        self._validate(lambda: None)

    @workflow.signal
    async def resync(self) -> None:
        """Write the record again as Temporal has committed it. An Update whose workflow task was
        discarded and never retried (its caller gave up) left its rows open in the read model, and
        nothing else would replace them until the record's next change (bench/chaos.py found one);
        the API sends this when Temporal did not answer an action. No patch: only runs that receive
        it take it, and the write changes nothing in the workflow's state."""
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            self._mark_task()
            await self._persist(self._engine.snapshot(None, workflow.now()), [], notifications=True)

    @workflow.update
    async def add_attachment(self, inp: AddAttachmentInput) -> RecordSnapshot:
        """A file attached (its bytes already in the attachment store): recorded in history and audit."""
        return await self._command(inp.actor, lambda now: self._engine.attach(inp, now))

    @add_attachment.validator
    def _validate_attachment(self, inp: AddAttachmentInput) -> None:
        self._validate(lambda: self._engine.check_attach(inp))

    @workflow.query
    def snapshot(self, q: SnapshotQuery) -> RecordSnapshot:
        return self._engine.snapshot(q.actor, workflow.now())
