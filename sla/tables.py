"""The agreements' tables (migration 0011): every version of every agreement, and outages on services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.tables import UTCDateTime


class AgreementRow(SQLModel, table=True):
    """One version of an agreement. A change writes a new version and supersedes the previous one, so the
    targets a record started with stay readable (the record names agreement key and version)."""

    __tablename__ = "sla_agreements"
    __table_args__ = (
        UniqueConstraint("key", "version", name="uq_sla_agreements_key_version"),
        Index("ix_sla_agreements_service_status", "service", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64)
    version: int
    status: str = Field(default="active", max_length=16)  # active | superseded
    service: str = Field(max_length=200)  # a business-service CI's name, or "*" for the default agreement
    spec: dict[str, Any] = Field(default=None, sa_column=Column(JSON, nullable=False))
    change_ref: str | None = Field(default=None, max_length=64)  # the approved change that made it
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)


class OutageRow(SQLModel, table=True):
    """A time a service was unavailable: entered directly or taken from an incident flagged as a service
    interruption (`incident` names the record)."""

    __tablename__ = "sla_outages"
    __table_args__ = (Index("ix_sla_outages_service_start", "service", "start"),)

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=200)
    start: datetime = Field(sa_type=UTCDateTime)
    end: datetime = Field(sa_type=UTCDateTime)
    planned: bool = False
    incident: str | None = Field(default=None, max_length=64)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)


class RecordAgreementRow(SQLModel, table=True):
    """Which agreement version a record runs on (written once, when the workflow picks it): what the
    service report groups records by."""

    __tablename__ = "sla_record_agreements"
    __table_args__ = (Index("ix_sla_record_agreements_key", "agreement_key", "agreement_version"),)

    record_id: str = Field(primary_key=True, max_length=64)
    agreement_key: str = Field(max_length=64)
    agreement_version: int
