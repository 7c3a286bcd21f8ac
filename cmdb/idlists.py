"""A column among a list of ids given as one parameter `:ids`: an array with `= ANY` on PostgreSQL,
an expanding IN on SQLite (which has no arrays). With thousands of ids (the CIs an impact analysis
reaches), rendering and parsing an expanding IN of as many parameters cost more than the query."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Integer, any_, bindparam
from sqlalchemy.dialects import postgresql

CHUNK = 2_000  # ids per statement on SQLite: well under its parameter limit
DIALECTS = ("sqlite", "postgresql")


def ids_in(column: ColumnElement[int], dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return column == any_(bindparam("ids", type_=postgresql.ARRAY(Integer)))
    return column.in_(bindparam("ids", expanding=True))
