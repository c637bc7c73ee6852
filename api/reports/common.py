"""What every report shares: the parameters, the fellowship filter, percentiles, small cells."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from sqlalchemy import String, cast
from sqlalchemy.sql.elements import ColumnElement

from api.errors import Invalid
from api.i18n import N_, worded
from api.models import Program, utcnow
from api.program_settings import small_cell_min

DEFAULT_DAYS = 90
MAX_DAYS = 366 * 5
DAY_S = 86400.0
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


class InvalidQuery(Invalid):
    """A bad report filter; named under ``errors.query`` like the schema's own errors."""

    def __init__(self, field: str, message: str):
        super().__init__(field, message)
        self.errors = {"query": {field: [message]}}


@dataclass(frozen=True)
class ReportParams:
    """One coordinator's question: which programme, which dates (inclusive), which fellowship."""

    program: Program
    start: date
    end: date
    fellowship: str | None
    now: datetime

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def end_at(self) -> datetime:
        """Exclusive upper bound: midnight after ``end``."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    @property
    def small_cell_min(self) -> int:
        return small_cell_min(self.program.setting("small_cell_min"))

    def describe(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "fellowship": self.fellowship,
            "generated_at": self.now.isoformat(),
        }


def make_params(
    program: Program,
    start: date | None = None,
    end: date | None = None,
    fellowship: str | None = None,
    now: datetime | None = None,
) -> ReportParams:
    """Fill defaults (the last 90 days) and check the range and fellowship.

    Raises InvalidQuery naming ``start``, ``end`` or ``fellowship``.
    """
    now = now or utcnow()
    end = end or now.date()
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    for field, day in (("end", end), ("start", start)):
        if not EARLIEST <= day <= LATEST:
            raise InvalidQuery(
                field,
                worded(
                    N_("Use a date between %(first)s and %(last)s."),
                    first=EARLIEST.isoformat(),
                    last=LATEST.isoformat(),
                ),
            )
    if start > end:
        raise InvalidQuery("start", N_("The start date must be on or before the end date."))
    if (end - start).days > MAX_DAYS:
        raise InvalidQuery(
            "end", worded(N_("The date range may cover at most %(num)d days."), num=MAX_DAYS)
        )
    if fellowship is not None and fellowship not in (program.fellowships or []):
        known = ", ".join(program.fellowships or []) or "-"
        raise InvalidQuery(
            "fellowship",
            worded(N_("Choose a fellowship this programme has: %(known)s."), known=known),
        )
    return ReportParams(program=program, start=start, end=end, fellowship=fellowship, now=now)


def in_list(json_column, value: str) -> ColumnElement[bool]:
    """True where a JSON list column holds ``value`` (portable: SQLite and PostgreSQL)."""
    # Match the element as the JSON serializer wrote it (quoted, non-ASCII escaped), with
    # LIKE's own wildcards escaped.
    needle = json.dumps(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return cast(json_column, String).like(f"%{needle}%", escape="\\")


def seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return (later - earlier).total_seconds()


def summary(values: Iterable[float | None], unit_s: float) -> dict:
    """Count, median and 90th percentile (linear interpolation) in the given unit."""
    arr = np.asarray([v for v in values if v is not None], dtype=float) / unit_s
    if arr.size == 0:
        return {"n": 0, "median": None, "p90": None}
    median, p90 = np.percentile(arr, [50, 90])
    return {"n": int(arr.size), "median": round(float(median), 2), "p90": round(float(p90), 2)}


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def gini(counts: Iterable[int]) -> float | None:
    """Gini coefficient of non-negative counts: 0 = perfectly even, →1 = one gets everything."""
    x = np.sort(np.asarray(list(counts), dtype=float))
    n, total = x.size, x.sum()
    if n == 0 or total == 0:
        return None
    ranks = np.arange(1, n + 1)
    return round(float((2 * (ranks * x).sum()) / (n * total) - (n + 1) / n), 4)


def short_id(public_id) -> str:
    return str(public_id)[:8]


MATCH_WINDOW = timedelta(days=7)


def matched_quickly(opened: datetime, matched_at: datetime | None) -> bool:
    return matched_at is not None and matched_at - opened <= MATCH_WINDOW


def window_decided(opened: datetime, matched_at: datetime | None, now: datetime) -> bool:
    """Whether a request's first 7 days are settled: matched within them, or they are over."""
    return matched_quickly(opened, matched_at) or now - opened >= MATCH_WINDOW
