"""A record's progress as people read it (issue 16): the main path of its process as a step bar, and
which of the actions open to the reader is the likely next step.

The main path is the definition's states in the order its author listed them (the lifecycle order in
every shipped process), without the waiting states (a detour, not a step) and without the final states
after the first (cancelled, rejected: other endings). The likely next step is the action offered that
takes the record to the nearest state forward on that path; when none moves forward, the first one."""

from __future__ import annotations

from dataclasses import dataclass

from definitions.model import Definition
from workflows.contracts import RecordSnapshot


@dataclass
class Step:
    name: str
    label: str
    status: str  # done | current | todo


def main_path(d: Definition) -> list[str]:
    path: list[str] = []
    for state in d.states:
        if state.category == "waiting":
            continue
        path.append(state.name)
        if state.final:
            break
    return path


def steps(d: Definition, snap: RecordSnapshot, label: dict[str, str], visited: set[str]) -> list[Step]:
    """The main path with the record's place on it; a record off the path (waiting, cancelled) shows
    the steps it has passed (`visited`: the states its history went through) and its own state after
    them, as the current one."""
    path = main_path(d)
    here = path.index(snap.state) if snap.state in path else _last_done(path, visited)
    out = [
        Step(name, label.get(name, name), "done" if i < here else "current" if i == here else "todo")
        for i, name in enumerate(path)
    ]
    if snap.state not in path:
        # Off the path: what it passed is done, then its own state, then the rest of the path.
        out = [Step(s.name, s.label, "done" if i <= here else "todo") for i, s in enumerate(out)]
        out.insert(here + 1, Step(snap.state, label.get(snap.state, snap.state), "current"))
    return out


def _last_done(path: list[str], visited: set[str]) -> int:
    """Where a record off the main path stands: after the last main-path state it has passed."""
    done = [i for i, name in enumerate(path) if name in visited]
    return max(done) if done else 0


def primary(d: Definition, snap: RecordSnapshot, targets: list[str]) -> int | None:
    """The index, among the actions offered (their target states), of the likely next step."""
    if not targets:
        return None
    path = main_path(d)
    here = path.index(snap.state) if snap.state in path else -1
    forward = [(path.index(to), i) for i, to in enumerate(targets) if to in path and path.index(to) > here]
    return min(forward)[1] if forward else 0
