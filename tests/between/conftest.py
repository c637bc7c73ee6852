"""A programme with a coordinator and an active pair, for the milestone and resource tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from api.models import Member, Program, Sponsorship, utcnow
from tests.factories import PASSWORD


@dataclass
class Group:
    program: Program
    coordinator: Member
    sponsor: Member
    sponsee: Member
    pair: Sponsorship


@pytest.fixture
def group(db, make_program, make_member) -> Group:
    program = make_program(fellowships=["AA", "NA"])
    coordinator = make_member(program, "coordinator", display_name="Cora C.")
    sponsor = make_member(program, "sponsor", display_name="Sol S.", time_zone="Europe/Berlin")
    sponsee = make_member(
        program,
        "newcomer",
        display_name="Nora N.",
        time_zone="America/New_York",
        fellowships=["AA"],
        languages=["en"],
    )
    pair = Sponsorship(
        program_id=program.id,
        sponsor_id=sponsor.id,
        sponsee_id=sponsee.id,
        kind="permanent",
        started_at=utcnow() - timedelta(days=20),
    )
    db.session.add(pair)
    db.session.commit()
    return Group(program, coordinator, sponsor, sponsee, pair)


def login(client, member) -> None:
    res = client.post("/login", data={"email": member.email, "password": PASSWORD})
    assert res.status_code == 302, res.get_data(as_text=True)[:500]
