"""Conformance replay: real ServiceNow incident histories through the shipped incident definition.

Each incident of the event log (shared/datasets/servicenow-incident-log) is created with
`ProcessEngine.create` at its opening time and then driven through its real sequence of states: for
every state change the transition of the definition from our state to the mapped state is fired at the
event's time, by an actor that holds the right to fire it (an agent of the record's assignment group,
else the caller for requester-only steps such as `confirm`, else a service-desk agent). Before every
step `engine.on_timers(event_time)` fires whatever is due, so SLA thresholds (and their escalations)
and timed transitions (the 3-working-day auto-close) happen as they would have. Same-state rows that
change impact, urgency, group or assignee are applied as field updates, which exercises the priority
matrix and SLA re-targeting.

Missing or unmappable values for required fields (the log's anonymised categories and closure codes fit
none of our enum values) are filled with placeholders and counted as data-completion notes, never as
rejections. A step the engine refuses ends that incident's replay and is reported with the engine's
Refusal kind and message.

The replayed records are written to a temporary SQLite read model through the same `persist_record`
the worker uses, and `reports.kpis` then computes the incident indicators next to the log's own
figures (made_sla, reopen_count, reassignment_count).

Log times have no zone; they are read as the service desk's local time (Asia/Shanghai, the zone of the
definition's business calendar) so that business hours apply to the wall-clock times of the log.

    python bench/replay_servicenow.py [--quick] [--every N] [--limit N] [--db PATH] [--no-kpis]

The last line printed is one JSON object with the headline figures.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from definitions.fieldvalues import FieldValueError, check_value  # noqa: E402
from definitions.loader import PinnedDefinition, load_file, pin  # noqa: E402
from definitions.model import TransitionDef  # noqa: E402
from workflows.contracts import (  # noqa: E402
    Actor,
    AuditEvent,
    FireTransitionInput,
    RecordSnapshot,
    StartProcessInput,
    UpdateFieldsInput,
)
from workflows.engine import ProcessEngine, Refusal  # noqa: E402

# The shared folder sits beside the project's checkout (shared/datasets/...).
LOG = ROOT.parent / "shared" / "datasets" / "servicenow-incident-log" / "incident_event_log.csv.gz"
DEFINITION = ROOT / "definitions" / "library" / "incident.yaml"
LOCAL = ZoneInfo("Asia/Shanghai")

# ServiceNow state -> the incident definition's states. "Closed" is `closed` after a resolution and
# `cancelled` when the incident was never resolved (the definition's `cancel`); either is final.
STATES: dict[str, tuple[str, ...]] = {
    "New": ("new",),
    "Active": ("in_progress",),
    "Awaiting User Info": ("awaiting_user",),
    "Awaiting Vendor": ("awaiting_vendor",),
    "Awaiting Problem": ("awaiting_problem",),
    "Awaiting Evidence": ("awaiting_evidence",),
    "Resolved": ("resolved",),
    "Closed": ("closed", "cancelled"),
}
CHANNELS = {"Phone": "phone", "Email": "email", "Self service": "self_service", "IVR": "phone"}


# --- reading the log ---------------------------------------------------------------------------------


def parse_time(text: str) -> datetime | None:
    if not text or text == "?":
        return None
    return datetime.strptime(text, "%d/%m/%Y %H:%M").replace(tzinfo=LOCAL)


def read_log(
    path: Path = LOG, *, every: int = 1, limit: int | None = None, numbers: set[str] | None = None
) -> dict[str, list[dict[str, str]]]:
    """Rows per incident in file order (the log's own order: sys_mod_count, with a few clock glitches).

    `every` keeps every n-th incident (in order of first appearance), `limit` stops after that many,
    `numbers` keeps only those incidents (reading stops once they are all complete: the log keeps an
    incident's rows together).
    """
    incidents: dict[str, list[dict[str, str]]] = {}
    order: dict[str, int] = {}
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            number = row["number"]
            if numbers is not None:
                if number in numbers:
                    incidents.setdefault(number, []).append(row)
                elif len(incidents) == len(numbers):
                    break
                continue
            if number not in order:
                order[number] = len(order)
                if order[number] % every == 0 and (limit is None or len(incidents) < limit):
                    incidents[number] = []
            if number in incidents:
                incidents[number].append(row)
    return incidents


def value(row: dict[str, str], column: str) -> str | None:
    text = row.get(column, "?")
    return None if text in ("?", "") else text


def name(text: str | None) -> str | None:
    """'Resolver 89' -> 'resolver_89': the log's anonymised names as user/group identifiers."""
    if text is None:
        return None
    return re.sub(r"\s+", "_", text.strip()).lower() or None


def level(text: str | None) -> str | None:
    """'2 - Medium' -> '2'."""
    return text.split(" - ", 1)[0].strip() if text else None


# --- one incident --------------------------------------------------------------------------------------


@dataclass
class Result:
    number: str
    accepted: bool = True
    events: int = 0
    steps: int = 0
    rejection: str | None = None
    refusal_kind: str | None = None
    refusal_message: str | None = None
    notes: Counter[str] = field(default_factory=Counter)
    priority_checks: int = 0
    priority_matches: int = 0
    priority_mismatches: list[str] = field(default_factory=list)
    timer_closes: int = 0
    reopens: int = 0
    snapshot: RecordSnapshot | None = None  # the record as the replay left it (the engine is dropped)
    breached: bool = False
    audit: list[AuditEvent] = field(default_factory=list)


def pattern(message: str) -> str:
    """A refusal message without the record's number and the anonymised people in it."""
    message = re.sub(r"INC\d+", "INC…", message)
    return re.sub(r"\b(caller|resolver|updated_by|opened_by|created_by|group)_\d+\b", "<name>", message)


class Replayer:
    def __init__(self, pinned: PinnedDefinition) -> None:
        self.pinned = pinned
        self.d = pinned.definition
        pm = self.d.priority_matrix
        assert pm is not None, "the incident definition has a priority matrix"
        self.pm = pm

    # -- values from a row ------------------------------------------------------------------------
    def row_fields(self, row: dict[str, str]) -> dict[str, Any]:
        """The definition's fields the row carries (only those that fit the definition's types)."""
        raw: dict[str, Any] = {
            "impact": level(value(row, "impact")),
            "urgency": level(value(row, "urgency")),
            "assignment_group": name(value(row, "assignment_group")),
            "assignee": name(value(row, "assigned_to")),
        }
        return {k: v for k, v in raw.items() if v is not None}

    def start_fields(self, row: dict[str, str]) -> tuple[dict[str, Any], Counter[str]]:
        notes: Counter[str] = Counter()
        fields = self.row_fields(row)
        extra: dict[str, Any] = {
            "requester": name(value(row, "caller_id")),
            "contact_type": CHANNELS.get(value(row, "contact_type") or ""),
            "subcategory": value(row, "subcategory"),
            "configuration_item": value(row, "cmdb_ci"),
            "knowledge": (value(row, "knowledge") or "").lower() == "true",
            "problem": name(value(row, "problem_id")),
            "caused_by_change": name(value(row, "caused_by")),
        }
        for key, val in extra.items():
            if val is not None and self.d.field_type(key) is not None:
                fields[key] = val
        if "requester" not in fields:
            fields["requester"] = "unknown_caller"
            notes["requester: no caller_id in the log"] += 1
        return fields, notes

    def supplied_value(self, field_name: str, row: dict[str, str]) -> Any:
        closed_code = value(row, "closed_code")
        source: dict[str, Any] = {
            **self.row_fields(row),
            "category": value(row, "category"),
            "resolution_code": closed_code,
            "resolution_notes": f"ServiceNow closed_code: {closed_code}" if closed_code else None,
            "resolved_by": name(value(row, "resolved_by")),
        }
        return source.get(field_name)

    def placeholder(self, field_name: str) -> Any:
        spec = self.d.field(field_name)
        kind = self.d.field_type(field_name) or "string"
        if kind == "enum" and spec and spec.values:
            return "other" if "other" in spec.values else spec.values[0]
        if kind == "bool":
            return False
        if kind == "datetime":
            return datetime(2016, 1, 1, tzinfo=LOCAL).isoformat()
        if kind in ("user", "group", "reference"):
            return "replay_placeholder"
        return "(not in the ServiceNow log)"

    def fill(
        self, engine: ProcessEngine, t: TransitionDef, row: dict[str, str], notes: Counter[str]
    ) -> dict[str, Any]:
        """Required fields of the transition and its target state that the record does not have yet."""
        target = self.d.state(t.to)
        names = list(dict.fromkeys(t.required_fields + (target.required if target else [])))
        out: dict[str, Any] = {}
        for n in names:
            if engine.record.fields.get(n) not in (None, "", []):
                continue
            raw = self.supplied_value(n, row)
            if raw is not None:
                try:
                    out[n] = check_value(self.d.field_type(n) or "string", raw, self.d.field(n))
                    continue
                except FieldValueError:
                    notes[f"{n}: log value does not fit the definition (placeholder)"] += 1
            else:
                notes[f"{n}: not in the log (placeholder)"] += 1
            out[n] = self.placeholder(n)
        return out

    # -- actors ---------------------------------------------------------------------------------------
    def actors(self, engine: ProcessEngine, row: dict[str, str]) -> list[Actor]:
        f = engine.record.fields
        worker = name(value(row, "assigned_to")) or name(value(row, "sys_updated_by")) or "agent"
        group = f.get("assignment_group")
        agent = Actor(username=worker, roles=["agent"], groups=[group] if group else [])
        requester = Actor(username=str(f.get("requester") or "unknown_caller"), roles=["requester"])
        desk = Actor(
            username=name(value(row, "sys_updated_by")) or "service_desk_agent",
            roles=["agent", "service_desk"],
            groups=["service_desk"],
        )
        return [agent, requester, desk]

    # -- steps ----------------------------------------------------------------------------------------
    def candidates(self, current: str, targets: tuple[str, ...]) -> list[TransitionDef]:
        """Human-fired transitions from `current` to one of `targets`, unguarded ones first."""
        found = [
            t
            for t in self.d.transitions
            if t.allowed is not None and t.to in targets and t.to != current and current in self.d.sources(t)
        ]
        return sorted(found, key=lambda t: (t.guard is not None, self.d.transitions.index(t)))

    def nearest_trigger(self, current: str, targets: tuple[str, ...]) -> str | None:
        """When no transition leads there: the trigger a person would try (for the engine's refusal)."""
        state = self.d.state(current)
        category = state.category if state is not None else None
        related = {category, "resolved"} if category == "closed" else {category}
        options = [t for t in self.d.transitions if t.to in targets and t.allowed is not None]
        options.sort(
            key=lambda t: (
                not any(
                    (s := self.d.state(src)) is not None and s.category in related
                    for src in self.d.sources(t)
                )
            )
        )
        return options[0].trigger if options else None

    def step(self, engine: ProcessEngine, res: Result, row: dict[str, str], at: datetime) -> bool:
        """Move the record to the row's state; False (with the refusal recorded) when refused."""
        targets = STATES[row["incident_state"]]
        current = engine.record.state
        if current in targets:
            return True
        if engine.is_final and row["incident_state"] == "Closed":
            return True
        first: Refusal | None = None
        for t in self.candidates(current, targets):
            for actor in self.actors(engine, row):
                if not engine.matches(actor, t.allowed):  # type: ignore[arg-type]
                    continue
                notes: Counter[str] = Counter()
                fields = self.fill(engine, t, row, notes)
                comment = None
                if t.comment_required:
                    comment = (
                        f"Replayed from the ServiceNow log ({res.number}, update {row['sys_mod_count']})"
                    )
                    notes["comment: required, supplied by the replay"] += 1
                inp = FireTransitionInput(actor=actor, trigger=t.trigger, fields=fields, comment=comment)
                try:
                    out = engine.fire(inp, at)
                except Refusal as refusal:
                    first = first or refusal
                    continue
                res.notes.update(notes)
                res.audit += out.events
                res.steps += 1
                if t.trigger == "reopen":
                    res.reopens += 1
                return True
        if first is None:
            # No transition of the definition leads there: let the engine say why a person's attempt fails.
            trigger = self.nearest_trigger(current, targets)
            try:
                engine.check_fire(
                    FireTransitionInput(actor=self.actors(engine, row)[2], trigger=trigger or "none")
                )
                first = Refusal("NoTransition", f"no transition from '{current}' to {', '.join(targets)}")
            except Refusal as refusal:
                first = refusal
        res.accepted = False
        res.refusal_kind, res.refusal_message = first.kind, first.message
        res.rejection = f"{first.kind}: {pattern(first.message)}"
        return False

    def update(self, engine: ProcessEngine, res: Result, row: dict[str, str], at: datetime) -> bool:
        wanted = self.row_fields(row)
        changed = {k: v for k, v in wanted.items() if engine.record.fields.get(k) != v}
        if not changed:
            return True
        if engine.is_final:
            res.notes["update after closure: skipped (a closed record cannot change)"] += 1
            return True
        actor = self.actors(engine, row)[2]  # a service-desk agent edits the record
        try:
            out = engine.update_fields(UpdateFieldsInput(actor=actor, fields=changed), at)
        except Refusal as refusal:
            res.accepted = False
            res.refusal_kind, res.refusal_message = refusal.kind, refusal.message
            res.rejection = f"update {refusal.kind}: {pattern(refusal.message)}"
            return False
        res.audit += out.events
        return True

    def check_priority(self, engine: ProcessEngine, res: Result, row: dict[str, str]) -> None:
        logged = level(value(row, "priority"))
        ours = engine.record.fields.get(self.pm.priority_field)
        res.priority_checks += 1
        if ours == logged:
            res.priority_matches += 1
        else:
            res.priority_mismatches.append(
                f"{res.number}: impact {row['impact']} × urgency {row['urgency']} -> ours {ours}, "
                f"log {row['priority']}"
            )

    def replay(self, number: str, rows: list[dict[str, str]]) -> Result:
        res = Result(number=number)
        first = rows[0]
        times = [parse_time(r["sys_updated_at"]) for r in rows]
        opened = parse_time(first["opened_at"]) or times[0]
        assert opened is not None and times[0] is not None
        start = min(opened, times[0])
        fields, notes = self.start_fields(first)
        res.notes.update(notes)
        creator = Actor(
            username=name(value(first, "opened_by")) or "service_desk_agent",
            roles=["agent", "service_desk"],
            groups=["service_desk"],
        )
        inp = StartProcessInput(
            record_id=number.lower(),
            number=number,
            definition=self.pinned,
            actor=creator,
            title=f"{number} ({value(first, 'category') or 'uncategorised'})",
            fields=fields,
        )
        try:
            engine, out = ProcessEngine.create(inp, start)
        except Refusal as refusal:
            res.accepted = False
            res.refusal_kind, res.refusal_message = refusal.kind, refusal.message
            res.rejection = f"create {refusal.kind}: {pattern(refusal.message)}"
            return res
        res.audit += out.events
        self.check_priority(engine, res, first)
        at = start
        previous: tuple[str | None, str | None] = (first["impact"], first["urgency"])
        log_state = "New"  # the record is created in `new`; the first row may already be further on
        for row, when in zip(rows, times, strict=True):
            res.events += 1
            if row["incident_state"] not in STATES:
                res.notes[f"unknown state {row['incident_state']!r}: row skipped"] += 1
                continue
            at = max(at, when or at)  # a few rows of the log go back in time by minutes
            was_final = engine.is_final
            res.audit += engine.on_timers(at).events
            if engine.is_final and not was_final:
                res.timer_closes += 1
            if not self.update(engine, res, row, at):
                break
            if (row["impact"], row["urgency"]) != previous:
                previous = (row["impact"], row["urgency"])
                self.check_priority(engine, res, row)
            state = row["incident_state"]
            if state == log_state:
                continue  # no state change in the log (our timers may have moved on: that is no step)
            if not self.step(engine, res, row, at):
                res.rejection = f"{log_state}→{state} {res.rejection}" + (
                    " [closed by our auto_close timer]" if res.timer_closes and log_state != "Closed" else ""
                )
                break
            log_state = state
        # The snapshot at the last event: clocks still running are not judged against a later "now".
        res.snapshot = engine.snapshot(None, at)
        res.breached = any(c.breached for c in engine.record.slas.values())
        return res


# --- the whole log -------------------------------------------------------------------------------------


def load_pinned(path: Path = DEFINITION) -> PinnedDefinition:
    result = load_file(path)
    if result.definition is None or result.issues:
        raise SystemExit(f"{path} does not load: " + "; ".join(map(str, result.issues)))
    return pin(result.definition, 1)


def iter_results(incidents: dict[str, list[dict[str, str]]], pinned: PinnedDefinition) -> Iterator[Result]:
    replayer = Replayer(pinned)
    for number, rows in incidents.items():
        yield replayer.replay(number, rows)


def persist(results: list[Result], url: str, pinned: PinnedDefinition, source: str) -> None:
    """Write the replayed records to a read model with the worker's own persist_record, next to the
    published definition (the indicators read state categories from the definition store)."""
    from activities.records import RecordActivities
    from core.db import make_engine, migrate, session_scope
    from core.store import add_definition_version, set_definition_status
    from workflows.contracts import PersistRecordInput

    migrate(url)
    engine = make_engine(url)
    d = pinned.definition
    with session_scope(engine) as session:
        row = add_definition_version(
            session,
            key=d.key,
            source=source,
            digest=pinned.hash,
            title_en=d.title.en,
            title_zh=d.title.zh,
            actor="replay",
        )
        set_definition_status(session, row, status="published", actor="replay")
    activities = RecordActivities(engine)
    for res in results:
        if res.snapshot is not None:
            activities.persist_record(PersistRecordInput(snapshot=res.snapshot, events=res.audit))


def log_figures(incidents: dict[str, list[dict[str, str]]]) -> dict[str, Any]:
    last = [rows[-1] for rows in incidents.values()]
    n = len(last) or 1
    durations = []
    for r in last:
        opened, resolved = parse_time(r["opened_at"]), parse_time(r["resolved_at"])
        if opened and resolved and resolved >= opened:
            durations.append((resolved - opened).total_seconds() / 60)
    return {
        "made_sla_share": round(100.0 * sum(r["made_sla"] == "true" for r in last) / n, 2),
        "reopened_incidents": sum(int(r["reopen_count"] or 0) > 0 for r in last),
        "reopens": sum(int(r["reopen_count"] or 0) for r in last),
        "never_reassigned_share": round(100.0 * sum(r["reassignment_count"] == "0" for r in last) / n, 2),
        "mean_time_to_resolve_min": round(sum(durations) / len(durations), 1) if durations else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--log", type=Path, default=LOG)
    parser.add_argument("--definition", type=Path, default=DEFINITION)
    parser.add_argument("--quick", action="store_true", help="every 10th incident")
    parser.add_argument("--every", type=int, default=None, help="replay every n-th incident")
    parser.add_argument("--limit", type=int, default=None, help="at most this many incidents")
    parser.add_argument(
        "--db", type=Path, default=None, help="SQLite read model to write (default: temporary)"
    )
    parser.add_argument("--no-kpis", action="store_true", help="skip the read model and the indicators")
    parser.add_argument("--show", type=int, default=3, help="examples shown per rejection reason")
    args = parser.parse_args(argv)
    every = args.every or (10 if args.quick else 1)

    t0 = time.perf_counter()
    incidents = read_log(args.log, every=every, limit=args.limit)
    t_read = time.perf_counter() - t0
    pinned = load_pinned(args.definition)
    t1 = time.perf_counter()
    results = list(iter_results(incidents, pinned))
    t_replay = time.perf_counter() - t1

    events = sum(r.events for r in results)
    accepted = [r for r in results if r.accepted]
    rejections: Counter[str] = Counter(r.rejection for r in results if r.rejection)
    notes: Counter[str] = Counter()
    for r in results:
        notes.update(r.notes)
    checks = sum(r.priority_checks for r in results)
    matches = sum(r.priority_matches for r in results)
    print(f"definition  {args.definition} ({pinned.hash[:19]})")
    print(f"log         {args.log}: {len(results)} incidents, {events} events")
    print(f"sample      every {every}th incident; read in {t_read:.1f}s")
    print(f"replay      {t_replay:.2f}s, {events / t_replay if t_replay else 0:.0f} events/s")
    print(f"accepted    {len(accepted)}/{len(results)} = {len(accepted) / max(1, len(results)):.5f}")
    print(f"priority    {matches}/{checks} agree with the log's priority")
    for line in [m for r in results for m in r.priority_mismatches][:5]:
        print(f"  mismatch  {line}")
    print(f"auto-close  {sum(r.timer_closes for r in results)} incidents closed by the auto_close timer")
    print("rejections (kind: message pattern — count — examples):")
    for reason, n in rejections.most_common():
        examples = [r.number for r in results if r.rejection == reason][: args.show]
        print(f"  {n:6d}  {reason}  e.g. {', '.join(examples)}")
    print("data-completion notes (placeholders and skipped rows, not rejections):")
    for note, n in notes.most_common():
        print(f"  {n:6d}  {note}")

    if not args.no_kpis:
        from reports.kpis import report

        t2 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            db = args.db or Path(tmp) / "replay.sqlite"
            url = f"sqlite:///{db}"
            persist(results, url, pinned, args.definition.read_text(encoding="utf-8"))
            t_persist = time.perf_counter() - t2
            from core.db import make_engine

            kpis = report(make_engine(url), definition=pinned.key)
        print(f"read model  {t_persist:.1f}s to persist {len(results)} records")
        figures = log_figures(incidents)
        by_key = {k.key: k for k in kpis.indicators}
        sla = by_key["sla_attainment"]
        reopen = by_key["reopen_rate"]
        fa = by_key["first_assignment_rate"]
        mttr = by_key["mean_time_to_resolve"]
        unbreached = [r for r in results if r.snapshot is not None]
        clean = sum(not r.breached for r in unbreached)
        rows = [
            (
                "SLA attainment, clocks",
                f"{sla.value}% {sla.breakdown}",
                f"made_sla {figures['made_sla_share']}%",
            ),
            (
                "incidents with no breach",
                f"{100.0 * clean / max(1, len(unbreached)):.2f}%",
                f"made_sla {figures['made_sla_share']}%",
            ),
            (
                "reopens",
                f"{sum(r.reopens for r in results)} transitions, {reopen.numerator:.0f} incidents",
                f"{figures['reopens']} reopens, {figures['reopened_incidents']} incidents",
            ),
            (
                "first-time assignment",
                f"{fa.value}%",
                f"never reassigned {figures['never_reassigned_share']}%",
            ),
            ("mean time to resolve", f"{mttr.value} min", f"{figures['mean_time_to_resolve_min']} min"),
        ]
        print("indicators on the replayed data (ours) next to the log's own figures:")
        for label, ours, theirs in rows:
            print(f"  {label:26s} ours {ours:40s} log {theirs}")
        for k in kpis.indicators:
            print(f"  {k.key:28s} {k.value!s:>10} {k.unit:8s} ({k.numerator}/{k.denominator})")

    summary = {
        "incidents": len(results),
        "events": events,
        "accepted_fraction": round(len(accepted) / max(1, len(results)), 6),
        "priority_agreement": round(matches / checks, 6) if checks else None,
        "events_per_s": round(events / t_replay, 1) if t_replay else None,
        "rejections": dict(rejections.most_common()),
    }
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
