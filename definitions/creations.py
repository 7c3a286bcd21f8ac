"""Records a process creates without anyone acting, and the loops they can make.

A process whose record creates another record of itself on a timed transition or an SLA threshold
makes a new record every few seconds, forever; two processes can do the same to each other. Validation
refuses the first; publishing checks the second over every published definition.
"""

from __future__ import annotations

from definitions.model import CreateRecordSpec, Definition


def automatic_creations(definition: Definition) -> list[tuple[str, CreateRecordSpec]]:
    """Every `create_record` effect that runs without a person acting, with its path: on timed
    transitions, in SLA threshold actions, and on the transitions SLA thresholds fire."""
    fired = {e.fire for s in definition.slas for th in s.thresholds for e in th.actions if e.fire is not None}
    found: list[tuple[str, CreateRecordSpec]] = []
    for i, t in enumerate(definition.transitions):
        if t.after is not None or t.trigger in fired:
            for j, e in enumerate(t.effects):
                if e.create_record is not None:
                    found.append((f"transitions[{i}].effects[{j}]", e.create_record))
    for i, s in enumerate(definition.slas):
        for k, th in enumerate(s.thresholds):
            for j, e in enumerate(th.actions):
                if e.create_record is not None:
                    found.append((f"slas[{i}].thresholds[{k}].actions[{j}]", e.create_record))
    return found


def creation_cycle(creates: dict[str, set[str]]) -> list[str] | None:
    """A cycle in "process A creates a record of B without anyone acting" across definitions, as
    the keys along it (first repeated at the end), or None. Publishing checks it over every published
    definition plus the one being published: A→B→A loops as surely as A→A."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for start in sorted(creates):
        if state.get(start):
            continue
        path: list[str] = []
        stack: list[tuple[str, list[str]]] = [(start, sorted(creates.get(start, ())))]
        state[start] = 1
        path.append(start)
        while stack:
            node, todo = stack[-1]
            if not todo:
                stack.pop()
                path.pop()
                state[node] = 2
                continue
            nxt = todo.pop()
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, sorted(creates.get(nxt, ()))))
    return None
