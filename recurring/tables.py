"""The tables of scheduled records (migration 0015): the schedules and the history of their runs.

Temporal owns when a schedule fires (a Temporal Schedule per row, visible in the Temporal UI); these
rows own what it starts (definition, title, fields, owner, catch-up policy) and what each run did.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.tables import UTCDateTime


class RecordScheduleRow(SQLModel, table=True):
    """One schedule. Deleted schedules keep their row (`deleted_at`): their runs stay readable."""

    __tablename__ = "record_schedules"

    id: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=200)
    definition: str = Field(max_length=64, index=True)
    title: str = Field(max_length=200)
    fields: dict[str, Any] = Field(default=None, sa_column=Column(JSON, nullable=False))
    rule: dict[str, Any] = Field(default=None, sa_column=Column(JSON, nullable=False))
    calendar: str | None = Field(default=None, max_length=64)  # a shared calendar; None: every day
    timezone: str = Field(max_length=64)
    catch_up: str = Field(max_length=8)  # once | skip
    owner: str = Field(max_length=64)
    paused: bool = False
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ScheduleRunRow(SQLModel, table=True):
    """What one due occurrence did: started a record, was skipped (missed during downtime), or was
    refused by the definition's rules. Unique per occurrence: a retried run writes the same row."""

    __tablename__ = "schedule_runs"
    __table_args__ = (
        UniqueConstraint("schedule_id", "scheduled_at"),
        Index("ix_schedule_runs_schedule", "schedule_id", "scheduled_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    schedule_id: str = Field(max_length=32)
    scheduled_at: datetime = Field(sa_type=UTCDateTime)
    ran_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(max_length=16)  # started | skipped | refused
    reason: str | None = Field(default=None, max_length=32)  # late | superseded | a refusal kind
    message_en: str | None = Field(default=None, max_length=1000)
    message_zh: str | None = Field(default=None, max_length=1000)
    record_id: str | None = Field(default=None, max_length=64)
    number: str | None = Field(default=None, max_length=32)
    workflow_id: str = Field(max_length=200)
