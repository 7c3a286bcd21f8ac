"""The calendar warning and the CAB agenda's meetings, on the shipped library's definitions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from definitions.loader import load_text
from definitions.shared_calendars import builtin, with_builtin_calendars
from schedule import agenda, calendars
from schedule.views import AgendaItem
from tests.paths import ROOT


def test_a_calendar_running_out_of_declared_holidays_is_warned_about() -> None:
    d = load_text((ROOT / "definitions" / "library" / "incident.yaml").read_text(encoding="utf-8")).definition
    assert d is not None
    d = with_builtin_calendars(d)  # its own days, as a definition without a shared reference has them
    last = max(max([*c.holidays, *c.workdays]) for c in d.calendars.values() if not c.always)
    early = calendars.status([d], last - timedelta(days=90))
    assert early and not any(s.warning for s in early if s.declared_until == last)
    late = [s for s in calendars.status([d], last - timedelta(days=30)) if s.declared_until == last]
    assert late and all(s.warning for s in late)
    assert late[0].message_zh and last.isoformat() in late[0].message_zh
    assert late[0].message_en and "declares holidays only until" in late[0].message_en


def test_a_shared_reference_is_judged_by_the_shared_calendar() -> None:
    d = load_text((ROOT / "definitions" / "library" / "change.yaml").read_text(encoding="utf-8")).definition
    assert d is not None and d.calendars["business"].shared == "china_business"
    until = builtin()["china_business"].declared_until()
    assert until == date(2027, 12, 31)  # the years the file declares from the holidays package
    shared = {"china_business": builtin()["china_business"]}
    fine = calendars.status([d], until - timedelta(days=61), shared)
    assert [(s.calendar, s.shared, s.warning) for s in fine] == [("business", "china_business", False)]
    soon = calendars.status([d], until - timedelta(days=59), shared)
    assert soon[0].warning and soon[0].message_zh and "工作时间" in soon[0].message_zh


def test_a_change_goes_to_the_last_meeting_a_day_before_its_start() -> None:
    days = agenda.meetings(date(2026, 12, 5), 4, 3)  # a Saturday; Thursdays
    assert days == [date(2026, 12, 10), date(2026, 12, 17), date(2026, 12, 24)]

    def item(n: str, start: datetime | None) -> AgendaItem:
        return AgendaItem(number=n, title=n, state="s", state_label="S", planned_start=start)

    at = datetime(2026, 12, 18, 9, tzinfo=UTC)
    grouped = agenda.group(
        [item("A", at), item("B", datetime(2026, 12, 10, 9, tzinfo=UTC)), item("C", None)], days
    )
    assert [c.number for c in grouped[1].changes] == ["A"] and not grouped[1].changes[0].late
    assert [(c.number, c.late) for c in grouped[0].changes] == [("B", True), ("C", False)]
    text = agenda.to_csv(grouped, "zh")
    assert text.splitlines()[0].startswith("会议日期,变更") and "2026-12-17,A" in text
