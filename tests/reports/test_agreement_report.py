"""The whole service report of an agreement and a month against hand-worked data (SQLite, and PostgreSQL
with -m db): every section, the trend over the previous months, and the XLSX and PDF renderings parsed
back (openpyxl, pypdf) in Chinese and English."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

import openpyxl
import pypdf
import pytest
from sqlalchemy import Engine

from core.db import session_scope
from reports.agreement_pdf import document
from reports.agreement_report import build
from reports.agreement_xlsx import workbook
from reports.model import parse_instant
from sla.availability import record_outage
from sla.errors import SlaError
from sla.tables import AgreementRow
from tests.unit.sla.test_report_sections import add, at, clocks, hand_worked

SHANGHAI = timezone(timedelta(hours=8))
NOVEMBER = (datetime(2026, 11, 1, tzinfo=SHANGHAI), datetime(2026, 12, 1, tzinfo=SHANGHAI))


def report_data(engine: Engine) -> AgreementRow:
    """hand_worked's records, plus: two unplanned outages (2 h on Mon 2 Nov 10-12 UTC, 3 h on Tue 3 Nov
    17-20 UTC of which 1 h in service hours 09-18 UTC) and a planned one; a September record."""
    row = hand_worked(engine)
    with session_scope(engine) as s:
        for start, hours, planned in ((at(11, 2), 2, False), (at(11, 3, 17), 3, False), (at(11, 7), 1, True)):
            record_outage(
                s,
                service=row.service,
                start=start,
                end=start + timedelta(hours=hours),
                planned=planned,
                actor="x",
                now=start,
            )
        add(s, row.key, at(9, 10), resolved=at(9, 10, 14), snapshot=clocks("met", "met"), satisfaction="3")
    return row


def test_the_monthly_report_matches_hand_worked_data(db_engine: Engine) -> None:
    row = report_data(db_engine)
    with session_scope(db_engine) as s:
        report = build(s, row, *NOVEMBER)
    # The month in Shanghai is 31 Oct 16:00 UTC – 30 Nov 16:00 UTC: 20 working days × 9 h (mon–fri 9–18
    # UTC in the test agreement's calendar) + Mon 30 Nov 9–16 h = 187 h; 2 h + 1 h unavailable.
    a = report.availability
    assert (a.committed_hours, a.unavailable_hours, a.interruptions, a.planned_outages) == (187, 3, 2, 1)
    assert a.availability_percent == 98.3957 and a.longest_outage_hours == 3.0
    assert a.mtbf_hours == 92.0 and [o.hours for o in a.outages] == [2.0, 3.0, 1.0]
    per = {i.indicator: (i.met, i.breached, i.running, i.percent) for i in report.attainment}
    assert per == {"resolution": (1, 2, 1, 33.33), "response": (3, 1, 0, 75.0)}
    assert report.deviations.total == 2 and report.deviations.items[0].reason == "vendor late"
    assert report.deviations.note is not None  # which field the reasons come from, or that none exists
    assert report.major_incidents.total == 1
    assert report.satisfaction.mean == 3.67 and report.satisfaction.responses == 3
    assert [(t.label, t.records, t.breached, t.attainment_percent) for t in report.trends] == [
        ("2026-05", 0, 0, None),
        ("2026-06", 0, 0, None),
        ("2026-07", 0, 0, None),
        ("2026-08", 0, 0, None),
        ("2026-09", 1, 0, 100.0),
        ("2026-10", 1, 1, 0.0),
        ("2026-11", 4, 2, 57.14),  # 4 met of 7 judged clocks
    ]
    assert report.trends[4].satisfaction_mean == 3.0 and report.trends[4].mean_resolution_hours == 4.0
    assert report.trends[-1].availability_percent == a.availability_percent
    assert [(p.priority, p.records, p.breached) for p in report.priorities] == [("1", 1, 1), ("2", 3, 1)]
    incident = next(k for k in report.kpis if k.definition == "incident")
    assert (next(i for i in incident.indicators if i.key == "major_incidents").value or 0) >= 1
    assert report.improvements.total == 0 and report.improvements.note is not None


def test_a_report_period_ending_before_it_starts_is_refused(db_engine: Engine) -> None:
    row = hand_worked(db_engine)
    with pytest.raises(SlaError) as exc, session_scope(db_engine) as s:
        build(s, row, NOVEMBER[1], NOVEMBER[0])
    assert exc.value.path == "end"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_xlsx_and_pdf_read_back(db_engine: Engine, lang: str) -> None:
    row = report_data(db_engine)
    with session_scope(db_engine) as s:
        report = build(s, row, *NOVEMBER)
    book = openpyxl.load_workbook(io.BytesIO(workbook(report, lang)))
    zh = lang == "zh"
    assert book.sheetnames == (
        ["概要", "可用性", "达成率", "偏差", "重大事件", "关键指标", "满意度", "趋势", "改进项"]
        if zh
        else [
            "Summary",
            "Availability",
            "Attainment",
            "Deviations",
            "Major incidents",
            "KPIs",
            "Satisfaction",
            "Trends",
            "Improvements",
        ]
    )
    sheets = book.worksheets
    availability = {r[0]: r[1] for r in sheets[1].iter_rows(min_row=2, values_only=True)}
    assert (
        availability["可用率（%）" if zh else "Availability (%)"] == report.availability.availability_percent
    )
    attainment = list(sheets[2].iter_rows(min_row=2, values_only=True))
    assert (3, 1, 0, 75.0) in [r[1:] for r in attainment]
    deviations = list(sheets[3].iter_rows(min_row=2, values_only=True))
    assert deviations[0][-1] == "vendor late"
    trends = list(sheets[7].iter_rows(min_row=2, values_only=True))
    assert trends[-1][:4] == ("2026-11", 4, 2, 57.14)
    pdf = pypdf.PdfReader(io.BytesIO(document(report, lang)))
    text = "".join("".join(p.extract_text().replace("\x00", "").split()) for p in pdf.pages)
    for expected in (
        (
            "服务报告",
            "服务级别达成率",
            "偏差及原因",
            "vendorlate",
            "重大事件",
            "客户满意度",
            "趋势",
            "改进项",
            "98.3957",
        )
        if zh
        else ("Servicereport", "Deviations", "vendorlate", "Majorincidents", "Customersatisfaction", "Trends")
    ):
        assert expected in text, (expected, text[:2000])


def test_period_bounds_in_a_time_zone_are_kept() -> None:
    assert parse_instant("2026-11-01T00:00:00+08:00").astimezone(UTC) == datetime(
        2026, 10, 31, 16, tzinfo=UTC
    )


def test_every_app_b_indicator_is_computed_or_says_what_is_missing(db_engine: Engine) -> None:
    from reports.coverage import CATALOGUE
    from reports.kpis import compute_kpis
    from reports.model import Period

    keys: dict[str, set[str]] = {}
    with session_scope(db_engine) as s:
        for kind in {c.kind for c in CATALOGUE if c.kind}:
            report = compute_kpis(s, definition=kind, kind=kind, period=Period(start=NOVEMBER[0]))
            keys[kind] = {k.key for k in report.indicators}
    for c in CATALOGUE:
        if c.kind is None:
            assert c.missing is not None and c.missing.zh and c.missing.en, c
        else:
            assert c.key in keys[c.kind], c
    assert len({c.clause for c in CATALOGUE}) == 12  # B.1 … B.12


def test_security_and_response_indicators_from_hand_worked_records(db_engine: Engine) -> None:
    from reports.kpis import compute_kpis
    from reports.model import Period

    row = hand_worked(db_engine)
    key = f"incident_{row.key[4:]}"  # records of their own (the test database is shared)
    with session_scope(db_engine) as s:
        add(s, row.key, at(3, 2), definition=key, category="security", major_incident=True)
        begun = "2026-03-02T10:30:00+00:00"
        add(s, row.key, at(3, 2, 11), definition=key, category="security", interruption_start=begun)
    march = Period(start=at(3, 1, 0), end=at(4, 1, 0))
    with session_scope(db_engine) as s:
        kpis = {k.key: k for k in compute_kpis(s, definition=key, kind="incident", period=march).indicators}
    assert kpis["security_incidents"].value == 2 and kpis["major_security_incidents"].value == 1
    assert kpis["mean_detection_time"].value == 30.0  # 10:30 → 11:00
