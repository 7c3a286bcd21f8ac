"""Counters in the KPI report (issue 20): each declared counter's total over the period's records and
the share of records that counted at least one, with the counter's label and clause."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from core.db import session_scope
from core.store import add_definition_version
from reports.model import Period
from tests.reports.test_kpis import T0, Builder, key, minutes, report
from tests.unit.engine.test_counters import DEFINITION

pytestmark = pytest.mark.db


def test_counters_are_totalled_with_their_labels(db_engine: Engine) -> None:
    definition = key("drill")
    with session_scope(db_engine) as session:
        add_definition_version(
            session,
            key=definition,
            source=DEFINITION.replace("key: drill\n", f"key: {definition}\n"),
            digest="test",
            title_en="t",
            title_zh="t",
            actor="t",
        )
    build = Builder(db_engine, definition)
    for i, (reopened, drills) in enumerate([(0, 1), (2, 3), (1, 1), (0, 0)]):
        build.record(
            state="done",
            category="resolved",
            created=T0 + minutes(i),
            fields={"times_reopened": reopened, "drills_run": drills},
        )
    _, kpis = report(db_engine, definition, period=Period(start=T0, end=T0 + minutes(60)))
    total = kpis["counter_times_reopened"]
    assert (total.value, total.label.zh, total.label.en) == (
        3,
        "重新打开次数（合计）",
        "Times reopened (total)",
    )
    assert total.source == "JR/T 0074-2012 App. B.9"
    assert kpis["counter_drills_run"].value == 5
    share = kpis["counter_times_reopened_records"]
    assert (share.numerator, share.denominator, share.value) == (2, 4, 50.0)
