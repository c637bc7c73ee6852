"""Shared set-up for the workflow tests: a programme with a coordinator, sponsors, newcomers."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from api.extensions import db
from api.models import Member, Program, RequestEvent, SponsorRequest

SLOTS = [{"day": d, "start": "18:00", "end": "21:00"} for d in (0, 2, 4)]


@dataclass
class World:
    program: Program
    coordinator: Member
    sponsors: list[Member] = field(default_factory=list)
    newcomers: list[Member] = field(default_factory=list)


def open_request(newcomer: Member, program: Program, **prefs) -> SponsorRequest:
    """An open request made directly with the models (the intake service is tested there)."""
    request = SponsorRequest(program_id=program.id, newcomer_id=newcomer.id, **prefs)
    db.session.add(request)
    db.session.flush()
    db.session.add(RequestEvent(request_id=request.id, event="opened", actor_id=newcomer.id))
    db.session.commit()
    return request


@pytest.fixture(name="world")
def world_fixture(make_program, make_member):
    """make world(n_sponsors=3, n_newcomers=2, capacity=2) -> World."""

    def make(n_sponsors: int = 3, n_newcomers: int = 2, capacity: int = 2, **program_kw):
        program = make_program(**program_kw)
        coordinator = make_member(program, "coordinator", display_name="Cora D.")
        w = World(program=program, coordinator=coordinator)
        for i in range(n_sponsors):
            w.sponsors.append(
                make_member(
                    program,
                    "sponsor",
                    sponsor={"capacity": capacity},
                    availability=SLOTS,
                    tags=["parent"] if i == 0 else [],
                    contact_email=f"sponsor{i}@contact.test",
                    phone=f"+1-555-02{i:02d}",
                )
            )
        for i in range(n_newcomers):
            w.newcomers.append(
                make_member(
                    program,
                    "newcomer",
                    availability=SLOTS,
                    tags=["parent"],
                    contact_email=f"newcomer{i}@contact.test",
                    phone=f"+1-555-03{i:02d}",
                )
            )
        return w

    return make
