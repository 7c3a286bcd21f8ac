"""Agreements, outages and availability over HTTP (docs/sla.md): the answers' models, and the
agreements package's refusals as problems in the caller's language."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from api.problems import ProblemError
from sla.errors import SlaError
from sla.report_views import ReportSections
from sla.tables import AgreementRow, OutageRow

T = TypeVar("T")
STATUS = {"invalid": 422, "overlap": 409, "not_found": 422, "change_required": 422}


class SaveAgreement(BaseModel):
    spec: dict[str, Any] = Field(description="The agreement (docs/sla.md, 'An agreement').")
    change_ref: str | None = Field(
        default=None, max_length=64, description="The approved change record (id or number) of a new version."
    )


class AgreementOut(BaseModel):
    key: str
    version: int
    status: str
    service: str
    spec: dict[str, Any]
    change_ref: str | None
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, row: AgreementRow) -> AgreementOut:
        return cls.model_validate(row, from_attributes=True)


class CreateOutage(BaseModel):
    service: str = Field(min_length=1, max_length=200)
    start: datetime | None = Field(default=None, description="Required unless `incident` is given.")
    end: datetime | None = Field(default=None, description="Required unless `incident` is resolved.")
    planned: bool = False
    incident: str | None = Field(
        default=None, max_length=64, description="The incident (id or number) flagged as this interruption."
    )


class OutageOut(BaseModel):
    service: str
    start: datetime
    end: datetime
    planned: bool
    incident: str | None
    id: int
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, row: OutageRow) -> OutageOut:
        return cls.model_validate(row, from_attributes=True)


class AvailabilityOut(BaseModel):
    agreement: str
    version: int
    start: datetime
    end: datetime
    committed_hours: float
    unavailable_hours: float
    availability_percent: float | None
    availability_target: float
    interruptions: int
    max_interruptions: int
    mtbf_hours: float | None
    met: bool


@contextmanager
def refusals() -> Iterator[None]:
    """An `SlaError` as a problem naming the field, in zh and en; nothing was written."""
    try:
        yield
    except SlaError as exc:
        raise ProblemError(
            STATUS[exc.kind],
            exc.en,
            zh=exc.zh,
            kind=f"sla_{exc.kind}",
            errors=[{"path": exc.path, "message": exc.en}],
        ) from None


def checked(call: Callable[[], T]) -> T:
    with refusals():
        return call()


class PriorityOut(BaseModel):
    priority: str
    records: int
    resolved: int
    breached: int
    mean_resolution_hours: float | None
    max_resolution_hours: float | None
    resolution_target_hours: float | None


class ServiceReportOut(BaseModel):
    """The service report's figures for an agreement and period (docs/sla.md, 'Service report')."""

    title: dict[str, str]
    availability: AvailabilityOut
    priorities: list[PriorityOut]
    sections: ReportSections | None = Field(
        default=None,
        description="Attainment per indicator, deviations with reasons, major incidents, outages, "
        "satisfaction, trends, each process's KPIs and improvement items, in the caller's language.",
    )
