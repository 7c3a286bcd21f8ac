"""From HTML form values to typed field values, and from definitions to form inputs.

A browser sends every value as text; the engine checks types itself (definitions/fieldvalues.py), so
this only undoes what HTML does to values: unchecked boxes are absent, `datetime-local` has no
offset (the page sends the browser's offset alongside), empty inputs mean "not given", lists are lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from sqlmodel import Session

from api.web.i18n import humanize, pick
from core.store import get_definition
from definitions.loader import load_text
from definitions.model import Definition
from workflows.contracts import FieldSpec

FIELD_PREFIX = "f."
TZ_FIELD = "_tz"  # minutes east of UTC, from the browser


@lru_cache(maxsize=64)
def _parse(source_hash: str, source: str) -> Definition | None:
    return load_text(source).definition


def definition(session: Session, key: str, version: int | None = None) -> Definition | None:
    """A stored definition version, parsed once per content hash (versions never change)."""
    row = get_definition(session, key, version)
    if row is None:
        return None
    return _parse(row.hash, row.source)


def input_kind(spec: FieldSpec) -> str:
    """The HTML control for a field type."""
    return {
        "enum": "select",
        "bool": "checkbox",
        "datetime": "datetime",
        "text": "textarea",
        "int": "number",
        "list": "list",
        "checklist": "checklist",
    }.get(spec.type, "text")


def _offset(raw: str | None) -> timezone:
    try:
        minutes = int(raw or "0")
    except ValueError:
        minutes = 0
    return timezone(timedelta(minutes=max(-14 * 60, min(14 * 60, minutes))))


def field_values(form: dict[str, Any], specs: list[FieldSpec]) -> dict[str, Any]:
    """The values of `specs` present in the form (`f.<name>` inputs), typed as the engine expects."""
    tz = _offset(form.get(TZ_FIELD))
    out: dict[str, Any] = {}
    for spec in specs:
        name = FIELD_PREFIX + spec.name
        raw = form.get(name)
        if spec.type == "bool":
            out[spec.name] = raw in ("true", "on", "1")
            continue
        if spec.type == "checklist":
            answers = checklist_answers(form, spec)
            if answers:
                out[spec.name] = answers
            continue
        if raw is None or str(raw).strip() == "":
            continue
        text = str(raw).strip()
        if spec.type == "datetime":
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                out[spec.name] = text  # the engine names the field and the problem
                continue
            out[spec.name] = (moment if moment.tzinfo else moment.replace(tzinfo=tz)).isoformat()
        elif spec.type == "int":
            out[spec.name] = int(text) if text.lstrip("-").isdigit() else text
        elif spec.type == "list":
            out[spec.name] = [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]
        else:
            out[spec.name] = text
    return out


def checklist_answers(form: dict[str, Any], spec: FieldSpec) -> dict[str, dict[str, str]]:
    """A checklist's answered items: `f.NAME.ITEM` (pass / fail / n/a) with `f.NAME.ITEM.note`."""
    out = {}
    for item in spec.items or []:
        key = f"{FIELD_PREFIX}{spec.name}.{item['key']}"
        result = str(form.get(key) or "").strip()
        if result:
            out[str(item["key"])] = {"result": result, "note": str(form.get(key + ".note") or "").strip()}
    return out


def local_input(value: Any) -> str:
    """A stored ISO date-time as a `datetime-local` value (UTC, minutes)."""
    if not isinstance(value, str):
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return ""
    if moment.tzinfo:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M")


# --- form inputs built from a definition --------------------------------------------------------------


@dataclass
class Input:
    """One form control: what the templates' `field_input` macro draws."""

    name: str
    label: str
    kind: str  # see input_kind; "person" for user/group fields
    type: str
    required: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)
    value: Any = None
    readonly: bool = False
    help: str = ""
    lock_note: str = "form.readonly"  # the i18n key that says why it is read-only
    items: list[dict[str, Any]] = field(default_factory=list)  # a checklist's items


def _options(d: Definition | None, spec: FieldSpec, lang: str) -> list[tuple[str, str]]:
    declared = d.field(spec.name) if d else None
    labels = declared.value_labels if declared and declared.value_labels else {}
    return [(v, pick(labels.get(v), lang, v)) for v in (spec.values or [])]


def inputs(
    specs: list[FieldSpec],
    d: Definition | None,
    lang: str,
    values: dict[str, Any] | None = None,
    readonly: frozenset[str] = frozenset(),
) -> list[Input]:
    """Controls for `specs` (the API's FieldSpec shape), filled from `values`, in the current language."""
    out = []
    for spec in specs:
        declared = d.field(spec.name) if d else None
        kind = input_kind(spec)
        if kind == "text" and spec.type in ("user", "group"):
            kind = "person"
        out.append(
            Input(
                name=spec.name,
                label=pick(spec.label, lang, humanize(spec.name)),
                kind=kind,
                type=spec.type,
                required=spec.required,
                options=_options(d, spec, lang),
                value=(values or {}).get(spec.name),
                readonly=spec.name in readonly,
                help=pick(declared.description, lang) if declared and declared.description else "",
                items=spec.items or [],
            )
        )
    return out


WIDE_KINDS = ("textarea", "list", "checklist")


def laid_out(controls: list[Input]) -> list[Input]:
    """Short controls first, then the full-width ones (texts, lists): a grid with no holes, each group
    in the definition's order."""
    return [c for c in controls if c.kind not in WIDE_KINDS] + [c for c in controls if c.kind in WIDE_KINDS]


def changed_values(form: dict[str, Any], specs: list[FieldSpec], current: dict[str, Any]) -> dict[str, Any]:
    """The submitted values that differ from `current`: an edit form sends every input back, and
    re-sending an unchanged value would trip read-only checks or log empty changes."""
    out = {}
    for name, value in field_values(form, specs).items():
        before = current.get(name)
        if isinstance(value, bool) and not value and not before:
            continue
        if _same_moment(value, before) or value == before or str(value) == str(before):
            continue
        out[name] = value
    return out


def _same_moment(a: Any, b: Any) -> bool:
    if not (isinstance(a, str) and isinstance(b, str)):
        return False
    try:
        return datetime.fromisoformat(a) == datetime.fromisoformat(b)
    except ValueError:
        return False
