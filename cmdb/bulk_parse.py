"""Bulk input read into rows that know where they came from: a CSV line and column, or a JSON item's
position and field. CSV carries CIs (columns `class`, `name`, then attributes; an empty cell is not
set); JSON carries CIs and relationships:

    {"cis": [{"class": "server", "name": "web01", "attributes": {"hostname": "web01"}}],
     "relations": [{"type": "runs_on", "source": {"class": "application", "key": "shop"},
                    "target": {"class": "server", "key": "web01"}}]}
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from cmdb.views import RowIssue

MAX_ROWS = 1_000_000  # the API takes 1 MiB anyway; the CLI and the bench load whole CMDBs


@dataclass
class CiInput:
    line: int
    class_name: Any
    name: Any
    attributes: dict[str, Any]
    # field name ("class", "name", "attributes.x") -> how to name its column in an error
    columns: dict[str, str] = field(default_factory=dict)

    def column(self, path: str) -> str:
        return self.columns.get(path, path)


@dataclass
class RelationInput:
    line: int
    type: Any
    source: Any
    target: Any


@dataclass
class Parsed:
    cis: list[CiInput] = field(default_factory=list)
    relations: list[RelationInput] = field(default_factory=list)
    errors: list[RowIssue] = field(default_factory=list)


def parse_csv(content: str) -> Parsed:
    parsed = Parsed()
    reader = csv.reader(io.StringIO(content))
    try:
        header = next(reader)
    except StopIteration:
        parsed.errors.append(RowIssue(line=1, column="", message="the CSV file is empty / CSV 文件为空"))
        return parsed
    except csv.Error as exc:
        parsed.errors.append(RowIssue(line=1, column="", message=f"unreadable CSV: {exc}"))
        return parsed
    header = [h.strip() for h in header]
    for need in ("class", "name"):
        if need not in header:
            parsed.errors.append(
                RowIssue(
                    line=1, column=need, message=f"the header needs a '{need}' column / 表头缺少 '{need}' 列"
                )
            )
    if len(set(header)) != len(header):
        parsed.errors.append(RowIssue(line=1, column="", message="a column is named twice / 列名重复"))
    if parsed.errors:
        return parsed
    columns = {
        ("attributes." + h if h not in ("class", "name") else h): f"{i + 1} ({h})"
        for i, h in enumerate(header)
    }
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                parsed.errors.append(
                    RowIssue(
                        line=line,
                        column="",
                        message=f"{len(row)} cells for {len(header)} columns"
                        f" / 单元格数 {len(row)} 与列数 {len(header)} 不符",
                    )
                )
                continue
            values = dict(zip(header, row, strict=True))
            attrs = {k: v for k, v in values.items() if k not in ("class", "name") and v != ""}
            parsed.cis.append(CiInput(line, values["class"].strip(), values["name"], attrs, columns))
            if len(parsed.cis) > MAX_ROWS:
                parsed.errors.append(
                    RowIssue(line=line, column="", message=f"at most {MAX_ROWS} rows / 最多 {MAX_ROWS} 行")
                )
                return parsed
    except csv.Error as exc:
        parsed.errors.append(RowIssue(line=reader.line_num, column="", message=f"unreadable CSV: {exc}"))
    return parsed


def parse_json(content: str | bytes) -> Parsed:
    parsed = Parsed()
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        parsed.errors.append(RowIssue(line=1, column="", message=f"invalid JSON: {exc} / JSON 无效"))
        return parsed
    return from_data(data)


def from_data(data: Any) -> Parsed:
    parsed = Parsed()
    if not isinstance(data, dict) or not set(data) <= {"cis", "relations", "model_version"}:
        parsed.errors.append(
            RowIssue(
                line=1,
                column="",
                message='expected {"cis": [...], "relations": [...]} / 格式应为 {"cis": [...]}',
            )
        )
        return parsed
    cis, relations = data.get("cis", []), data.get("relations", [])
    for part, items in (("cis", cis), ("relations", relations)):
        if not isinstance(items, list) or len(items) > MAX_ROWS:
            parsed.errors.append(
                RowIssue(
                    line=1,
                    column=part,
                    message=f"a list of at most {MAX_ROWS} items / 至多 {MAX_ROWS} 项的列表",
                )
            )
            return parsed
    for i, item in enumerate(cis, start=1):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("attributes", {}), dict)
            or not set(item) <= {"class", "name", "attributes"}
        ):
            parsed.errors.append(
                RowIssue(
                    line=i,
                    column="cis",
                    message='expected {"class", "name", "attributes": {...}}'
                    ' / 格式应为 {"class", "name", "attributes": {...}}',
                )
            )
            continue
        parsed.cis.append(CiInput(i, item.get("class"), item.get("name"), dict(item.get("attributes", {}))))
    for i, item in enumerate(relations, start=1):
        if not isinstance(item, dict) or set(item) != {"type", "source", "target"}:
            parsed.errors.append(
                RowIssue(
                    line=i,
                    column="relations",
                    message='expected {"type", "source", "target"} / 格式应为 {"type", "source", "target"}',
                )
            )
            continue
        parsed.relations.append(RelationInput(i, item["type"], item["source"], item["target"]))
    return parsed
