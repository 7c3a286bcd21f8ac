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

from definitions.guards import evaluate
from definitions.model import Definition, TransitionDef


class MachineModel:
    """The object whose `state` the machine drives; one per record."""

    state: str

    def __init__(self) -> None:
        self.state = ""


FieldsProvider = Callable[[], Mapping[str, Any]]


def _condition(transition: TransitionDef, fields: FieldsProvider) -> Callable[[], bool]:
    guard = transition.guard

    def check() -> bool:
        return guard is None or evaluate(guard, fields())

    return check


def build_machine(
    definition: Definition, model: MachineModel, fields: FieldsProvider, initial: str
) -> Machine:
    machine = Machine(
        model=model,
        states=[s.name for s in definition.states],
        initial=initial,
        auto_transitions=False,
        ignore_invalid_triggers=False,
        model_override=False,
    )
    for t in definition.transitions:
        machine.add_transition(
            trigger=t.trigger,
            source=list[Any](definition.sources(t)),
            dest=t.to,
            conditions=[_condition(t, fields)],
        )
    return machine


def fire(machine: Machine, model: MachineModel, trigger: str) -> bool:
    """Fire a trigger on the machine; False when no guarded branch accepts it."""
    try:
        return bool(machine.events[trigger].trigger(model))
    except (KeyError, MachineError):
        return False
