"""The CMDB's tables (migration 0005): model versions, CIs, their unique keys, relationships and every
CI's versions (the CMDB's audit trail)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.tables import UTCDateTime


class CmdbModelRow(SQLModel, table=True):
    """A version of the CMDB model's YAML: draft -> published -> retired, like a process definition."""

    __tablename__ = "cmdb_models"

    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(unique=True)
    status: str = Field(default="draft", max_length=16)
    source: str = Field(sa_column=Column(Text, nullable=False))
    hash: str = Field(max_length=80)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    published_by: str | None = Field(default=None, max_length=64)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CiRow(SQLModel, table=True):
    __tablename__ = "cmdb_cis"
    __table_args__ = (Index("ix_cmdb_cis_class_name", "class_name", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    class_name: str = Field(max_length=48)
    name: str = Field(max_length=200, index=True)
    status: str = Field(default="active", max_length=16)  # active | retired
    attributes: dict[str, Any] = Field(default=None, sa_column=Column(JSON, nullable=False))
    model_version: int  # the model version the CI was last checked against (0: the shipped default)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_by: str = Field(max_length=64)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CiKeyRow(SQLModel, table=True):
    """One row per unique attribute value of an active CI: the primary key makes duplicates impossible,
    whichever API process or import writes them."""

    __tablename__ = "cmdb_ci_keys"

    class_name: str = Field(primary_key=True, max_length=48)
    attribute: str = Field(primary_key=True, max_length=48)
    value: str = Field(primary_key=True, max_length=255)
    ci_id: int = Field(sa_column=Column(Integer, ForeignKey("cmdb_cis.id"), nullable=False, index=True))


class RelationRow(SQLModel, table=True):
    """`source --type--> target`: the source relies on the target."""

    __tablename__ = "cmdb_relations"
    __table_args__ = (UniqueConstraint("type", "source_id", "target_id"),)

    id: int | None = Field(default=None, primary_key=True)
    type: str = Field(max_length=48)
    source_id: int = Field(sa_column=Column(Integer, ForeignKey("cmdb_cis.id"), nullable=False, index=True))
    target_id: int = Field(sa_column=Column(Integer, ForeignKey("cmdb_cis.id"), nullable=False, index=True))
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    record_number: str | None = Field(default=None, max_length=32)


class CiVersionRow(SQLModel, table=True):
    """A change to a CI: who, when, what (attribute: [before, after], or the relationship), and through
    which record. Append-only: database triggers refuse UPDATE and DELETE."""

    __tablename__ = "cmdb_ci_versions"

    id: int | None = Field(default=None, primary_key=True)
    ci_id: int = Field(sa_column=Column(Integer, ForeignKey("cmdb_cis.id"), nullable=False, index=True))
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=16)  # created | updated | retired | related | unrelated
    changes: dict[str, Any] = Field(default=None, sa_column=Column(JSON, nullable=False))
    record_number: str | None = Field(default=None, max_length=32)


class CiProposalRow(SQLModel, table=True):
    """A CI change proposed on a change record (create, update or retire a CI), applied when the change
    is implemented and verified (the `apply_ci_changes` effect): proposed -> applied | failed, or
    withdrawn before. The CI versions it makes name the change's number."""

    __tablename__ = "cmdb_ci_proposals"

    id: int | None = Field(default=None, primary_key=True)
    record_id: str = Field(max_length=64, index=True)
    record_number: str = Field(max_length=32)
    action: str = Field(max_length=16)  # create | update | retire
    ci_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("cmdb_cis.id"), nullable=True)
    )
    class_name: str | None = Field(default=None, max_length=48)  # create
    name: str | None = Field(default=None, max_length=200)  # create, or a new name
    attributes: dict[str, Any] = Field(default=None, sa_column=Column(JSON, nullable=False))
    state: str = Field(default="proposed", max_length=16)  # proposed | applied | failed | withdrawn
    proposed_by: str = Field(max_length=64)
    proposed_at: datetime = Field(sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    result_ci_id: int | None = None  # the CI created or changed
    error: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))  # {en, zh}
