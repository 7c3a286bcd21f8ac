"""Which records an agreement covered: a condition on `records` for the reports' queries.

An EXISTS per record, found through the records' creation-time index (migration 0014_report_indexes),
rather than a join with the agreement's notes: with the join, SQLite's planner walked every record the
agreement ever covered (a year's) to keep a month's — three to ten times slower at 100,000 records a
year (bench/README.md). PostgreSQL plans the EXISTS as the same semi-join."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlmodel import col

from core.tables import RecordRow
from sla.tables import RecordAgreementRow


def noted_under(key: str) -> ColumnElement[bool]:
    return (
        select(col(RecordAgreementRow.record_id))
        .where(
            col(RecordAgreementRow.record_id) == col(RecordRow.id),
            col(RecordAgreementRow.agreement_key) == key,
        )
        .correlate(RecordRow)  # only the outer record: a query that joins the notes too keeps its own
        .exists()
    )


def covered(key: str, start: datetime, end: datetime) -> tuple[ColumnElement[bool], ...]:
    """The records the agreement (any version) covered, created in [start, end)."""
    return (col(RecordRow.created_at) >= start, col(RecordRow.created_at) < end, noted_under(key))
