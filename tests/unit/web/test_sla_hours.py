"""A running clock outside its service hours (issue 16): the record page says when it counts again."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from api.web.sla_hours import resumes_at
from definitions.loader import load_file
from tests.paths import LIBRARY


def _view(name: str, target_key: str) -> Any:
    return SimpleNamespace(
        name=name, state="running", agreement=None, agreement_version=None, target_key=target_key
    )


def test_a_business_hours_clock_on_a_saturday_resumes_on_monday_morning() -> None:
    d = load_file(LIBRARY / "incident.yaml").definition
    assert d is not None
    snap: Any = SimpleNamespace(slas=[_view("resolution", "3"), _view("response", "1")])
    saturday = datetime(2026, 12, 5, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, a Saturday
    got = resumes_at(None, d, snap, saturday)  # type: ignore[arg-type]  # no agreement: no session read
    # Priority 3 counts in business hours: Monday 7 December 2026, 09:00 in Shanghai. Priority 1 is 7x24.
    assert got == {"resolution": datetime(2026, 12, 7, 1, 0, tzinfo=UTC)}
    # Within the hours nothing is said; at lunch (12:00-13:00) it resumes at 13:00.
    assert resumes_at(None, d, snap, datetime(2026, 12, 7, 2, 0, tzinfo=UTC)) == {}  # type: ignore[arg-type]
    lunch = resumes_at(None, d, snap, datetime(2026, 12, 7, 4, 30, tzinfo=UTC))  # type: ignore[arg-type]
    assert lunch == {"resolution": datetime(2026, 12, 7, 5, 0, tzinfo=UTC)}
