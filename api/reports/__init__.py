"""Coordinator reports: one module per report, each with ``build(params)`` and ``csv_rows``."""

from __future__ import annotations

from types import ModuleType

from api.errors import NotFound
from api.reports import (
    breakdowns,
    checkins,
    flags,
    milestones,
    pool,
    proposals,
    queue,
    survival,
    timings,
)
from api.reports.common import ReportParams, make_params

REPORTS: dict[str, ModuleType] = {
    module.NAME: module
    for module in (
        queue,
        timings,
        proposals,
        survival,
        pool,
        flags,
        breakdowns,
        milestones,
        checkins,
    )
}


def run_report(name: str, params: ReportParams) -> dict:
    """Build one report. Raises NotFound for an unknown report name."""
    module = REPORTS.get(name)
    if module is None:
        raise NotFound("No such report.")
    return module.build(params)


__all__ = ["REPORTS", "ReportParams", "make_params", "run_report"]
