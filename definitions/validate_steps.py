"""Validation of approval steps and SLA clocks (part of definitions/validate.py's checker)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from definitions import dates, shared_calendars
from definitions.model import ApprovalStep, Definition, Guard, ScheduleCheck, SlaDef


class StepChecks:
    """Checks of approval steps and SLA clocks; mixed into the checker, which provides these."""

    d: Definition
    states: set[str]
    triggers: set[str]
    roles: Any

    def add(self, path: str, message: str) -> None:
        raise NotImplementedError

    def state_ref(self, path: str, name: str) -> None:
        raise NotImplementedError

    def field_ref(self, path: str, name: str) -> None:
        raise NotImplementedError

    def calendar_ref(self, path: str, name: str | None) -> None:
        raise NotImplementedError

    def check_guard(self, path: str, guard: Guard) -> None:
        raise NotImplementedError

    def check_effect(self, path: str, e: Any, *, in_sla: bool = False) -> None:
        raise NotImplementedError

    def check_recipients(self, path: str, recipients: list[str]) -> None:
        raise NotImplementedError

    def user_field(self, path: str, spec: str, *, allow_group: bool = False) -> None:
        raise NotImplementedError

    def duplicates(self, path: str, names: list[str], what: str) -> None:
        raise NotImplementedError

    @staticmethod
    def _suggest(name: str, known: Iterable[str]) -> str:
        raise NotImplementedError

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

    def check_visibility(self) -> None:
        """Roles must exist (a misspelt one would silently hide every record from its holders); no
        role or group twice."""
        vis = self.d.visibility
        if vis is None:
            return
        known = set(self.roles) | {"auditor"}  # itilflow's read-only role may be given sight too
        for j, role in enumerate(vis.roles):
            if role not in known:
                close = difflib.get_close_matches(role, sorted(known), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.add(f"visibility.roles[{j}]", f"unknown role '{role}'{hint}")
        for what, names in (("roles", vis.roles), ("groups", vis.groups)):
            seen: set[str] = set()
            for j, name in enumerate(names):
                if name in seen:
                    self.add(f"visibility.{what}[{j}]", f"'{name}' is listed twice")
                seen.add(name)

    def check_shared_calendars(self) -> None:
        known = shared_calendars.builtin_names()
        for name, cal in self.d.calendars.items():
            if cal.shared is not None and cal.shared not in known:
                self.add(
                    f"calendars.{name}.shared",
                    f"unknown shared calendar '{cal.shared}'{self._suggest(cal.shared, known)}",
                )

    def _check_date_guard(self, path: str, guard: Guard) -> None:
        for key, name in (("field", guard.field), ("value_field", guard.value_field)):
            kind = self.d.field_type(name) if name and name not in dates.PSEUDO_DATES else None
            if kind is not None and kind != "datetime":
                self.add(
                    f"{path}.{key}", f"a date comparison needs a datetime field; '{name}' is a {kind} field"
                )
        if guard.value_field is None and dates.instant(guard.value, ZoneInfo("UTC")) is None:
            self.add(f"{path}.value", "a date comparison needs a date (ISO 8601), a date field, or 'now'")
        if guard.offset is not None and guard.offset.calendar is not None:
            self.calendar_ref(f"{path}.offset.calendar", guard.offset.calendar)

    def check_schedule_check(self, path: str, spec: ScheduleCheck) -> None:
        wanted = {
            "start": ("datetime",),
            "end": ("datetime",),
            "cis": ("ci", "list"),
            "implementer": ("user",),
        }
        for key, kinds in wanted.items():
            name = getattr(spec, key)
            if name is None:
                continue
            kind = self.d.field_type(name)
            if kind is None:
                self.field_ref(f"{path}.{key}", name)
            elif kind not in kinds:
                self.add(
                    f"{path}.{key}", f"'{name}' is a {kind} field; expected a {' or '.join(kinds)} field"
                )
        if spec.ecab_approved is not None:
            try:
                guard = Guard.model_validate(spec.ecab_approved)
            except ValueError as exc:
                self.add(f"{path}.ecab_approved", f"not a guard: {exc}")
            else:
                self.check_guard(f"{path}.ecab_approved", guard)
