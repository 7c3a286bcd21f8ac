"""Compile a definition into a `transitions` state machine, the one authority on moves.

For each transition the machine holds its sources (with '*' expanded), its order among the transitions
of its trigger, and two conditions: the actor may fire it (`allowed`) and its guard passes. Asked about a
trigger (`ask`), the machine takes the first transition from the record's state whose conditions pass,
as `transitions` does, and the `Attempt` it was given says which one it took or, for each it passed
over, which condition refused it: the engine words its refusals from that. Conditions and callbacks are
callables (never strings, which `transitions` would resolve by import). `auto_transitions=False` so
that `to_<state>` shortcuts cannot bypass the definition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from transitions import Machine, MachineError

from definitions.calendar import BusinessCalendar
from definitions.derived import Derived
from definitions.guards import evaluate
from definitions.model import Definition, Permission, TransitionDef


class MachineModel:
    """The object whose `state` the machine drives."""

    state: str

    def __init__(self, state: str = "") -> None:
        self.state = state


Refused = Literal["permission", "guard"]


@dataclass
class Attempt:
    """One question to the machine: may an actor fire a trigger on a record, and along which transition?

    `admits` says whether a transition's permission admits the actor (None: the engine itself, which every
    transition admits); guards read `fields`, the record's fields with the values sent with the trigger.
    Neither holds the definition, so a machine never keeps its definition alive (`SHARED_MACHINES`)."""

    admits: Callable[[Permission], bool] | None
    fields: Mapping[str, Any]
    # Filled in by the machine: each transition it passed over and the condition that refused it, in
    # the machine's order, and the transition it took.
    refused: list[tuple[TransitionDef, Refused]] = field(default_factory=list)
    taken: TransitionDef | None = None

    @property
    def permitted(self) -> bool:
        """Whether the actor may fire at least one of the transitions the machine considered."""
        return self.taken is not None or any(why == "guard" for _, why in self.refused)


def _allowed(transition: TransitionDef) -> Callable[[Attempt], bool]:
    perm = transition.allowed

    # `transitions` calls a condition with the trigger's arguments: here, the attempt.
    def check(attempt: Attempt) -> bool:
        if attempt.admits is None or (perm is not None and attempt.admits(perm)):
            return True
        attempt.refused.append((transition, "permission"))
        return False

    return check


def _guarded(
    transition: TransitionDef, calendars: Mapping[str, BusinessCalendar]
) -> Callable[[Attempt], bool]:
    guard = transition.guard

    def check(attempt: Attempt) -> bool:
        if guard is None or evaluate(guard, attempt.fields, calendars):
            return True
        attempt.refused.append((transition, "guard"))
        return False

    return check


def _taken(transition: TransitionDef) -> Callable[[Attempt], None]:
    def took(attempt: Attempt) -> None:
        attempt.taken = transition

    return took


def build_machine(definition: Definition) -> Machine:
    """The definition's machine. It holds no record: `ask` and `fire` move the model they are given, so
    one machine serves every record of the definition. `initial=None`: a model starts where its record is."""
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
            conditions=[_allowed(t), _guarded(t, definition.calendars)],
            after=[_taken(t)],
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


def sources_of(machine: Machine, trigger: str) -> list[str] | None:
    """The states `trigger` can fire from (None: the machine has no such trigger)."""
    event = machine.events.get(trigger)
    if event is None:
        return None
    return [state for state, transitions in event.transitions.items() if transitions]


def ask(machine: Machine, state: str, trigger: str, attempt: Attempt) -> TransitionDef | None:
    """The transition `trigger` takes from `state` for the attempt (None: the conditions of every
    transition refused it; `attempt.refused` says which and why). Fires on a model of its own: the
    record itself moves only when the engine applies the move."""
    try:
        machine.events[trigger].trigger(MachineModel(state), attempt)
    except (KeyError, MachineError):
        return None
    return attempt.taken


def fire(
    machine: Machine, model: MachineModel, trigger: str, fields: Callable[[], Mapping[str, Any]]
) -> bool:
    """Fire a trigger for the model as the engine itself, guards reading `fields`; False when no guarded
    branch accepts it."""
    try:
        return bool(machine.events[trigger].trigger(model, Attempt(admits=None, fields=fields())))
    except (KeyError, MachineError):
        return False
