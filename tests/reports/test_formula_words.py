"""Every KPI formula a person reads (issues 16, 21): in Chinese and English, and no internal names.

Each shipped library definition is published under a key of its own (its kind kept by the key's prefix)
with one record, so every indicator set — and the counters a definition declares — is computed; each
indicator's `formula` and `formula_zh` are then held to the product rule.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine

from definitions.model_base import I18nText
from definitions.model_parts import CounterDef
from reports import counters
from reports.kpis import CALCULATORS
from reports.model import Kpi, Period
from tests.paths import LIBRARY, ROOT
from tests.reports.test_kpis import T0, Builder, key, report

# A field key, state or trigger name as the code spells it (resolved_at, major_incident, due_at).
INTERNAL = re.compile(r"\b[a-z]+_[a-z_]+\b")
CJK = re.compile(r"[\u4e00-\u9fff]")


def problems(kpi: Kpi) -> list[str]:
    """What is wrong with one indicator's formulas, in words for the assertion message."""
    out = []
    if not kpi.formula.strip():
        out.append("no English formula")
    if not CJK.search(kpi.formula_zh):
        out.append(f"no Chinese formula: {kpi.formula_zh!r}")
    for text in (kpi.formula, kpi.formula_zh):
        out += [f"internal name {m!r} in {text!r}" for m in INTERNAL.findall(text)]
    return out


@pytest.mark.db
def test_every_shipped_indicator_has_its_formula_in_both_languages_and_no_internal_names(
    db_engine: Engine,
) -> None:
    kinds: set[str] = set()
    counted = 0
    wrong: dict[str, list[str]] = {}
    documented = (ROOT / "docs" / "kpis.md").read_text(encoding="utf-8")
    for path in sorted(LIBRARY.glob("*.yaml")):
        definition = key(path.stem)
        build = Builder(db_engine, definition)
        build.publish(path.name)
        build.record(state="new", category="new", created=T0)
        result, _ = report(db_engine, definition, period=Period(start=T0, end=None))
        kinds.add(result.kind)
        assert result.indicators, definition
        for kpi in result.indicators:
            counted += kpi.key.startswith("counter_")
            found = problems(kpi)
            # docs/kpis.md lists every formula in both languages: held to the code here.
            found += [
                f"not in docs/kpis.md: {t!r}" for t in (kpi.formula, kpi.formula_zh) if t not in documented
            ]
            if found:
                wrong[f"{path.stem}.{kpi.key}"] = found
    assert not wrong, wrong
    assert kinds == set(CALCULATORS)  # every indicator set was computed (standard_change: generic)
    assert counted  # and the counters of the definitions that declare some


def test_a_counter_without_a_label_reads_in_words() -> None:
    kpis = counters.compute([CounterDef(name="drills_run")], [], Period())
    assert [problems(k) for k in kpis] == [[], []]
    assert kpis[0].formula == "Σ drills run over the records created in the period"
    labelled = counters.compute(
        [CounterDef(name="times_reopened", label=I18nText(zh="重新打开次数", en="Times reopened"))],
        [],
        Period(),
    )
    assert labelled[1].formula_zh == "“重新打开次数”大于零的记录数 / 本期创建的记录数"


def test_the_reader_gets_the_formula_in_their_language() -> None:
    kpi = counters.compute([CounterDef(name="drills_run")], [], Period())[0]
    assert kpi.formula_in("zh") == kpi.formula_zh and kpi.formula_in("en") == kpi.formula
    assert "formula_zh" in kpi.model_dump() and "formula" in kpi.model_dump()  # the API keeps both
