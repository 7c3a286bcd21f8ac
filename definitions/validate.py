"""Static validation of a definition: every problem, each with its path.

The schema (pydantic) catches shape errors; this module catches meaning errors: names that refer
to nothing, states that cannot be reached or left, triggers that are ambiguous, quorums that can never
be met, SLA clocks naming unknown states. It never stops at the first problem: a process owner fixes
a definition in one pass.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from definitions import checklist, dates, templates
from definitions.creations import automatic_creations, creation_cycle
from definitions.fieldvalues import FieldValueError, check_value
from definitions.guards import fields_of
from definitions.issues import Issue
from definitions.model import (
    BUILTIN_FIELDS,
    RELATIONS,
    Definition,
    Effect,
    FieldRight,
    Guard,
    Permission,
    TransitionDef,
)
from definitions.validate_counters import check_counters
from definitions.validate_forms import check_requester_form
from definitions.validate_linked import check_linked_actions
from definitions.validate_outage import OutageChecks
from definitions.validate_steps import StepChecks

ORDERED_TYPES = {"int", "datetime", "duration", "enum", "string"}


class _Checker(StepChecks, OutageChecks):
    def __init__(self, definition: Definition) -> None:
        self.d = definition
        self.issues: list[Issue] = []
        self.states = {s.name for s in definition.states}
        # Counters read like fields (guards, conditions); definitions/validate_counters.py checks them.
        self.fields = (
            {f.name for f in definition.fields} | set(BUILTIN_FIELDS) | {c.name for c in definition.counters}
        )
        self.triggers = {t.trigger for t in definition.transitions}
        self.roles = definition.all_roles()

    def add(self, path: str, message: str, zh: str | None = None) -> None:
        self.issues.append(Issue(path, message, zh))

    # -- helpers -------------------------------------------------------------------------------
    def state_ref(self, path: str, name: str) -> None:
        if name not in self.states:
            self.add(path, f"unknown state '{name}'{self._suggest(name, self.states)}")

    def field_ref(self, path: str, name: str) -> None:
        if name not in self.fields:
            self.add(path, f"unknown field '{name}'{self._suggest(name, self.fields)}")

    def calendar_ref(self, path: str, name: str | None) -> None:
        if name is not None and name not in self.d.calendars:
            self.add(path, f"unknown calendar '{name}'{self._suggest(name, set(self.d.calendars))}")

    @staticmethod
    def _suggest(name: str, known: Iterable[str]) -> str:
        import difflib

        close = difflib.get_close_matches(name, sorted(known), n=1)
        return f" (did you mean '{close[0]}'?)" if close else ""

    def user_field(self, path: str, spec: str, *, allow_group: bool = False) -> None:
        name = spec.removeprefix("field:")
        kind = self.d.field_type(name)
        ok = {"user", "list"} | ({"group"} if allow_group else set())
        if kind is None:
            self.field_ref(path, name)
        elif kind not in ok:
            self.add(path, f"field '{name}' is a {kind} field; expected a {' or '.join(sorted(ok))} field")

    def duplicates(self, path: str, names: list[str], what: str) -> None:
        seen: set[str] = set()
        for i, name in enumerate(names):
            if name in seen:
                self.add(f"{path}[{i}].name", f"duplicate {what} '{name}'")
            seen.add(name)

    # -- sections ------------------------------------------------------------------------------
    def run(self) -> list[Issue]:
        d = self.d
        self.duplicates("fields", [f.name for f in d.fields], "field")
        self.duplicates("states", [s.name for s in d.states], "state")
        self.duplicates("approvals", [a.name for a in d.approvals], "approval step")
        self.duplicates("slas", [s.name for s in d.slas], "SLA clock")
        self.check_fields()
        self.check_states()
        for i, t in enumerate(d.transitions):
            self.check_transition(f"transitions[{i}]", t)
        self.check_ambiguous_triggers()
        self.check_graph()
        for i, a in enumerate(d.approvals):
            self.check_approval(f"approvals[{i}]", a)
        for i, s in enumerate(d.slas):
            self.check_sla(f"slas[{i}]", s)
        self.check_permission("editors", d.editors)
        for i, rule in enumerate(d.field_rights):
            self.check_field_right(f"field_rights[{i}]", rule)
        self.check_priority_matrix()
        self.check_templates()
        self.check_self_starting()
        self.check_visibility()
        self.check_shared_calendars()
        if d.reschedule_check is not None:
            self.check_schedule_check("reschedule_check", d.reschedule_check)
            for i, state in enumerate(d.reschedule_check.states):
                self.state_ref(f"reschedule_check.states[{i}]", state)
        for i, role in enumerate(d.start_roles):
            if role not in self.roles:
                self.add(f"start_roles[{i}]", f"unknown role '{role}'")
        self.issues.extend(check_counters(d))
        self.issues.extend(check_requester_form(d))
        self.issues.extend(check_linked_actions(d))
        return self.issues

    def check_fields(self) -> None:
        for i, f in enumerate(self.d.fields):
            path = f"fields[{i}]"
            if f.type == "enum" and not f.values:
                self.add(f"{path}.values", "an enum field needs a non-empty list of values")
            if f.type != "enum" and f.values:
                self.add(f"{path}.values", f"only enum fields take values (this is a {f.type} field)")
            if f.type == "list" and f.item_type in (None, "list"):
                self.add(f"{path}.item_type", "a list field needs an item_type other than list")
            if f.type == "reference" and not f.reference:
                self.add(f"{path}.reference", "a reference field names the definition it points at")
            if f.reference_states is not None and (f.type != "reference" or not f.reference_states):
                why = "a non-empty list of the referenced process's states, on a reference field only"
                self.add(f"{path}.reference_states", why)
            is_ci = f.type == "ci" or (f.type == "list" and f.item_type == "ci")
            if f.ci_classes is not None and (not is_ci or not f.ci_classes):
                why = "a non-empty list of CMDB classes, on a ci field (or a list of ci) only"
                self.add(f"{path}.ci_classes", why)
            if f.name in BUILTIN_FIELDS and f.type != BUILTIN_FIELDS[f.name]:
                self.add(
                    f"{path}.type", f"built-in field '{f.name}' must be of type {BUILTIN_FIELDS[f.name]}"
                )
            if f.value_labels:
                for value in f.value_labels:
                    if value not in (f.values or []):
                        self.add(f"{path}.value_labels.{value}", f"'{value}' is not one of the values")
            if (f.type == "checklist") != bool(f.items):
                self.add(
                    f"{path}.items", "a checklist field needs its items; only checklist fields take items"
                )
            elif f.items:
                self.duplicates(f"{path}.items", [item.key for item in f.items], "checklist item")
            if f.default is not None:
                try:
                    check_value(f.type, f.default, f)
                except FieldValueError as exc:
                    self.add(f"{path}.default", str(exc), exc.zh)

    def check_states(self) -> None:
        d = self.d
        if d.initial_state is not None:
            self.state_ref("initial_state", d.initial_state)
        elif d.states and d.states[0].final:
            self.add("states[0]", "the first state is the initial state and cannot be final")
        if not d.final_states():
            self.add("states", "no final state: mark at least one state 'final: true'")
        for i, s in enumerate(d.states):
            for flag in ("required", "readonly", "hidden"):
                for j, name in enumerate(getattr(s, flag)):
                    self.field_ref(f"states[{i}].{flag}[{j}]", name)
            if s.final and s.category not in ("closed", "resolved"):
                self.add(f"states[{i}].category", f"final state '{s.name}' should be in category closed")
            if s.category == "closed" and not s.final:
                self.add(f"states[{i}].final", f"state '{s.name}' is in category closed but not final")

    def check_permission(self, path: str, p: Permission) -> None:
        for j, role in enumerate(p.roles):
            if role not in self.roles:
                self.add(f"{path}.roles[{j}]", f"unknown role '{role}'{self._suggest(role, self.roles)}")
        for j, rel in enumerate(p.relations):
            if rel.startswith("field:"):
                self.user_field(f"{path}.relations[{j}]", rel, allow_group=True)
            elif rel not in RELATIONS:
                self.add(
                    f"{path}.relations[{j}]",
                    f"unknown relation '{rel}' (requester, assignee, assignment_group or field:FIELD)",
                )

    def check_field_right(self, path: str, rule: FieldRight) -> None:
        for j, name in enumerate(rule.fields):
            self.field_ref(f"{path}.fields[{j}]", name)
        finals = self.d.final_states()
        for j, state in enumerate(rule.states):
            self.state_ref(f"{path}.states[{j}]", state)
            if state in finals:
                self.add(f"{path}.states[{j}]", f"'{state}' is a final state: no field changes there")
        self.check_permission(f"{path}.editors", rule.editors)
        if rule.editors.is_empty():
            self.add(f"{path}.editors", "empty: nobody could change these fields (use a state's readonly)")

    def check_guard(self, path: str, guard: Guard) -> None:
        for name in fields_of(guard):
            count = checklist.split_count(name)
            if count is not None and self.d.field_type(count[0]) == "checklist":
                continue  # a checklist's count (`checks.failed`): a number every checklist has
            self.field_ref(path, name)
        self._check_guard_types(path, guard)

    def _check_guard_types(self, path: str, guard: Guard) -> None:
        for key, sub in (("all", guard.all), ("any", guard.any)):
            for j, g in enumerate(sub or []):
                self._check_guard_types(f"{path}.{key}[{j}]", g)
        if guard.not_ is not None:
            self._check_guard_types(f"{path}.not", guard.not_)
        if guard.field is None:
            return
        if dates.is_date_guard(guard):
            self._check_date_guard(path, guard)
            return
        kind = self.d.field_type(guard.field)
        spec = self.d.field(guard.field)
        if guard.op in ("gt", "ge", "lt", "le") and kind is not None and kind not in ORDERED_TYPES:
            self.add(f"{path}.op", f"'{guard.op}' cannot compare {kind} field '{guard.field}'")
        if (
            kind == "enum"
            and spec
            and spec.values
            and guard.value is not None
            and guard.op in ("eq", "ne", "in", "not_in")
        ):
            values = guard.value if isinstance(guard.value, list) else [guard.value]
            for v in values:
                if str(v) not in spec.values:
                    self.add(f"{path}.value", f"'{v}' is not a value of enum field '{guard.field}'")

    def check_effect(self, path: str, e: Effect, *, in_sla: bool = False) -> None:
        if e.set is not None:
            for name, value in e.set.items():
                self.field_ref(f"{path}.set.{name}", name)
                kind = self.d.field_type(name)
                if kind and not (isinstance(value, str) and value.startswith("$")):
                    try:
                        check_value(kind, value, self.d.field(name))
                    except FieldValueError as exc:
                        self.add(f"{path}.set.{name}", str(exc), exc.zh)
        if e.notify is not None:
            if e.notify.template not in self.d.notifications:
                self.add(f"{path}.notify.template", f"unknown notification template '{e.notify.template}'")
            self.check_recipients(f"{path}.notify.to", e.notify.to)
        for key in ("start_sla", "stop_sla"):
            name = getattr(e, key)
            if name is not None and name not in {s.name for s in self.d.slas}:
                self.add(f"{path}.{key}", f"unknown SLA clock '{name}'")
        if e.create_record is not None:
            spec = e.create_record
            for key in ("link_field",):
                name = getattr(spec, key)
                if name is not None:
                    self.field_ref(f"{path}.create_record.{key}", name)
        if e.apply_ci_changes is not None:
            if in_sla:
                self.add(
                    f"{path}.apply_ci_changes", "CI changes apply with a transition, not an SLA threshold"
                )
            done = e.apply_ci_changes.done_field
            if done is not None:
                self.field_ref(f"{path}.apply_ci_changes.done_field", done)
                done_spec = self.d.field(done)
                if done_spec is not None and done_spec.type != "bool":
                    self.add(f"{path}.apply_ci_changes.done_field", f"'{done}' must be a bool field")
        if e.record_outage is not None:
            self.check_record_outage(f"{path}.record_outage", e.record_outage, in_sla)
        if e.escalate is not None:
            self.field_ref(f"{path}.escalate.field", e.escalate.field)
            for level in e.escalate.groups:
                if level not in e.escalate.levels:
                    self.add(f"{path}.escalate.groups.{level}", f"'{level}' is not one of the levels")
        if e.fire is not None:
            if not in_sla:
                self.add(f"{path}.fire", "'fire' is only allowed in SLA threshold actions")
            if e.fire not in self.triggers:
                self.add(f"{path}.fire", f"unknown trigger '{e.fire}'")

    def check_recipients(self, path: str, recipients: list[str]) -> None:
        for j, r in enumerate(recipients):
            if r.startswith("field:"):
                self.user_field(f"{path}[{j}]", r, allow_group=True)
            elif r.startswith("role:") and r[5:] not in self.roles:
                self.add(f"{path}[{j}]", f"unknown role '{r[5:]}'")

    def check_transition(self, path: str, t: TransitionDef) -> None:
        finals = self.d.final_states()
        for j, src in enumerate(t.from_):
            if src == "*":
                continue
            self.state_ref(f"{path}.from[{j}]", src)
            if src in finals:
                self.add(f"{path}.from[{j}]", f"'{src}' is a final state: nothing can leave it")
        self.state_ref(f"{path}.to", t.to)
        if t.allowed is not None:
            self.check_permission(f"{path}.allowed", t.allowed)
            if t.allowed.is_empty():
                self.add(f"{path}.allowed", "empty: nobody could fire it (omit 'allowed' for engine-only)")
        if t.guard is not None:
            self.check_guard(f"{path}.guard", t.guard)
        if t.schedule_check is not None:
            self.check_schedule_check(f"{path}.schedule_check", t.schedule_check)
        for j, kind in enumerate(t.requires_attachment):
            if kind not in self.d.attachment_kinds:
                known = ", ".join(self.d.attachment_kinds) or "none declared"
                self.add(f"{path}.requires_attachment[{j}]", f"unknown attachment kind '{kind}' ({known})")
        for j, name in enumerate(t.required_fields):
            self.field_ref(f"{path}.required_fields[{j}]", name)
        for j, e in enumerate(t.effects):
            self.check_effect(f"{path}.effects[{j}]", e)
        if t.after is not None:
            if t.after.total_seconds() <= 0:
                self.add(f"{path}.after", "a timed transition needs a positive duration")
            if "*" in t.from_:
                self.add(f"{path}.from", "a timed transition names its source states explicitly")
        self.calendar_ref(f"{path}.calendar", t.calendar)
        if t.calendar is not None and t.after is None:
            self.add(f"{path}.calendar", "only timed transitions (with 'after') take a calendar")

    def check_self_starting(self) -> None:
        """A record that creates a record of its own process without anyone acting would do so again
        in the new record, forever (a timed transition or an SLA threshold firing every few seconds)."""
        for path, spec in automatic_creations(self.d):
            if spec.definition == self.d.key:
                self.add(
                    f"{path}.create_record.definition",
                    "creates a record of this same process without anyone acting (a timed transition, "
                    "an SLA threshold or what it fires): every new record would create another, forever",
                )

    def check_ambiguous_triggers(self) -> None:
        """Two transitions with one trigger from one state: the first must be guarded to tell them apart."""
        seen: dict[tuple[str, str], int] = {}
        for i, t in enumerate(self.d.transitions):
            for src in self.d.sources(t):
                key = (t.trigger, src)
                if key in seen:
                    first = self.d.transitions[seen[key]]
                    if first.guard is None:
                        self.add(
                            f"transitions[{i}]",
                            f"ambiguous trigger '{t.trigger}' from state '{src}': "
                            f"transitions[{seen[key]}] has no guard, so this one can never fire",
                        )
                else:
                    seen[key] = i

    def check_graph(self) -> None:
        d = self.d
        if any(i.path.startswith("states") and "unknown" in i.message for i in self.issues):
            return
        edges: dict[str, set[str]] = {s: set() for s in self.states}
        for t in d.transitions:
            if t.to not in self.states:
                continue
            for src in d.sources(t):
                if src in edges:
                    edges[src].add(t.to)
        start = d.initial
        if start not in self.states:
            return
        reached = _reach(start, edges)
        finals = d.final_states()
        for i, s in enumerate(d.states):
            if s.name not in reached:
                self.add(f"states[{i}]", f"state '{s.name}' is unreachable from the initial state '{start}'")
            elif not s.final and not edges[s.name]:
                self.add(f"states[{i}]", f"state '{s.name}' is not final and has no transition out of it")
            elif not s.final and finals and not (_reach(s.name, edges) & finals):
                self.add(f"states[{i}]", f"no final state can be reached from '{s.name}'")

    def check_priority_matrix(self) -> None:
        pm = self.d.priority_matrix
        if pm is None:
            return
        for key in ("impact_field", "urgency_field", "priority_field"):
            self.field_ref(f"priority_matrix.{key}", getattr(pm, key))
        impact, urgency, prio = (
            self.d.field(getattr(pm, k)) for k in ("impact_field", "urgency_field", "priority_field")
        )
        for i_val, row in pm.matrix.items():
            if impact and impact.values and i_val not in impact.values:
                self.add(
                    f"priority_matrix.matrix.{i_val}", f"'{i_val}' is not a value of '{pm.impact_field}'"
                )
            for u_val, p_val in row.items():
                where = f"priority_matrix.matrix.{i_val}.{u_val}"
                if urgency and urgency.values and u_val not in urgency.values:
                    self.add(where, f"'{u_val}' is not a value of '{pm.urgency_field}'")
                if prio and prio.values and str(p_val) not in prio.values:
                    self.add(where, f"'{p_val}' is not a value of '{pm.priority_field}'")
        if impact and urgency and impact.values and urgency.values:
            for i_val in impact.values:
                for u_val in urgency.values:
                    if pm.lookup(i_val, u_val) is None:
                        self.add("priority_matrix.matrix", f"no priority for impact {i_val}, urgency {u_val}")

    def check_templates(self) -> None:
        known = templates.BUILTIN_PLACEHOLDERS | self.fields
        for name, tpl in self.d.notifications.items():
            for part in ("subject", "body"):
                text = getattr(tpl, part)
                for lang in ("zh", "en"):
                    for ph in templates.placeholders(getattr(text, lang)):
                        if ph not in known:
                            self.add(
                                f"notifications.{name}.{part}.{lang}", f"unknown placeholder '{{{{{ph}}}}}'"
                            )


def _reach(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen = {start}
    queue = deque([start])
    while queue:
        for nxt in edges.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def check(definition: Definition) -> list[Issue]:
    """Every semantic problem of an already well-formed definition."""
    return _Checker(definition).run()


__all__ = ["Issue", "automatic_creations", "check", "creation_cycle"]
