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
import temporalio.worker
from temporalio import workflow
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor
from temporalio.contrib.opentelemetry import (
    _CompletedWorkflowSpanParams as CompletedSpan,  # pinned SDK (pyproject): its span hand-over type
)

Carrier = dict[str, Any]


class UpdateTracingInbound(TracingWorkflowInboundInterceptor):
    """Temporal's workflow interceptor with Updates traced under their caller's span."""

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
                opentelemetry.context.detach(inner_token)
        finally:
            opentelemetry.context.detach(token)

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


class Tracing(TracingInterceptor):
    """The client and worker interceptor: Temporal's, with `UpdateTracingInbound` in workflows."""

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        super().workflow_interceptor_class(input)  # registers the span-making extern function
        return UpdateTracingInbound


def interceptors(tracer: opentelemetry.trace.Tracer | None = None) -> list[Tracing]:
    """The interceptors a traced client passes on to its workers."""
    return [Tracing(tracer)]
