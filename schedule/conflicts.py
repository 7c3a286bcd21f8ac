"""Conflicts between planned changes: two changes whose windows overlap on the same or related CIs
(one CMDB relationship apart), or with the same implementer booked twice, and a change planned inside a
freeze. Pure over what the caller loaded, so the forward schedule and a CAB view word them alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from schedule.views import ConflictOut


@dataclass
class Planned:
    number: str
    start: datetime
    end: datetime
    implementer: str | None
    cis: set[int] = field(default_factory=set)


def _overlap(a: Planned, b: Planned) -> bool:
    return a.start < b.end and b.start < a.end


def between(
    items: Sequence[Planned], related: Mapping[int, set[int]], lang: str
) -> dict[str, list[ConflictOut]]:
    """Each change's conflicts with the others, by record number (sorted by start, so a sweep stops
    at the first change starting after this one ends)."""
    found: dict[str, list[ConflictOut]] = {p.number: [] for p in items}
    ordered = sorted(items, key=lambda p: (p.start, p.number))
    for i, a in enumerate(ordered):
        near = a.cis | {r for c in a.cis for r in related.get(c, set())}
        for b in ordered[i + 1 :]:
            if b.start >= a.end:
                break
            if not _overlap(a, b):
                continue
            if near & b.cis:
                shared = ", ".join(str(c) for c in sorted(near & b.cis))
                for x, y in ((a, b), (b, a)):
                    en = f"overlaps {y.number} on the same or related CIs ({shared})"
                    zh = f"与 {y.number} 在相同或相关的配置项（{shared}）上时间重叠"
                    found[x.number].append(
                        ConflictOut(rule="ci_overlap", other=y.number, message=zh if lang == "zh" else en)
                    )
            if a.implementer and a.implementer == b.implementer:
                for x, y in ((a, b), (b, a)):
                    en = f"the implementer {a.implementer} is also booked on {y.number}"
                    zh = f"实施人 {a.implementer} 同时安排在 {y.number}"
                    found[x.number].append(
                        ConflictOut(rule="implementer", other=y.number, message=zh if lang == "zh" else en)
                    )
    return found
