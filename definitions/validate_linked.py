"""Static checks of `act_on_linked` effects (issue 20): the field names linked records (a reference or a
list of references) and the action does not loop back into the same process. A loop across processes
(A acts on B, B's effect acts on A) is bounded when it runs (activities/linked_actions.py)."""

from __future__ import annotations

from definitions.issues import Issue
from definitions.model import Definition
from definitions.validate_counters import effects_of


def check_linked_actions(d: Definition) -> list[Issue]:
    issues: list[Issue] = []
    for path, effect in effects_of(d):
        spec = effect.act_on_linked
        if spec is None:
            continue
        field = next((f for f in d.fields if f.name == spec.field), None)
        is_reference = field is not None and (
            field.type == "reference" or (field.type == "list" and field.item_type == "reference")
        )
        if field is None or not is_reference:
            issues.append(
                Issue(
                    f"{path}.act_on_linked.field",
                    f"'{spec.field}' is not a reference field (or a list of them)",
                )
            )
            continue
        if field.reference == d.key:
            issues.append(
                Issue(
                    f"{path}.act_on_linked.field",
                    f"'{spec.field}' names records of this same process: an action on them could loop back "
                    "here (A acts on B acts on A); act on another process's records",
                )
            )
    return issues
