"""Evaluation of structured guard predicates against a record's fields.

Guards are data, never code: a fixed set of operators over field values. Values are compared after
normalising numbers given as strings, so `priority: "1"` and `value: 1` mean the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from definitions import dates
from definitions.calendar import BusinessCalendar
from definitions.model import Guard


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _same(a: Any, b: Any) -> bool:
    na, nb = _num(a), _num(b)
    if na is not None and nb is not None:
        return na == nb
    return a == b or (a is not None and b is not None and str(a) == str(b))


def _order(a: Any, b: Any) -> tuple[Any, Any] | None:
    na, nb = _num(a), _num(b)
    if na is not None and nb is not None:
        return na, nb
    if isinstance(a, str) and isinstance(b, str):
        return a, b  # ISO dates and datetimes order correctly as text
    return None


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "is_set":
        return not is_empty(left)
    if op == "is_empty":
        return is_empty(left)
    if op == "eq":
        return _same(left, right)
    if op == "ne":
        return not _same(left, right)
    if op in ("in", "not_in"):
        options = right if isinstance(right, list) else [right]
        found = any(_same(left, o) for o in options)
        return found if op == "in" else not found
    if op == "contains":
        return isinstance(left, list | str) and any(_same(x, right) for x in left)
    pair = _order(left, right)
    if pair is None:
        return False
    a, b = pair
    return bool({"gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[op])


def evaluate(
    guard: Guard,
    fields: Mapping[str, Any],
    calendars: Mapping[str, BusinessCalendar] | None = None,
    *,
    dates_hold: bool = False,
) -> bool:
    """True when the record's fields satisfy the guard. Date guards (definitions/dates.py) read `now` and
    `created_at` from `fields` too, and count working time in the definition's `calendars`;
    `dates_hold` takes every date comparison as met (which guarded variant a refusal is about)."""
    if guard.all is not None:
        return all(evaluate(g, fields, calendars, dates_hold=dates_hold) for g in guard.all)
    if guard.any is not None:
        return any(evaluate(g, fields, calendars, dates_hold=dates_hold) for g in guard.any)
    if guard.not_ is not None:
        return not evaluate(guard.not_, fields, calendars, dates_hold=dates_hold)
    assert guard.field is not None and guard.op is not None
    if dates.is_date_guard(guard):
        return dates_hold or dates.holds(guard, fields, calendars or {})
    right = fields.get(guard.value_field) if guard.value_field else guard.value
    return _compare(guard.op, fields.get(guard.field), right)


def could_pass(guard: Guard, fields: Mapping[str, Any], unknown: frozenset[str]) -> bool:
    """False only when the guard fails whatever values the `unknown` fields get (the fields a person is
    about to be asked for): which of a trigger's guarded variants can still fire."""
    return _maybe(guard, fields, unknown) is not False


def _maybe(guard: Guard, fields: Mapping[str, Any], unknown: frozenset[str]) -> bool | None:
    """Three-valued evaluation: True, False, or None when the outcome depends on an unknown field."""
    if guard.all is not None or guard.any is not None:
        parts = guard.all if guard.all is not None else guard.any or []
        results = [_maybe(g, fields, unknown) for g in parts]
        decisive = guard.all is None  # any: one True decides; all: one False decides
        if decisive in results:
            return decisive
        return None if None in results else not decisive
    if guard.not_ is not None:
        inner = _maybe(guard.not_, fields, unknown)
        return None if inner is None else not inner
    if guard.field in unknown or (guard.value_field is not None and guard.value_field in unknown):
        return None
    if dates.is_date_guard(guard):
        return None  # decided when the action happens (`now`); the refusal then says by how much
    return evaluate(guard, fields)


def describe(guard: Guard) -> str:
    """A readable rendering of the guard, used in refusal messages."""
    if guard.all is not None:
        return " and ".join(f"({describe(g)})" for g in guard.all)
    if guard.any is not None:
        return " or ".join(f"({describe(g)})" for g in guard.any)
    if guard.not_ is not None:
        return f"not ({describe(guard.not_)})"
    if guard.op in ("is_set", "is_empty"):
        return f"{guard.field} {guard.op.replace('_', ' ')}"
    right = guard.value_field if guard.value_field else repr(guard.value)
    return f"{guard.field} {guard.op} {right}"


def fields_of(guard: Guard) -> list[str]:
    """Every field name the guard reads (for static validation)."""
    if guard.all is not None or guard.any is not None:
        return [f for g in (guard.all or guard.any or []) for f in fields_of(g)]
    if guard.not_ is not None:
        return fields_of(guard.not_)
    names = [guard.field] if guard.field else []
    names += [guard.value_field] if guard.value_field else []
    return [n for n in names if n not in dates.PSEUDO_DATES]
