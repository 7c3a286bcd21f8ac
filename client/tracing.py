"""OpenTelemetry across Temporal: one trace from an HTTP request through the Update to its activities.

Temporal's own interceptor (`temporalio.contrib.opentelemetry.TracingInterceptor`) carries the trace
context in headers: the client's `StartWorkflowUpdate` span travels with the Update, and the worker
continues it. But it hangs everything a workflow does under the span of the request that *started*
the workflow, and only links an Update's span to the request that sent it: the `persist_record` and
`notify` activities of an action would land in the trace of the record's creation, weeks earlier.

`Tracing` keeps Temporal's interceptor and changes one thing: an Update's validator and handler run
in the context of the Update's own header, so the handler's span is a child of the client's
`StartWorkflowUpdate` span and the activities it starts are children of the handler's span. An
operator opening the trace of `POST /api/v1/processes/INC-7/transitions` sees the request, the
Update, its validation, `persist_record` and the deliveries together.

Deterministic: spans are made by the worker outside the workflow (an extern function the interceptor
registers), never while replaying, and only headers of commands change, which replay does not compare.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import opentelemetry.context
import opentelemetry.trace
import temporalio.client
import temporalio.exceptions
import temporalio.worker
from opentelemetry.context import _RUNTIME_CONTEXT
from temporalio import workflow
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor
from temporalio.contrib.opentelemetry import (
    _CompletedWorkflowSpanParams as CompletedSpan,  # pinned SDK (pyproject): its span hand-over type
)
from temporalio.contrib.opentelemetry import (
    _TracingClientOutboundInterceptor as ClientOutbound,  # the client side, extended below
)

Carrier = dict[str, Any]


def _detach(token: Any) -> None:
    """Leave a context; quietly when the workflow was evicted from the worker's cache (its coroutine
    is closed from another context: OpenTelemetry's `detach` logs a traceback for every eviction)."""
    try:
        _RUNTIME_CONTEXT.detach(token)
    except ValueError:
        pass


class UpdateTracingInbound(TracingWorkflowInboundInterceptor):
    """Temporal's workflow interceptor with Updates traced under their caller's span."""

    @contextmanager
    def _top_level_workflow_context(self, *, success_is_complete: bool) -> Iterator[None]:
        """Temporal's own (temporalio 1.18.2), detaching with `_detach`."""
        carrier = self._load_workflow_context_carrier()
        context = self.text_map_propagator.extract(carrier) if carrier else opentelemetry.context.Context()
        token = opentelemetry.context.attach(self._set_on_context(context))
        success = False
        exception: Exception | None = None
        try:
            yield None
            success = True
        except temporalio.exceptions.FailureError as err:
            exception = err
            raise
        finally:
            if exception or (success and success_is_complete):
                self._completed_span(
                    f"CompleteWorkflow:{workflow.info().workflow_type}",
                    exception=exception,
                    kind=opentelemetry.trace.SpanKind.INTERNAL,
                )
            _detach(token)

    def _update_carrier(self, inp: temporalio.worker.HandleUpdateInput) -> Carrier | None:
        header = inp.headers.get(self.header_key)
        if not header:
            return None
        carrier = self.payload_converter.from_payloads([header])[0]
        return carrier if isinstance(carrier, dict) and carrier else None

    @contextmanager
    def _under_update(self, inp: temporalio.worker.HandleUpdateInput, name: str) -> Iterator[bool]:
        """Run in the Update's trace with a span `name` as the current one; False: no trace to join."""
        carrier = self._update_carrier(inp)
        if carrier is None:
            yield False
            return
        token = opentelemetry.context.attach(self._set_on_context(self.text_map_propagator.extract(carrier)))
        try:
            inner = self._span_here(name)
            if inner is None:
                yield True
                return
            context = self._set_on_context(self.text_map_propagator.extract(inner))
            inner_token = opentelemetry.context.attach(context)
            try:
                yield True
            finally:
                _detach(inner_token)
        finally:
            _detach(token)

    def _span_here(self, name: str) -> Carrier | None:
        """A completed span under the current context, as a carrier to continue from (None on replay)."""
        if workflow.unsafe.is_replaying():
            return None
        carrier: Carrier = {}
        self.text_map_propagator.inject(carrier)
        info = workflow.info()
        made = self._extern_functions["__temporal_opentelemetry_completed_span"](
            CompletedSpan(
                context=carrier,
                name=name,
                attributes={"temporalWorkflowID": info.workflow_id, "temporalRunID": info.run_id},
                time_ns=workflow.time_ns(),
                link_context=None,
                exception=None,
                kind=opentelemetry.trace.SpanKind.SERVER,
                parent_missing=False,
            )
        )
        return made if made else None

    def handle_update_validator(self, input: temporalio.worker.HandleUpdateInput) -> None:
        with self._under_update(input, f"ValidateUpdate:{input.update}") as traced:
            if not traced:
                super().handle_update_validator(input)
                return
            self.next.handle_update_validator(input)

    async def handle_update_handler(self, input: temporalio.worker.HandleUpdateInput) -> Any:
        with self._under_update(input, f"HandleUpdate:{input.update}") as traced:
            if not traced:
                return await super().handle_update_handler(input)
            return await self.next.handle_update_handler(input)


class UpdateWithStartOutbound(ClientOutbound):
    """The client side, with update-with-start traced too (a record's creation: client/launch.py),
    which this SDK's interceptor passes through untraced: the workflow's start and its first Update
    carry the span's context, so the record's first task and activities join the creating request."""

    async def start_update_with_start_workflow(
        self, input: temporalio.client.StartWorkflowUpdateWithStartInput
    ) -> temporalio.client.WorkflowUpdateHandle[Any]:
        start, update = input.start_workflow_input, input.update_workflow_input
        with self.root._start_as_current_span(
            f"UpdateWithStartWorkflow:{start.workflow}",
            attributes={"temporalWorkflowID": start.id},
            input=start,
            kind=opentelemetry.trace.SpanKind.CLIENT,
        ):
            update.headers = self.root._context_to_headers(update.headers)
            return await super().start_update_with_start_workflow(input)


class Tracing(TracingInterceptor):
    """The client and worker interceptor: Temporal's, with update-with-start traced on the client
    (`UpdateWithStartOutbound`) and `UpdateTracingInbound` in workflows."""

    def intercept_client(
        self, next: temporalio.client.OutboundInterceptor
    ) -> temporalio.client.OutboundInterceptor:
        return UpdateWithStartOutbound(next, self)

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        super().workflow_interceptor_class(input)  # registers the span-making extern function
        return UpdateTracingInbound


def interceptors(tracer: opentelemetry.trace.Tracer | None = None) -> list[Tracing]:
    """The interceptors a traced client passes on to its workers."""
    return [Tracing(tracer)]
