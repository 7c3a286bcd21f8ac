"""A running service-level clock outside its service hours (issue 16): the clock counts only business
time, so outside the hours of its calendar it does not move although its state is "running". The
record page says so, and when it resumes counting."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from definitions.calendar import BusinessCalendar, add_business_time, is_working_time
from definitions.model import Definition
from definitions.shared_calendars import with_builtin_calendars
from sla.model import AgreementSpec
from sla.tables import AgreementRow
from workflows.contracts import RecordSnapshot, SlaView

STEP = timedelta(minutes=1)


def resumes_at(session: Session, d: Definition, snap: RecordSnapshot, now: datetime) -> dict[str, datetime]:
    """For each running clock now outside its service hours: when it counts again."""
    out: dict[str, datetime] = {}
    calendars = with_builtin_calendars(d).calendars
    for view in snap.slas:
        if view.state != "running":
            continue
        cal = _calendar(session, d, calendars, view)
        if cal is None or cal.always or is_working_time(cal, now):
            continue
        # The first instant of business time after now (adding a minute of it, less that minute).
        out[view.name] = add_business_time(cal, now, STEP) - STEP
    return out


def _calendar(
    session: Session, d: Definition, calendars: dict[str, BusinessCalendar], view: SlaView
) -> BusinessCalendar | None:
    if view.agreement is not None:
        row = session.exec(
            select(AgreementRow).where(
                AgreementRow.key == view.agreement, AgreementRow.version == view.agreement_version
            )
        ).first()
        return AgreementSpec.model_validate(row.spec).calendar if row is not None else None
    spec = next((s for s in d.slas if s.name == view.name), None)
    if spec is None:
        return None
    name = spec.calendars.get(view.target_key or "", spec.calendar) if spec.calendars else spec.calendar
    return calendars.get(name) if name else None
