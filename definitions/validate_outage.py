"""Validation of the `record_outage` effect (part of definitions/validate.py's checker): its flag is a
bool field, its start a datetime field, its service an existing field, and it comes with a transition."""

from __future__ import annotations

from definitions.model import Definition, RecordOutageSpec


class OutageChecks:
    """Mixed into the checker, which provides these."""

    d: Definition
    fields: set[str]

    def add(self, path: str, message: str) -> None:
        raise NotImplementedError

    def field_ref(self, path: str, name: str) -> None:
        raise NotImplementedError

    def check_record_outage(self, path: str, spec: RecordOutageSpec, in_sla: bool) -> None:
        if in_sla:
            self.add(path, "an outage is recorded with a transition, not an SLA threshold")
        for key, name, kind in (
            ("flag", spec.flag, "bool"),
            ("start_field", spec.start_field, "datetime"),
            ("service_field", spec.service_field, None),
        ):
            if name not in self.fields:
                self.field_ref(f"{path}.{key}", name)
                continue
            field = self.d.field(name)
            if kind is not None and (field is None or field.type != kind):
                self.add(f"{path}.{key}", f"'{name}' must be a {kind} field")
