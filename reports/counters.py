"""Indicators from a definition's counters (issue 20): for each counter its total over the records
created in the period, and how many records counted at least one (times reopened, drills run)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from core.tables import DefinitionRow
from definitions.loader import load_text
from definitions.model import CounterDef
from reports.common import count, ratio
from reports.model import Facts, Kpi, Period


def declared(session: Session, definition: str) -> list[CounterDef]:
    """The counters of the definition's newest version (published or not: its records may run on it)."""
    row = session.exec(
        select(DefinitionRow)
        .where(DefinitionRow.key == definition)
        .order_by(col(DefinitionRow.version).desc())
    ).first()
    if row is None:
        return []
    result = load_text(row.source)
    return list(result.definition.counters) if result.definition is not None else []


def _value(f: Facts, name: str) -> int:
    value = f.fields.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def compute(counters: list[CounterDef], facts: list[Facts], period: Period) -> list[Kpi]:
    out: list[Kpi] = []
    for c in counters:
        # A counter without a label falls back to its name in words: the key is not for readers.
        words = c.name.replace("_", " ")
        zh = c.label.zh if c.label else words
        en = c.label.en if c.label else words
        source = c.source or "the definition's counters"
        out.append(
            count(
                f"counter_{c.name}",
                f"{zh}（合计）",
                f"{en} (total)",
                sum(_value(f, c.name) for f in facts),
                formula=f"Σ {en.lower()} over the records created in the period",
                formula_zh=f"本期创建记录的“{zh}”之和",
                source=source,
                period=period,
            )
        )
        out.append(
            ratio(
                f"counter_{c.name}_records",
                f"{zh}不为零的记录占比",
                f"Records with {en.lower()} above zero",
                sum(1 for f in facts if _value(f, c.name) > 0),
                len(facts),
                formula=f"records with {en.lower()} above zero / records created in the period",
                formula_zh=f"“{zh}”大于零的记录数 / 本期创建的记录数",
                source=source,
                period=period,
            )
        )
    return out
