"""Static validation of a definition: every problem, each with its path.

The schema (pydantic) catches shape errors; this module catches meaning errors: names that refer
to nothing, states that cannot be reached or left, triggers that are ambiguous, quorums that can never
be met, SLA clocks naming unknown states. It never stops at the first problem: a process owner fixes
a definition in one pass.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from definitions import templates
from definitions.fieldvalues import FieldValueError, check_value
from definitions.guards import fields_of
from definitions.model import (
    BUILTIN_FIELDS,
    RELATIONS,
    ApprovalStep,
    CreateRecordSpec,
    Definition,
    Effect,
    Guard,
    Permission,
    SlaDef,
    TransitionDef,
)

ORDERED_TYPES = {"int", "datetime", "duration", "enum", "string"}


@dataclass(frozen=True)
class Issue:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class _Checker:
    def __init__(self, definition: Definition) -> None:
        self.d = definition
        self.issues: list[Issue] = []
        self.states = {s.name for s in definition.states}
        self.fields = {f.name for f in definition.fields} | set(BUILTIN_FIELDS)
        self.triggers = {t.trigger for t in definition.transitions}
        self.roles = definition.all_roles()

    def add(self, path: str, message: str) -> None:
        self.issues.append(Issue(path, message))

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
        self.check_priority_matrix()
        self.check_templates()
        self.check_self_starting()
        for i, role in enumerate(d.start_roles):
            if role not in self.roles:
                self.add(f"start_roles[{i}]", f"unknown role '{role}'")
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
            if f.name in BUILTIN_FIELDS and f.type != BUILTIN_FIELDS[f.name]:
                self.add(
                    f"{path}.type", f"built-in field '{f.name}' must be of type {BUILTIN_FIELDS[f.name]}"
                )
            if f.value_labels:
                for value in f.value_labels:
                    if value not in (f.values or []):
                        self.add(f"{path}.value_labels.{value}", f"'{value}' is not one of the values")
            if f.default is not None:
                try:
                    check_value(f.type, f.default, f)
                except FieldValueError as exc:
                    self.add(f"{path}.default", str(exc))

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

    def check_guard(self, path: str, guard: Guard) -> None:
        for name in fields_of(guard):
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
                        self.add(f"{path}.set.{name}", str(exc))
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

    def check_approval(self, path: str, a: ApprovalStep) -> None:
        self.state_ref(f"{path}.state", a.state)
        if a.state in self.d.final_states():
            self.add(f"{path}.state", f"an approval cannot wait in final state '{a.state}'")
        for key in ("on_approved", "on_rejected"):
            trigger = getattr(a, key)
            self._trigger_from(f"{path}.{key}", trigger, a.state)
        if a.on_expiry == "fire":
            if not a.expiry_trigger:
                self.add(f"{path}.expiry_trigger", "on_expiry 'fire' needs an expiry_trigger")
            else:
                self._trigger_from(f"{path}.expiry_trigger", a.expiry_trigger, a.state)
        if a.reminders and a.deadline is None:
            self.add(f"{path}.reminders", "reminders need a deadline")
        for j, r in enumerate(a.reminders):
            if a.deadline is not None and r >= a.deadline:
                self.add(f"{path}.reminders[{j}]", "a reminder must come before the deadline")
        if a.on_expiry != "escalate" and a.deadline is None:
            self.add(f"{path}.deadline", f"on_expiry '{a.on_expiry}' needs a deadline")
        if a.on_expiry == "escalate" and a.deadline is not None and not a.escalate_to:
            self.add(f"{path}.escalate_to", "escalation on expiry needs escalate_to recipients")
        self.calendar_ref(f"{path}.calendar", a.calendar)
        self.check_recipients(f"{path}.escalate_to", a.escalate_to)
        if a.remind_template and a.remind_template not in self.d.notifications:
            self.add(f"{path}.remind_template", f"unknown notification template '{a.remind_template}'")
        for j, ex in enumerate(a.separation_of_duties.exclude):
            if ex.startswith("field:"):
                self.user_field(f"{path}.separation_of_duties.exclude[{j}]", ex)
            elif ex not in ("requester", "assignee"):
                self.add(
                    f"{path}.separation_of_duties.exclude[{j}]",
                    f"unknown exclusion '{ex}' (requester, assignee or field:FIELD)",
                )
        self.duplicates(f"{path}.levels", [lv.name for lv in a.levels], "level")
        for j, lv in enumerate(a.levels):
            lpath = f"{path}.levels[{j}]"
            spec = lv.approvers
            if spec.is_empty():
                self.add(f"{lpath}.approvers", "no approvers: name users, groups, roles or fields")
            for k, role in enumerate(spec.roles):
                if role not in self.roles:
                    self.add(f"{lpath}.approvers.roles[{k}]", f"unknown role '{role}'")
            for k, name in enumerate(spec.fields):
                self.user_field(f"{lpath}.approvers.fields[{k}]", name, allow_group=True)
            self._check_policy(lpath, lv.policy, lv.quorum, lv.percentage, spec)

    def _check_policy(self, path: str, policy: str, quorum: int | None, pct: float | None, spec: Any) -> None:
        if policy == "quorum":
            if quorum is None:
                self.add(f"{path}.quorum", "policy quorum needs 'quorum'")
            elif quorum < 1:
                self.add(f"{path}.quorum", "a quorum must be at least 1")
            elif not (spec.groups or spec.roles or spec.fields) and quorum > len(set(spec.users)):
                self.add(
                    f"{path}.quorum",
                    f"impossible quorum: {quorum} approvals needed but only "
                    f"{len(set(spec.users))} approver(s) named",
                )
        elif quorum is not None:
            self.add(f"{path}.quorum", f"'quorum' only applies to policy quorum (policy is {policy})")
        if policy == "percentage":
            if pct is None or not 0 < pct <= 100:
                self.add(f"{path}.percentage", "policy percentage needs a percentage in (0, 100]")
        elif pct is not None:
            self.add(
                f"{path}.percentage", f"'percentage' only applies to policy percentage (policy is {policy})"
            )

    def _trigger_from(self, path: str, trigger: str, state: str) -> None:
        matches = [t for t in self.d.transitions if t.trigger == trigger]
        if not matches:
            self.add(path, f"unknown trigger '{trigger}'{self._suggest(trigger, self.triggers)}")
        elif not any(state in self.d.sources(t) for t in matches):
            self.add(path, f"trigger '{trigger}' cannot fire from state '{state}'")

    def check_sla(self, path: str, s: SlaDef) -> None:
        groups = {"runs_in": s.runs_in, "pauses_in": s.pauses_in, "stops_in": s.stops_in}
        for key, names in groups.items():
            for j, name in enumerate(names):
                self.state_ref(f"{path}.{key}[{j}]", name)
        for a, b in (("runs_in", "pauses_in"), ("runs_in", "stops_in"), ("pauses_in", "stops_in")):
            for name in sorted(set(groups[a]) & set(groups[b])):
                self.add(f"{path}.{b}", f"state '{name}' is in both {a} and {b}")
        self.field_ref(f"{path}.target_field", s.target_field)
        spec = self.d.field(s.target_field)
        if spec is not None and spec.values:
            for value in s.targets:
                if value not in spec.values:
                    self.add(f"{path}.targets.{value}", f"'{value}' is not a value of '{s.target_field}'")
            missing = [v for v in spec.values if v not in s.targets]
            if missing and s.default_target is None:
                self.add(
                    f"{path}.targets",
                    f"no target for {s.target_field} {', '.join(missing)} (add them or a default_target)",
                )
        for value, target in s.targets.items():
            if target.total_seconds() <= 0:
                self.add(f"{path}.targets.{value}", "a target must be positive")
        self.calendar_ref(f"{path}.calendar", s.calendar)
        for value, cal in s.calendars.items():
            self.calendar_ref(f"{path}.calendars.{value}", cal)
        seen: set[float] = set()
        for j, th in enumerate(s.thresholds):
            if th.at in seen:
                self.add(f"{path}.thresholds[{j}].at", f"duplicate threshold {th.at:g}%")
            seen.add(th.at)
            for k, e in enumerate(th.actions):
                self.check_effect(f"{path}.thresholds[{j}].actions[{k}]", e, in_sla=True)

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


def check(definition: Definition) -> list[Issue]:
    """Every semantic problem of an already well-formed definition."""
    return _Checker(definition).run()
