"""A refused date guard in words: which date, the date it had to reach, and by how much it missed —
"计划开始（2026-12-10 09:00）须不早于 2027-01-08 09:00（操作时间后 20 个工作日），早了 17 个工作日"."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from definitions import dates
from definitions.guards import evaluate
from definitions.model import Definition, Guard
from workflows.engine import words

_OPS = {
    "ge": ("on or after", "不早于"),
    "gt": ("after", "晚于"),
    "le": ("on or before", "不晚于"),
    "lt": ("before", "早于"),
    "eq": ("equal to", "等于"),
    "ne": ("other than", "不等于"),
}
_UNITS = {
    "days": ("day(s)", "天"),
    "hours": ("hour(s)", "小时"),
    "working_days": ("working day(s)", "个工作日"),
    "working_hours": ("working hour(s)", "个工作小时"),
}
_PSEUDO = {
    "now": ("the time of this action", "操作时间"),
    "created_at": ("the record's creation", "创建时间"),
}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang.startswith("zh") else pair[0]


def _name(d: Definition, name: str, lang: str) -> str:
    return _pick(_PSEUDO[name], lang) if name in _PSEUDO else words.field(d, name, lang)


def _shown(at: datetime, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M").removesuffix(" 00:00")


def _first_failing(guard: Guard, fields: Mapping[str, Any], calendars: Mapping[str, Any]) -> Guard | None:
    """The date comparison that refused: the guard itself, or the first failing one of an `all`."""
    if guard.all is not None:
        for g in guard.all:
            if not _holds(g, fields, calendars):
                return _first_failing(g, fields, calendars)
        return None
    if guard.any is not None:  # every alternative failed: the first that is about a date
        return next((g for g in (_first_failing(a, fields, calendars) for a in guard.any) if g), None)
    if guard.not_ is not None or not dates.is_date_guard(guard):
        return None
    return guard


def _holds(guard: Guard, fields: Mapping[str, Any], calendars: Mapping[str, Any]) -> bool:
    return evaluate(guard, fields, calendars)


def failed(d: Definition, guard: Guard, fields: Mapping[str, Any], lang: str) -> str | None:
    """The words for a refused date guard, or None when the refusal is not about a date."""
    g = _first_failing(guard, fields, d.calendars)
    if g is None or g.field is None:
        return None
    left, right = dates.sides(g, fields, d.calendars)
    cal = dates.calendar_of(g.offset, d.calendars)
    tz = ZoneInfo(cal.timezone if g.offset is not None else dates.DEFAULT_TZ)
    zh = lang.startswith("zh")
    subject = _name(d, g.field, lang)
    if left is None or right is None:
        missing = subject if left is None else _name(d, g.value_field or "", lang)
        return f"“{missing}”没有日期，无法比较" if zh else f"“{missing}” holds no date to compare"
    base = _name(d, g.value_field, lang) if g.value_field else _shown(right, tz)
    if g.offset is not None:
        unit = _pick(_UNITS[g.offset.unit], lang)
        n = g.offset.amount
        if zh:
            base = f"{base}{'后' if n >= 0 else '前'} {abs(n)} {unit}"
        else:
            base = f"{abs(n)} {unit} {'after' if n >= 0 else 'before'} {base}"
    op = _pick(_OPS.get(g.op or "", ("", "")), lang)
    amount, unit_key = dates.gap(g, fields, d.calendars)
    unit = _pick(_UNITS[unit_key], lang)
    early = left < right
    if zh:
        miss = f"{'早' if early else '晚'}了 {amount} {unit}" if g.op not in ("eq", "ne") else ""
        return f"{subject}（{_shown(left, tz)}）须{op} {_shown(right, tz)}（{base}）" + (
            f"，{miss}" if miss else ""
        )
    miss = f"{amount} {unit} too {'early' if early else 'late'}" if g.op not in ("eq", "ne") else ""
    return f"{subject} ({_shown(left, tz)}) must be {op} {_shown(right, tz)} ({base})" + (
        f": {miss}" if miss else ""
    )
