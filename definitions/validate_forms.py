"""Static checks of a definition's requester form (issue 16): the fields a person starting a record as
a requester sees. Every name is a field of the process; the form leaves out no field a new record
requires (the requester could not submit it); requesters may start the process at all."""

from __future__ import annotations

from definitions.issues import Issue
from definitions.model import Definition


def check_requester_form(d: Definition) -> list[Issue]:
    if d.requester_form is None:
        return []
    issues: list[Issue] = []
    fields = {f.name: f for f in d.fields}
    seen: set[str] = set()
    for i, name in enumerate(d.requester_form):
        path = f"requester_form[{i}]"
        if name not in fields:
            issues.append(Issue(path, f"unknown field '{name}'"))
        elif name in seen:
            issues.append(Issue(path, f"duplicate field '{name}'"))
        seen.add(name)
    initial = d.state(d.initial)
    required = {f.name for f in d.fields if f.required} | set(initial.required if initial else [])
    derived = {d.priority_matrix.priority_field} if d.priority_matrix else set()
    for name in sorted(required - seen - derived - {"title", "requester"}):
        if fields.get(name) is None or fields[name].default is None:
            issues.append(
                Issue(
                    "requester_form", f"the requester's form leaves out '{name}', which a new record requires"
                )
            )
    if "requester" not in d.start_roles:
        issues.append(Issue("requester_form", "requesters may not start this process (start_roles)"))
    return issues
