"""The schedule's table (migration 0010): freeze and maintenance windows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from core.tables import UTCDateTime


class WindowRow(SQLModel, table=True):
    """A freeze window (no change in it: `block`, or only emergency changes the ECAB approved: `ecab`)
    or a maintenance window (changes to its CIs belong in it). Cancelled, never deleted: a refusal once
    named it."""

    __tablename__ = "schedule_windows"
    __table_args__ = (Index("ix_schedule_windows_span", "starts_at", "ends_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # freeze | maintenance
    title_en: str = Field(max_length=200)
    title_zh: str = Field(max_length=200)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    scope: str = Field(max_length=16)  # all | services | ci_classes | cis
    scope_values: list[Any] = Field(default=None, sa_column=Column(JSON, nullable=False))
    severity: str = Field(default="block", max_length=8)  # block | ecab (freeze windows)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    cancelled_by: str | None = Field(default=None, max_length=64)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class FeedRow(SQLModel, table=True):
    """An iCalendar feed of the schedule for a calendar program, which cannot send a bearer token: the
    feed's secret is in its URL, only its hash is kept, and its owner revokes it. The feed shows what
    its owner may see, filtered to a user, a group or a CI."""

    __tablename__ = "schedule_feeds"

    id: str = Field(primary_key=True, max_length=32)
    secret_hash: str = Field(max_length=64)
    owner: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=8)  # user | group | ci
    target: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SharedCalendarVersionRow(SQLModel, table=True):
    """An administrator's version of a shared business calendar (the shipped file is version 0). Never
    changed or deleted: a record pins the version it started with, and an auditor may ask which."""

    __tablename__ = "shared_calendar_versions"

    name: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    body: dict[str, Any] = Field(default=None, sa_column=Column(JSON, nullable=False))
    note: str = Field(max_length=500)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
