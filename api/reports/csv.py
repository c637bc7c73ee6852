"""Render a report as CSV, defused against spreadsheet formula injection."""

from __future__ import annotations

import csv as _csv
import io

from api.reports import REPORTS

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value  # a display name like "=Sam K." must not run as a formula
    return value


def to_csv(result: dict) -> str:
    """The report's main table as CSV text (header row first)."""
    header, rows = REPORTS[result["report"]].csv_rows(result)
    buffer = io.StringIO()
    writer = _csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return buffer.getvalue()
