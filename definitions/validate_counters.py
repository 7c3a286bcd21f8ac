"""Static checks of a definition's counters (issue 20): names that are not already fields, `increment`
effects that name a declared counter, and no `set` effect (or person) writing a counter."""

from __future__ import annotations

from collections.abc import Iterable

from definitions.issues import Issue
from definitions.model import BUILTIN_FIELDS, Definition, Effect


def check_counters(d: Definition) -> list[Issue]:
    issues: list[Issue] = []
    fields = {f.name for f in d.fields} | set(BUILTIN_FIELDS)
    seen: set[str] = set()
    for i, c in enumerate(d.counters):
        if c.name in fields:
            issues.append(
                Issue(f"counters[{i}].name", f"'{c.name}' is already a field: a counter needs its own name")
            )
        if c.name in seen:
            issues.append(Issue(f"counters[{i}].name", f"duplicate counter '{c.name}'"))
        seen.add(c.name)
    for path, effect in effects_of(d):
        if effect.increment is not None and not d.is_counter(effect.increment):
            known = ", ".join(sorted(seen)) or "none declared"
            issues.append(
                Issue(f"{path}.increment", f"unknown counter '{effect.increment}' (counters: {known})")
            )
        for name in effect.set or {}:
            if d.is_counter(name):
                issues.append(
                    Issue(f"{path}.set.{name}", f"'{name}' is a counter: only `increment` changes it")
                )
    return issues


def effects_of(d: Definition) -> Iterable[tuple[str, Effect]]:
    for i, t in enumerate(d.transitions):
        for j, e in enumerate(t.effects):
            yield f"transitions[{i}].effects[{j}]", e
    for i, s in enumerate(d.slas):
        for k, th in enumerate(s.thresholds):
            for j, e in enumerate(th.actions):
                yield f"slas[{i}].thresholds[{k}].actions[{j}]", e
