"""The `resolve_references` activity: which records the values of checked reference fields name.

The workflow asks it itself (a local activity, workflows/lookups.py) rather than trusting the API:
anyone with a Temporal client can send any value, but only the worker reads the records table with its
own credentials. The answer is recorded in the history, so a replay decides as the first run did."""

from __future__ import annotations

from sqlalchemy import Engine
from temporalio import activity

from client.references import resolve_references
from workflows.contracts import ResolveReferencesInput, ResolveReferencesResult


class ReferenceActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name="resolve_references")
    def resolve_references(self, inp: ResolveReferencesInput) -> ResolveReferencesResult:
        return resolve_references(self.engine, inp)
