"""The service report (服务报告) of one agreement and period as data: what the API answers as JSON and
what the XLSX and PDF renderings show (docs/sla.md, "Service reports"). Every text a person reads comes
with both languages (`Label`); numbers are None where there is nothing to compute from ("no data")."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from reports.model import KpiReport, Label


class PeriodOut(BaseModel):
    start: datetime
    end: datetime


class IndicatorAttainment(BaseModel):
    indicator: str = Field(description="The clock's name in the definition (response, resolution, …).")
    label: Label
    met: int
    breached: int
    running: int = Field(description="Clocks still running at the time of the report: not judged yet.")
    percent: float | None = Field(description="met / (met + breached); None without a judged clock.")


class PriorityRow(BaseModel):
    priority: str
    records: int
    resolved: int
    breached: int
    mean_resolution_hours: float | None
    max_resolution_hours: float | None
    resolution_target_hours: float | None


class ListedRecord(BaseModel):
    id: str
    number: str
    definition: str
    title: str
    priority: str | None
    state: str
    state_label: Label | None = None
    created_at: datetime
    resolved_at: datetime | None
    clocks: list[str] = Field(default_factory=list, description="The clocks that breached.")
    clock_labels: list[Label] = Field(default_factory=list, description="Their names for people.")
    reason: str | None = Field(default=None, description="The record's own reason for the deviation.")


class RecordSection(BaseModel):
    total: int = Field(description="Every record of the section; `items` lists the first 100.")
    items: list[ListedRecord]
    note: Label | None = None


class OutageItem(BaseModel):
    start: datetime
    end: datetime
    planned: bool
    incident: str | None
    hours: float = Field(description="Wall-clock length within the period.")


class AvailabilitySection(BaseModel):
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
    longest_outage_hours: float | None = Field(description="Continuity: the longest unplanned outage.")
    planned_outages: int
    outages: list[OutageItem]


class SatisfactionSection(BaseModel):
    field: str = Field(description="The record field the scores come from.")
    scale: str = "1–5 (5 = very satisfied)"
    responses: int
    distribution: dict[str, int]
    mean: float | None
    satisfied_percent: float | None = Field(description="Scores of 4 and 5 / scores given.")
    note: Label


class TrendPoint(BaseModel):
    start: datetime
    end: datetime
    label: str = Field(description="The period as people name it: 2026-11, or its first day.")
    records: int
    breached: int
    attainment_percent: float | None
    availability_percent: float | None
    mean_resolution_hours: float | None
    satisfaction_mean: float | None


class ImprovementSection(BaseModel):
    definitions: list[str] = Field(description="The improvement (CSI) processes the items come from.")
    total: int
    items: list[ListedRecord]
    note: Label | None = None


class ServiceReport(BaseModel):
    """The service report's figures for an agreement and period (docs/sla.md, "Service reports")."""

    agreement: str
    version: int
    service: str
    title: dict[str, str]
    period: PeriodOut
    availability: AvailabilitySection
    priorities: list[PriorityRow]
    attainment: list[IndicatorAttainment]
    deviations: RecordSection
    major_incidents: RecordSection
    kpis: list[KpiReport] = Field(description="Each process's key indicators over the period.")
    process_titles: dict[str, Label] = Field(default_factory=dict, description="Each process's title.")
    satisfaction: SatisfactionSection
    trends: list[TrendPoint] = Field(description="The previous periods, oldest first, then this one.")
    improvements: ImprovementSection
    notes: list[Label] = Field(default_factory=list, description="What the figures cover and how.")
