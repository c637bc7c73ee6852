"""The few facts about pairs that job messages need, fetched with the job's own query."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from api.extensions import db
from api.models import Member, Sponsorship


@dataclass(frozen=True)
class Pair:
    id: int
    uuid: str
    program_id: int
    sponsor_id: int
    sponsee_id: int
    sponsor_name: str
    sponsee_name: str
    contact_due_at: datetime | None
    sponsor_zone: str
    sponsee_zone: str

    def sides(self) -> tuple[tuple[str, int, str, str], ...]:
        """(side, member id, member's zone, the other side's name) for sponsee and sponsor."""
        return (
            ("sponsee", self.sponsee_id, self.sponsee_zone, self.sponsor_name),
            ("sponsor", self.sponsor_id, self.sponsor_zone, self.sponsee_name),
        )


@cache
def pair_query() -> tuple[Select, type[Member], type[Member]]:
    """A select of every Pair field (filter it further), and the sponsor and sponsee aliases.

    Built once: aliasing copies every Member column, which costs more than a small run."""
    sponsor, sponsee = aliased(Member), aliased(Member)
    query = (
        select(
            Sponsorship.id,
            Sponsorship.uuid,
            Sponsorship.program_id,
            Sponsorship.sponsor_id,
            Sponsorship.sponsee_id,
            sponsor.display_name.label("sponsor_name"),
            sponsee.display_name.label("sponsee_name"),
            Sponsorship.contact_due_at,
            sponsor.time_zone.label("sponsor_zone"),
            sponsee.time_zone.label("sponsee_zone"),
        )
        .join(sponsor, sponsor.id == Sponsorship.sponsor_id)
        .join(sponsee, sponsee.id == Sponsorship.sponsee_id)
    )
    return query, sponsor, sponsee


PAIR_COLUMNS = len(fields(Pair))


def pair_of(row) -> Pair:
    """The Pair in the first columns of a row selected from ``pair_query`` (more may follow)."""
    return Pair(row[0], str(row[1]), *row[2:PAIR_COLUMNS])


def pairs_from(query: Select) -> dict[int, Pair]:
    return {r[0]: pair_of(r) for r in db.session.execute(query)}


def pairs_by_id(ids: set[int]) -> dict[int, Pair]:
    if not ids:
        return {}
    query, _, _ = pair_query()
    return pairs_from(query.where(Sponsorship.id.in_(ids)))
