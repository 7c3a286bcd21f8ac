"""The service report's sections as the API answers them and the spreadsheet and the PDF render them
(filled by api/services/service_report.py), every text already in the reader's language."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class AttainmentOut(BaseModel):
    indicator: str = Field(description="`response` or `resolution`.")
    indicator_label: str
    priority: str
    measured: int
    within_target: int
    percent: float | None = Field(description="Within target ÷ measured × 100; none without data.")
    target_hours: float | None
    mean_service_hours: float | None
    max_service_hours: float | None


class ListedOut(BaseModel):
    number: str
    title: str
    priority: str | None
    created_at: datetime
    resolved_at: datetime | None
    reason: str | None = None


class OutageListed(BaseModel):
    start: datetime
    end: datetime
    planned: bool
    incident: str | None


class TrendOut(BaseModel):
    start: datetime
    end: datetime
    availability_percent: float | None
    interruptions: int
    records: int
    breached: int


class SatisfactionOut(BaseModel):
    answers: int
    mean: float | None = Field(
        description="1 (very dissatisfied) to 5 (very satisfied); none without answers."
    )
    distribution: dict[str, int]


class KpiRow(BaseModel):
    process: str
    key: str
    label: str
    value: float | None = Field(description="None: no data (not 0 %).")
    unit: str
    formula: str = Field(description="How it is computed, in plain words in the reader's language.")
    source: str


class ReportSections(BaseModel):
    attainment: list[AttainmentOut]
    deviations: list[ListedOut] = Field(description="Records that breached a target, with their reason.")
    deviations_total: int
    major_incidents: list[ListedOut]
    major_incidents_total: int
    outages: list[OutageListed] = Field(description="Planned and unplanned outages of the service.")
    satisfaction: SatisfactionOut
    trends: list[TrendOut] = Field(description="This period and the five before it, oldest first.")
    kpis: list[KpiRow] = Field(description="Each process's key indicators over the period.")
    improvements: list[ListedOut]
    notes: list[str] = Field(description="What a section could not show, and why.")
