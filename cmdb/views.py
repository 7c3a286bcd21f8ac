"""What the CMDB answers with: the shapes the API documents and the CLI prints."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class ModelVersionOut(BaseModel):
    version: int = Field(description="0 is the shipped default model, in force until one is published.")
    status: Literal["draft", "published", "retired", "builtin"]
    hash: str
    created_by: str
    created_at: datetime | None = None
    published_by: str | None = None
    published_at: datetime | None = None


class ModelOut(ModelVersionOut):
    source: str = Field(description="The model's YAML.")
    model: dict[str, Any] = Field(description="The parsed model: title, classes, relations.")


class IssueOut(BaseModel):
    path: str = Field(description="Where: a field (`attributes.hostname`) or a row (`line 3, column 2`).")
    message: str


class ModelValidationOut(BaseModel):
    valid: bool
    errors: list[IssueOut]


class RelationOut(BaseModel):
    id: int
    type: str
    label: dict[str, str] = Field(description="The type's name read from this CI's side, zh and en.")
    direction: Literal["outgoing", "incoming"]
    ci: int = Field(description="The CI at the other end.")
    ci_name: str
    ci_class: str
    created_by: str
    created_at: datetime
    record: str | None = None


class CiOut(BaseModel):
    id: int
    class_name: str = Field(alias="class", serialization_alias="class")
    name: str
    status: Literal["active", "retired"]
    attributes: dict[str, Any]
    model_version: int
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    retired_at: datetime | None = None
    relations: list[RelationOut] | None = Field(default=None, description="With a single CI only.")

    model_config = {"populate_by_name": True}


class CiPage(BaseModel):
    items: list[CiOut]
    next_after: int | None = Field(description="Pass as `after` for the next page; null on the last.")


class VersionOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: Literal["created", "updated", "retired", "related", "unrelated"]
    changes: dict[str, Any] = Field(description="attribute: [before, after], or the relationship.")
    record: str | None = Field(default=None, description="The record the change was made through.")


class VersionPage(BaseModel):
    items: list[VersionOut]
    next_after: int | None


class ReachedCi(BaseModel):
    id: int
    class_name: str = Field(serialization_alias="class")
    name: str
    depth: int
    direction: Literal["upstream", "downstream"]
    path: list[int] = Field(description="CI ids from the start to this one.")
    business_service: bool


class RecordOnCiOut(BaseModel):
    """A record that names a CI in one of its `ci` fields."""

    ci: int = Field(description="The CI the record names.")
    field: str = Field(description="The record's field that names it.")
    id: str
    number: str
    process: str = Field(description="The record's process (definition key).")
    process_title: str = Field(description="The process's title, in the caller's language.")
    title: str
    state: str
    state_label: str = Field(description="The state's label, in the caller's language.")
    priority: str | None = None
    final: bool


class ImpactOut(BaseModel):
    start: int
    depth: int
    direction: Literal["upstream", "downstream", "both"]
    reached: list[ReachedCi]
    services: list[ReachedCi] = Field(description="The business services reached (the start too, if one).")
    truncated: bool = Field(description="True when the walk stopped at its row limit.")
    records: list[RecordOnCiOut] = Field(
        default_factory=list,
        description="The open records (incidents, problems, changes, …) on the start CI and the CIs "
        "reached, that the caller may see; at most 200, newest first.",
    )


class RecordImpactOut(BaseModel):
    """A record's impact: the union of its CIs' impact analyses."""

    record: str = Field(description="The record's number.")
    cis: list[ReachedCi] = Field(description="The CIs the record's `ci` fields name (depth 0).")
    depth: int
    direction: Literal["upstream", "downstream", "both"]
    reached: list[ReachedCi] = Field(description="Each CI reached once, at its smallest depth.")
    services: list[ReachedCi]
    truncated: bool
    records: list[RecordOnCiOut] = Field(
        default_factory=list, description="Other open records on those CIs that the caller may see."
    )


class RowIssue(BaseModel):
    line: int = Field(description="The line in the CSV file, or the item's position (1-based) in JSON.")
    column: str = Field(description="The CSV column (number and header) or the JSON field.")
    message: str


class ImportReport(BaseModel):
    dry_run: bool
    transaction: Literal["one"] = Field(
        default="one", description="An import is one transaction: every row is written, or none."
    )
    rows: int
    created: int
    updated: int
    unchanged: int
    relations_created: int
    relations_existing: int
    errors: list[RowIssue]


class CiProposalOut(BaseModel):
    """A CI change proposed on a change record."""

    id: int
    record: str = Field(description="The change's number.")
    action: Literal["create", "update", "retire"]
    ci: int | None = Field(description="The CI to update or retire.")
    class_name: str | None = Field(
        alias="class", serialization_alias="class", description="The class of a CI to create."
    )
    name: str | None = Field(description="The name of a CI to create, or a CI's new name.")
    attributes: dict[str, Any]
    state: Literal["proposed", "applied", "failed", "withdrawn"]
    proposed_by: str
    proposed_at: datetime
    decided_at: datetime | None = Field(description="When it was applied, failed or withdrawn.")
    result_ci: int | None = Field(description="The CI created or changed, once applied.")
    error: str | None = Field(description="Why it failed, in the caller's language.")

    model_config = {"populate_by_name": True}
