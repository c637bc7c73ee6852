"""The few facts about pairs that job messages need, fetched in one query."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
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


def pairs_by_id(ids: set[int]) -> dict[int, Pair]:
    if not ids:
        return {}
    sponsor, sponsee = aliased(Member), aliased(Member)
    rows = db.session.execute(
        select(
            Sponsorship.id,
            Sponsorship.uuid,
            Sponsorship.program_id,
            Sponsorship.sponsor_id,
            Sponsorship.sponsee_id,
            sponsor.display_name,
            sponsee.display_name,
        )
        .join(sponsor, sponsor.id == Sponsorship.sponsor_id)
        .join(sponsee, sponsee.id == Sponsorship.sponsee_id)
        .where(Sponsorship.id.in_(ids))
    )
    return {r[0]: Pair(r[0], str(r[1]), *r[2:]) for r in rows}
