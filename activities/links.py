"""The `create_linked_record` activity: a `create_record` effect starts another record, linked to its
parent, through the same launcher as the API (client/launch.py)."""

from __future__ import annotations

from sqlalchemy import Engine
from temporalio import activity
from temporalio.client import Client

from client.launch import launch_record, pinned_definition, record_id_for
from workflows.contracts import CreateLinkedRecordInput, CreateLinkedRecordResult


class LinkActivities:
    def __init__(self, client: Client, engine: Engine, task_queue: str) -> None:
        self.client = client
        self.engine = engine
        self.task_queue = task_queue

    @activity.defn(name="create_linked_record")
    async def create_linked_record(self, inp: CreateLinkedRecordInput) -> CreateLinkedRecordResult:
        pinned = pinned_definition(self.engine, inp.definition)
        record_id = record_id_for(inp.key)
        fields = dict(inp.fields)
        if inp.back_link_field:
            fields[inp.back_link_field] = inp.parent_id
        snapshot = await launch_record(
            self.client,
            self.engine,
            task_queue=self.task_queue,
            pinned=pinned,
            record_id=record_id,
            title=inp.title,
            fields=fields,
            actor=inp.actor,
            parent_id=inp.parent_id,
        )
        return CreateLinkedRecordResult(record_id=snapshot.id, number=snapshot.number)
