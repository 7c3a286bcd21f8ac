"""Compile a definition into a `transitions` state machine.

The machine is the authority on which trigger leads where; guards are passed as callables (never as
strings, which `transitions` would resolve by import), and there are no other callbacks: the engine
applies effects itself, after the machine has moved. `auto_transitions=False` so that `to_<state>`
shortcuts cannot bypass the definition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from transitions import Machine, MachineError

from definitions.derived import Derived
from definitions.guards import evaluate
from definitions.model import Definition, TransitionDef


class MachineModel:
    """The object whose `state` the machine drives; one per record."""

    state: str

    def __init__(self, state: str = "") -> None:
        self.state = state


FieldsProvider = Callable[[], Mapping[str, Any]]


def _condition(transition: TransitionDef) -> Callable[[FieldsProvider], bool]:
    guard = transition.guard

    # `transitions` calls a condition with the trigger's arguments: here, the record's fields.
    def check(fields: FieldsProvider) -> bool:
        return guard is None or evaluate(guard, fields())

    return check


def build_machine(definition: Definition) -> Machine:
    """The definition's machine. It holds no record: `fire` moves the model it is given, so one machine
    serves every record of the definition. `initial=None`: a model starts where its record is."""
    machine = Machine(
        model=None,
        states=[s.name for s in definition.states],
        initial=None,
        auto_transitions=False,
        ignore_invalid_triggers=False,
        model_override=False,
    )
    for t in definition.transitions:
        machine.add_transition(
            trigger=t.trigger,
            source=list[Any](definition.sources(t)),
            dest=t.to,
            conditions=[_condition(t)],
        )
    return machine


# One machine per definition object. Records pinned to the same version share the decoded definition
# (definitions.loader), so they share its machine too: building one took about 0.5 ms for the incident
# process, on every record's first transition. A machine is read-only once built (firing creates an
# EventData per call and sets the state on the caller's model), so workflow threads fire on it at once.
SHARED_MACHINES: Derived[Definition, Machine] = Derived(build_machine)


def machine_for(definition: Definition) -> Machine:
    """The definition's shared machine, built on first use."""
    return SHARED_MACHINES.get(definition)


def fire(machine: Machine, model: MachineModel, trigger: str, fields: FieldsProvider) -> bool:
    """Fire a trigger for the model, guards reading `fields`; False when no guarded branch accepts it."""
    try:
        return bool(machine.events[trigger].trigger(model, fields))
    except (KeyError, MachineError):
        return False
