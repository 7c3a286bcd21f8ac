"""Shared business calendars: one calendar file that every definition can reference by name.

Five shipped definitions used to carry the same copy of mainland China's service-desk hours with the
year's public holidays typed in by hand. A shared calendar is written once (`library/calendars/*.yaml`),
takes its public holidays and make-up working days (调休) from the `holidays` package — which follows
the State Council's yearly notice, so a new year is a dependency upgrade — and adds local days of its
own. A definition names it (`calendars: {business: {shared: china_business}}`); a record resolves the
reference when it starts (workflows/shared_calendars.py), so an administrator's update reaches new
records without republishing and never moves a running record's deadlines.

Pure apart from reading the packaged files: the database's versions are layered on by
`schedule/shared_store.py`.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from definitions.calendar import BusinessCalendar, Weekday
from definitions.model import Definition

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"


class HolidaySource(BaseModel):
    """Where the public holidays come from: a country (and subdivision) of the `holidays` package."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code, e.g. CN.")
    subdivision: str | None = None
    years: list[int] = Field(
        min_length=1,
        description="The years whose holidays are declared: after the last one the calendar is warned about.",
    )

    @field_validator("years")
    @classmethod
    def _years(cls, value: list[int]) -> list[int]:
        bad = [y for y in value if not 2000 <= y <= 2100]
        if bad:
            raise ValueError(f"year {bad[0]} is outside 2000–2100")
        return sorted(set(value))


class SharedCalendar(BaseModel):
    """A shared calendar as written: hours, the holiday source and the local additions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME_PATTERN)
    label: dict[str, str] = Field(description="The calendar's name in zh and en.")
    timezone: str = "Asia/Shanghai"
    always: bool = False
    weekly: dict[Weekday, list[str]] = Field(default_factory=dict)
    workday_hours: list[str] | None = None
    holidays_from: HolidaySource | None = None
    holidays: list[date] = Field(default_factory=list, description="Local holidays, added to the source's.")
    workdays: list[date] = Field(default_factory=list, description="Local make-up working days.")

    @field_validator("label")
    @classmethod
    def _label(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [lang for lang in ("zh", "en") if not value.get(lang, "").strip()]
        if missing:
            raise ValueError(f"label needs a text in {' and '.join(missing)}")
        return value

    # The field checks are the calendar's own, so that each error names its field here too.
    _timezone = field_validator("timezone")(BusinessCalendar._check_timezone.__func__)  # type: ignore[attr-defined]
    _weekly = field_validator("weekly")(BusinessCalendar._check_weekly.__func__)  # type: ignore[attr-defined]
    _hours = field_validator("workday_hours")(BusinessCalendar._check_workday_hours.__func__)  # type: ignore[attr-defined]

    @model_validator(mode="after")
    def _valid_calendar(self) -> SharedCalendar:
        clash = sorted(set(self.holidays) & set(self.workdays))
        if clash:
            raise ValueError(f"date {clash[0].isoformat()} is listed both in holidays and in workdays")
        try:
            self.resolved()  # the rest (a week without hours, make-up days without hours)
        except ValidationError as exc:
            raise ValueError(
                "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
            ) from None
        return self

    def resolved(self) -> BusinessCalendar:
        """The plain calendar a record runs on: the source's holidays and workdays with the local ones."""
        holidays, workdays = set(self.holidays), set(self.workdays)
        if self.holidays_from is not None:
            source_holidays, source_workdays = _from_package(self.holidays_from)
            holidays |= source_holidays - workdays  # a local make-up day wins over the package
            workdays |= source_workdays - set(self.holidays)
        data = self.model_dump(exclude={"name", "holidays_from", "holidays", "workdays"})
        if not data["weekly"]:
            data.pop("weekly")
        return BusinessCalendar(**data, holidays=sorted(holidays), workdays=sorted(workdays))

    def declared_until(self) -> date | None:
        """The last day whose holidays are declared: the end of the source's last year, or the last
        local holiday or make-up day, whichever is later (None: nothing declared)."""
        ends = [*self.holidays, *self.workdays]
        if self.holidays_from is not None:
            ends.append(date(self.holidays_from.years[-1], 12, 31))
        return max(ends, default=None)


def _from_package(source: HolidaySource) -> tuple[set[date], set[date]]:
    return _package_days(source.country, source.subdivision, tuple(source.years))


@cache
def _package_days(
    country: str, subdivision: str | None, years: tuple[int, ...]
) -> tuple[set[date], set[date]]:
    import holidays  # imported here: the package is large and only resolving needs it

    try:
        table = holidays.country_holidays(country, subdiv=subdivision, years=list(years))
    except NotImplementedError:
        raise ValueError(f"the holidays package knows no country {country!r}") from None
    days = set(table.keys())
    workdays = {d for d in getattr(table, "weekend_workdays", set()) if d.year in years}
    return days, workdays


def _folder() -> Path:
    return Path(str(resources.files("definitions").joinpath("library", "calendars")))


@cache
def builtin() -> dict[str, SharedCalendar]:
    """The shared calendars shipped with the product, by name."""
    out: dict[str, SharedCalendar] = {}
    for path in sorted(_folder().glob("*.yaml")):
        calendar = SharedCalendar.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        if calendar.name != path.stem:
            raise ValueError(f"{path.name} names its calendar {calendar.name!r}, not {path.stem!r}")
        out[calendar.name] = calendar
    return out


def builtin_names() -> frozenset[str]:
    return frozenset(builtin())


def with_builtin_calendars(definition: Definition) -> Definition:
    """The definition with each shared reference replaced by the shipped calendar's days (what a record
    runs on while no administrator has published a version): for tools and tests that run a definition
    outside a workflow. Records resolve the version in force instead (workflows/shared_calendars.py)."""
    calendars: dict[str, BusinessCalendar] = {}
    for name, cal in definition.calendars.items():
        if cal.shared is None:
            calendars[name] = cal
            continue
        resolved = builtin()[cal.shared].resolved()
        calendars[name] = resolved.model_copy(update={"label": cal.label}) if cal.label else resolved
    return definition.model_copy(update={"calendars": calendars})
