"""Date arithmetic in guards (definitions/dates.py): a notice period in working days of a calendar with
holidays and make-up days, a deadline relative to a field, the age of a record; refusals saying which
date had to be reached and by how much, in zh and en; definitions that misuse them refused by path."""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml

from definitions.loader import from_data
from tests.unit.engine.support import ALICE, BOB, T0, fire, inline, start
from workflows.contracts import Actor
from workflows.engine import Refusal

BOB_ZH = Actor(username="bob", roles=["agent"], groups=["desk"], language="zh")

SOURCE = """
key: notice
title: {zh: 通知期, en: Notice}
number_prefix: NTC
owner: alice
calendars:
  business:
    timezone: Asia/Shanghai
    weekly: {mon: ["09:00-18:00"], tue: ["09:00-18:00"], wed: ["09:00-18:00"], thu: ["09:00-18:00"],
             fri: ["09:00-18:00"]}
    holidays: [2026-03-04]          # a Wednesday off
    workdays: [2026-03-07]          # a Saturday worked (调休)
fields:
  - {name: planned_start, type: datetime, label: {zh: 计划开始, en: Planned start}}
  - {name: resolved_at, type: datetime, label: {zh: 解决时间, en: Resolved at}}
states:
  - {name: draft, category: new}
  - {name: submitted, category: open}
  - {name: resolved, category: resolved}
  - {name: reopened, category: open}
  - {name: archived, category: closed, final: true}
transitions:
  - trigger: submit
    from: draft
    to: submitted
    allowed: {roles: [agent]}
    guard: {field: planned_start, op: ge, value_field: now, offset: {working_days: 3, calendar: business}}
  - {trigger: resolve, from: submitted, to: resolved, allowed: {roles: [agent]}}
  - trigger: reopen
    from: resolved
    to: reopened
    allowed: {roles: [agent]}
    guard: {field: now, op: le, value_field: resolved_at, offset: {days: 5}}
  - trigger: archive
    from: [submitted, resolved, reopened]
    to: archived
    allowed: {roles: [agent]}
    guard: {field: now, op: ge, value_field: created_at, offset: {days: 30}}
"""


def test_a_notice_period_counts_working_days_in_the_calendar() -> None:
    # T0 is Monday 2026-03-02 17:00 in Shanghai. Three working days on: Tue 3, (Wed 4 is a holiday),
    # Thu 5, Fri 6 -> Friday 17:00. The make-up Saturday would count only beyond it.
    pinned = inline(SOURCE)
    engine, _ = start(pinned, planned_start="2026-03-06T16:59:00+08:00")
    with pytest.raises(Refusal) as refused:
        fire(engine, BOB, "submit")
    message = refused.value.message
    assert "Planned start (2026-03-06 16:59) must be on or after 2026-03-06 17:00" in message
    assert (
        "3 working day(s) after the time of this action" in message
        and "1 working day(s) too early" in message
    )
    with pytest.raises(Refusal) as refused_zh:
        fire(engine, BOB_ZH, "submit")
    assert (
        "计划开始（2026-03-06 16:59）须不早于 2026-03-06 17:00（操作时间后 3 个工作日），早了 1 个工作日"
        in (refused_zh.value.message)
    )
    engine, _ = start(pinned, planned_start="2026-03-06T17:00:00+08:00")
    fire(engine, BOB, "submit")
    assert engine.record.state == "submitted"


def test_the_make_up_day_counts_and_the_shortfall_is_in_working_days() -> None:
    pinned = inline(SOURCE)
    engine, _ = start(pinned, planned_start="2026-03-02T10:00:00+08:00")
    later = T0 + timedelta(days=2)  # Wednesday (holiday) 17:00 -> Thu 5, Fri 6, Sat 7 (worked)
    with pytest.raises(Refusal) as refused:
        fire(engine, BOB, "submit", now=later)
    assert "2026-03-07 17:00" in refused.value.message


def test_a_deadline_relative_to_a_field_and_the_age_of_the_record() -> None:
    pinned = inline(SOURCE)
    engine, _ = start(pinned, planned_start="2026-04-01T09:00:00+08:00")
    fire(engine, BOB, "submit")
    fire(engine, BOB, "resolve", resolved_at=T0.isoformat())
    with pytest.raises(Refusal) as refused:
        fire(engine, BOB, "reopen", now=T0 + timedelta(days=6))
    assert "must be on or before" in refused.value.message and "1 day(s) too late" in refused.value.message
    fire(engine, BOB, "reopen", now=T0 + timedelta(days=5))
    with pytest.raises(Refusal) as refused:
        fire(engine, BOB, "archive", now=T0 + timedelta(days=10))
    assert "the record's creation" in refused.value.message and "20 day(s) too early" in refused.value.message
    fire(engine, BOB, "archive", now=T0 + timedelta(days=30))
    assert engine.record.state == "archived"


def test_misused_date_guards_are_refused_by_path() -> None:
    data = yaml.safe_load(SOURCE)
    data["fields"].append({"name": "note", "type": "string"})
    data["transitions"][0]["guard"] = {
        "field": "note",
        "op": "ge",
        "value_field": "now",
        "offset": {"working_days": 3, "calendar": "bussiness"},
    }
    result = from_data(data)
    issues = {i.path: i.message for i in result.issues}
    assert "a datetime field" in issues["transitions[0].guard.field"]
    assert "did you mean 'business'" in issues["transitions[0].guard.offset.calendar"]
    data = yaml.safe_load(SOURCE)
    data["transitions"][0]["guard"]["offset"] = {"working_days": 2}  # no calendar to count in
    issues = {i.path: i.message for i in from_data(data).issues}
    assert "name it with `calendar`" in issues["transitions[0].guard.offset"]


def test_alice_may_not_but_it_is_the_rule_not_the_date_that_refuses() -> None:
    pinned = inline(SOURCE)
    engine, _ = start(pinned, planned_start="2026-03-02T10:00:00+08:00")
    with pytest.raises(Refusal) as refused:
        fire(engine, ALICE, "submit")
    assert refused.value.kind.value == "NotAllowed"
