"""Breakdowns by fellowship, language and gender rule, with small cells suppressed."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from api.extensions import db
from api.models import Member, SponsorRequest
from api.reports.common import (
    DAY_S,
    ReportParams,
    in_list,
    matched_quickly,
    share,
    summary,
    window_decided,
)

NAME = "breakdowns"
TITLE = "Who waits longest: by fellowship, language and gender rule"
DIMENSIONS = ("fellowship", "language", "gender_rule")


def _wait_s(row, now) -> float | None:
    """Matched: time to match; still open: time so far; withdrawn or closed unmatched: none."""
    if row.matched_at is not None:
        return (row.matched_at - row.created_at).total_seconds()
    if row.status == "open":
        return (now - row.created_at).total_seconds()
    return None


def build(p: ReportParams) -> dict:
    """Requests opened in the range, grouped by the newcomer's attributes. A newcomer with two
    fellowships or languages counts in each. Cells with fewer than ``small_cell_min`` distinct
    people show no figures (null) and ``"suppressed": true``."""
    query = (
        select(
            SponsorRequest.newcomer_id,
            SponsorRequest.status,
            SponsorRequest.created_at,
            SponsorRequest.matched_at,
            Member.fellowships,
            Member.languages,
            Member.gender_rule,
        )
        .join(Member, Member.id == SponsorRequest.newcomer_id)
        .where(
            SponsorRequest.program_id == p.program.id,
            SponsorRequest.created_at >= p.start_at,
            SponsorRequest.created_at < p.end_at,
        )
    )
    if p.fellowship:
        query = query.where(in_list(Member.fellowships, p.fellowship))
    cells: dict[tuple[str, str], list] = defaultdict(list)
    for row in db.session.execute(query).all():
        keys = {
            "fellowship": sorted(set(row.fellowships or [])) or ["unknown"],
            "language": sorted(set(row.languages or [])) or ["unknown"],
            "gender_rule": [row.gender_rule or "unknown"],
        }
        if p.fellowship:
            keys["fellowship"] = [p.fellowship]
        for dimension, values in keys.items():
            for value in values:
                cells[(dimension, str(value))].append(row)
    minimum = p.small_cell_min
    out = []
    for (dimension, value), rows in sorted(cells.items()):
        people = len({row.newcomer_id for row in rows})
        cell = {"dimension": dimension, "value": value}
        if people < minimum:
            cell.update(requests=None, median_wait_days=None, share_matched_7d=None)
            cell["suppressed"] = True
        else:
            fast = sum(matched_quickly(r.created_at, r.matched_at) for r in rows)
            decided = sum(window_decided(r.created_at, r.matched_at, p.now) for r in rows)
            waits = summary((_wait_s(r, p.now) for r in rows), DAY_S)
            cell.update(
                requests=len(rows),
                median_wait_days=waits["median"],
                share_matched_7d=share(fast, decided),
            )
            cell["suppressed"] = False
        out.append(cell)
    return {
        "report": NAME,
        "title": TITLE,
        "params": p.describe(),
        "small_cell_min": minimum,
        "cells": out,
    }


def csv_rows(result: dict) -> tuple[list[str], list[list]]:
    header = [
        "dimension",
        "value",
        "requests",
        "median_wait_days",
        "share_matched_7d",
        "suppressed",
    ]
    return header, [[cell[k] for k in header] for cell in result["cells"]]
