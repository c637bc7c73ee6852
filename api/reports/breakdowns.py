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
    people show no figures (null) and ``"suppressed": true``, and so does the smallest other
    cell where one hidden cell could be worked out by subtraction (see ``_complementary``)."""
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
    rows_seen = db.session.execute(query).all()
    for row in rows_seen:
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
    people = {key: len({row.newcomer_id for row in rows}) for key, rows in cells.items()}
    hidden = {key for key, n in people.items() if n < minimum}
    hidden |= _complementary(people, hidden, everyone=len({r.newcomer_id for r in rows_seen}))
    out = []
    for key, rows in sorted(cells.items()):
        dimension, value = key
        cell = {"dimension": dimension, "value": value}
        if key in hidden:
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


def _complementary(people: dict, hidden: set, everyone: int) -> set:
    """Cells to hide as well, so that a hidden cell cannot be worked out by subtraction.

    Where a dimension counts every person exactly once (its cells add up to everyone, as the
    gender rule always does), one hidden cell next to shown ones equals the total (shown in
    other reports) minus the shown cells. Hiding the smallest shown cell too prevents that.
    Dimensions where people count in several cells (two fellowships) cannot be subtracted
    exactly and are left as they are.
    """
    extra = set()
    for dimension in DIMENSIONS:
        keys = [key for key in people if key[0] == dimension]
        if sum(people[key] for key in keys) != everyone:
            continue
        shown = sorted((people[key], key) for key in keys if key not in hidden)
        if shown and sum(key in hidden for key in keys) == 1:
            extra.add(shown[0][1])
    return extra


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
