"""The CMDB's model language: CI classes with typed attributes, and relationship types.

A model is data a configuration manager publishes (YAML, versioned like process definitions). Pure:
no I/O. Semantic rules that span several parts (a key attribute that exists, a relationship naming
known classes) are in `validate.py`, each with its path.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

NAME = r"^[a-z][a-z0-9_]{0,47}$"
AttributeType = Literal["string", "text", "integer", "number", "boolean", "date", "enum", "ip", "url"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(_Strict):
    zh: str = Field(min_length=1, max_length=120)
    en: str = Field(min_length=1, max_length=120)


class Attribute(_Strict):
    name: str = Field(pattern=NAME)
    type: AttributeType = "string"
    label: Label
    required: bool = False
    # Unique within the class among CIs that are not retired (hostname, asset tag, serial number).
    unique: bool = False
    values: list[str] = Field(default_factory=list, max_length=200)  # for `enum`
    max_length: int = Field(default=255, ge=1, le=4000)  # for `string`, `text`, `url`


class CiClass(_Strict):
    name: str = Field(pattern=NAME)
    label: Label
    description: Label | None = None
    # A business service: impact analysis lists the services a failure reaches.
    business_service: bool = False
    # Changed only through a change (003 App. B.11: every CI change has its change request): a direct
    # edit or retirement is refused, and counted as an unauthorised attempt; changes propose CI changes
    # that apply when they are implemented (cmdb/proposals.py).
    requires_change: bool = False
    # The attribute that identifies a CI of this class in imports (must be unique and required);
    # `name` (every CI has one) when not given.
    key: str = "name"
    attributes: list[Attribute] = Field(default_factory=list, max_length=100)

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)


class RelationType(_Strict):
    """A directed relationship `source --name--> target`; the target is what the source relies on,
    so impact flows from target to source (a server's failure reaches the applications running on
    it)."""

    name: str = Field(pattern=NAME)
    label: Label
    inverse: Label  # read from the target's side: "runs on" / "hosts"
    # Classes allowed on each end; empty: any class.
    sources: list[str] = Field(default_factory=list, max_length=100)
    targets: list[str] = Field(default_factory=list, max_length=100)
    acyclic: bool = False  # refuse a relationship that would close a loop of this type


class CmdbModel(_Strict):
    title: Label
    classes: list[CiClass] = Field(min_length=1, max_length=200)
    relations: list[RelationType] = Field(default_factory=list, max_length=100)

    def ci_class(self, name: str) -> CiClass | None:
        return next((c for c in self.classes if c.name == name), None)

    def relation(self, name: str) -> RelationType | None:
        return next((r for r in self.relations if r.name == name), None)
