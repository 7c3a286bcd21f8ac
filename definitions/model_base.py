"""The definition language's vocabulary: the base model, bilingual text, names, and the fixed sets
(field types, state categories, built-in roles and fields) every part of `definitions.model` uses."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
Name = Annotated[str, Field(pattern=NAME_PATTERN, min_length=1, max_length=64)]

FieldType = Literal[
    "string",
    "text",
    "int",
    "bool",
    "enum",
    "datetime",
    "duration",
    "user",
    "group",
    "reference",
    "ci",
    "list",
    "checklist",
]
StateCategory = Literal["new", "open", "waiting", "resolved", "closed"]
ApprovalPolicy = Literal["any", "all", "quorum", "percentage"]
GuardOp = Literal["eq", "ne", "in", "not_in", "gt", "ge", "lt", "le", "is_set", "is_empty", "contains"]

BUILTIN_ROLES: frozenset[str] = frozenset(
    {"admin", "process_owner", "agent", "approver", "integrator", "requester"}
)
# Fields every record has, whether or not the definition declares them.
BUILTIN_FIELDS: dict[str, FieldType] = {
    "title": "string",
    "requester": "user",
    "assignee": "user",
    "assignment_group": "group",
}
RELATIONS: frozenset[str] = frozenset({"requester", "assignee", "assignment_group"})


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=False)


class I18nText(Model):
    """A text in Chinese and English. A plain string in YAML is used for both."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _from_plain_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"zh": value, "en": value}
        return value

    def get(self, lang: str) -> str:
        return self.zh if lang.startswith("zh") else self.en
