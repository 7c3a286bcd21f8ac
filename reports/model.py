"""What a key indicator is, and the facts about one record that the formulas read.

A `Kpi` carries its own formula and source clause so that a report shows auditors not only the value
but how it was obtained: numerator, denominator and the rule of the standard it implements.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr

Unit = Literal["percent", "count", "minutes", "hours", "days"]


class Label(BaseModel):
    zh: str
    en: str


class Period(BaseModel):
    """Records created in [start, end); open ends are unbounded."""

    start: datetime | None = Field(default=None, serialization_alias="from")
    end: datetime | None = Field(default=None, serialization_alias="to")


class Kpi(BaseModel):
    key: str
    label: Label
    value: float | None = Field(description="None when the denominator is zero: no data, not 0 %.")
    numerator: float | None = None
    denominator: float | None = None
    unit: Unit
    # The formula in plain words, English and Chinese: people read it (dashboard, service report,
    # exports), so it names no field keys or states by their internal names. `formula` stays the
    # English one so the API's existing field keeps its meaning.
    formula: str
    formula_zh: str
    source: str = Field(description="The clause of the standard the indicator comes from.")
    period: Period
    breakdown: dict[str, float] | None = Field(default=None, description="Counts per category, if any.")
    # The records behind the figure (the numerator's, or those measured), for the dashboard's
    # drill-down; None: every record of the period. Not part of the API's answer.
    _members: tuple[str, ...] | None = PrivateAttr(default=None)

    def with_members(self, records: Iterable[Facts]) -> Kpi:
        self._members = tuple(f.id for f in records)
        return self

    @property
    def members(self) -> tuple[str, ...] | None:
        return self._members

    def formula_in(self, lang: str) -> str:
        """The formula in the reader's language ('zh' or anything else: English)."""
        return self.formula_zh if lang == "zh" else self.formula

    def source_in(self, lang: str) -> str:
        """The clause cited, as a Chinese reader cites it (`App. B.9` → `附录B.9`)."""
        return cite(self.source, lang)


def cite(source: str, lang: str) -> str:
    if lang != "zh":
        return source
    return re.sub(r"\bseed (\d{3})", r"标准 \1", re.sub(r"\bApp\. ?", "附录", source))


class KpiReport(BaseModel):
    definition: str
    kind: str
    period: Period
    records: int
    indicators: list[Kpi]
    assumptions: list[str] = Field(
        default_factory=list, description="Field names and rules the formulas use."
    )


@dataclass
class Event:
    """One audit row, reduced to what the formulas use."""

    seq: int
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    details: dict[str, Any]

    @property
    def trigger(self) -> str | None:
        value = self.details.get("trigger")
        return str(value) if value is not None else None

    @property
    def by_person(self) -> bool:
        return not self.actor.startswith("system:")


@dataclass
class Approval:
    id: str
    step: str
    level: int
    state: str
    opened_at: datetime
    closed_at: datetime | None


@dataclass
class Facts:
    """A record of the read model with its audit trail (in sequence order) and approval tasks."""

    id: str
    number: str
    definition: str
    state: str
    state_category: str
    final: bool
    fields: dict[str, Any]
    snapshot: dict[str, Any]
    created_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    events: list[Event] = field(default_factory=list)
    approvals: list[Approval] = field(default_factory=list)

    def transitions(self) -> list[Event]:
        return [e for e in self.events if e.action == "transition"]

    def slas(self) -> list[dict[str, Any]]:
        return list(self.snapshot.get("slas") or [])

    def field_changes(self, name: str) -> list[tuple[Event, Any]]:
        """Every change of a field after creation: by edits, transitions and effects, in order."""
        out: list[tuple[Event, Any]] = []
        for e in self.events:
            changed = e.details.get("fields")
            if e.action in ("fields_changed", "fields_set", "transition") and isinstance(changed, dict):
                if name in changed:
                    out.append((e, changed[name]))
            elif e.action == "escalated" and e.details.get("field") == name:
                out.append((e, e.details.get("to")))
            if name == "assignment_group" and e.action in ("escalated", "reassigned"):
                group = e.details.get("assignment_group") if e.action == "escalated" else e.details.get("to")
                if group is not None:
                    out.append((e, group))
        return out

    def initial_fields(self) -> dict[str, Any]:
        created = next((e for e in self.events if e.action == "created"), None)
        if created is not None and isinstance(created.details.get("fields"), dict):
            return dict(created.details["fields"])
        return {}


def parse_instant(text: str) -> datetime:
    """A period bound: an ISO date (midnight UTC) or date-time (no offset means UTC).

    Raises ValueError with the text when it is neither.
    """
    from datetime import UTC, date

    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an ISO 8601 date or date-time: {text!r}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
