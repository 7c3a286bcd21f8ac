"""A list of the web page as a download: CSV (UTF-8 with a byte-order mark, so that Excel shows Chinese)
or XLSX (openpyxl), headed in the reader's language. Times are written in the organisation's time zone
without the zone, which is what a spreadsheet cell holds."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.styles import Font

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")


def cell(value: Any, zone: ZoneInfo) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(zone).replace(tzinfo=None)
    return value


def _disposition(filename: str) -> str:
    plain = filename.encode("ascii", "replace").decode()
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename)}"


def csv_response(filename: str, heads: Sequence[str], rows: Sequence[Sequence[Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(heads)
    for row in rows:
        writer.writerow(
            ["" if v is None else (v.isoformat(sep=" ") if isinstance(v, datetime) else v) for v in row]
        )
    data = "\ufeff" + out.getvalue()
    return Response(
        data.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": _disposition(f"{filename}.csv")},
    )


def xlsx_response(
    filename: str, sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Any]]]]
) -> Response:
    book = Workbook()
    first = book.active
    assert first is not None  # a new workbook has its first sheet
    book.remove(first)
    for title, heads, rows in sheets:
        sheet = book.create_sheet(title[:31])  # Excel's limit for a sheet's name
        sheet.append(list(heads))
        for c in sheet[1]:
            c.font = Font(bold=True)
        for row in rows:
            sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return Response(
        out.getvalue(), media_type=XLSX, headers={"Content-Disposition": _disposition(f"{filename}.xlsx")}
    )
