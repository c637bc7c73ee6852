"""The world the authorization matrix runs in: one programme full of objects that belong to
the callers ("own"), one programme the elsewhere-coordinator runs, and one programme whose
objects belong to nobody who calls ("foreign")."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from api.auth import new_token
from api.extensions import db
from api.models import (
    ApiToken,
    AvailabilityCheck,
    Block,
    Contact,
    DailyCheckIn,
    MatchingRound,
    Member,
    Membership,
    MissedContactFlag,
    Notification,
    Program,
    Proposal,
    Resource,
    RoundPair,
    SponsorProfile,
    SponsorRequest,
    Sponsorship,
    Webhook,
    utcnow,
)
from tests.factories import _password_hash

CALLERS = (
    "owner",
    "other_newcomer",
    "other_sponsor",
    "coordinator_here",
    "coordinator_elsewhere",
    "anonymous",
)
OBJECTS = ("own", "foreign")


@dataclass
class Objects:
    """One programme's set of objects, by the path parameter that names them."""

    program: Program
    newcomer: Member
    sponsor: Member
    ids: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    own: Objects
    foreign: Objects
    people: dict[str, Member]
    bearer: dict[str, str]


_SEQ = [0]


def _member(program: Program | None, *roles: str, name: str, sponsor: bool = False) -> Member:
    _SEQ[0] += 1
    member = Member(
        email=f"matrix{_SEQ[0]}@example.test",
        password_hash=_password_hash(),
        display_name=name,
        time_zone="UTC",
        email_verified_at=utcnow(),
        fellowships=["AA"],
        languages=["en"],
        contact_modes=["phone"],
        phone=f"+1 555 7{_SEQ[0]:03d}",
    )
    db.session.add(member)
    db.session.flush()
    if program is not None:
        db.session.add(
            Membership(
                member_id=member.id,
                program_id=program.id,
                is_newcomer="newcomer" in roles,
                is_sponsor="sponsor" in roles,
                is_coordinator="coordinator" in roles,
            )
        )
    if sponsor:
        db.session.add(
            SponsorProfile(
                member_id=member.id,
                sobriety_date=date(2015, 1, 1),
                steps_completed=12,
                capacity=4,
                load=2,
                availability_confirmed_at=utcnow(),
            )
        )
    db.session.flush()
    return member


def _program(tag: str) -> Program:
    program = Program(
        name=f"Matrix {tag}",
        join_code=f"MATRIX-{tag}-{uuid.uuid4().hex[:6]}",
        fellowships=["AA"],
        tags=["parent"],
        settings={},
    )
    db.session.add(program)
    db.session.flush()
    return program


def _objects(tag: str) -> Objects:
    """A programme with a newcomer and a sponsor who are paired, plus one of every object."""
    now = utcnow()
    program = _program(tag)
    newcomer = _member(program, "newcomer", name=f"Nora {tag}.")
    sponsor = _member(program, "sponsor", name=f"Sol {tag}.", sponsor=True)
    blocked = _member(program, "newcomer", name=f"Bea {tag}.")
    request = SponsorRequest(program_id=program.id, newcomer_id=newcomer.id, status="open")
    pair = Sponsorship(
        program_id=program.id,
        sponsor_id=sponsor.id,
        sponsee_id=newcomer.id,
        kind="temporary",
        started_at=now - timedelta(days=20),
        ends_on=(now + timedelta(days=30)).date(),
        contact_due_at=now - timedelta(days=10),
    )
    db.session.add_all([request, pair])
    db.session.flush()
    proposal = Proposal(
        program_id=program.id,
        request_id=request.id,
        newcomer_id=newcomer.id,
        sponsor_id=sponsor.id,
        status="pending",
        deadline_at=now + timedelta(days=2),
    )
    contact = Contact(
        sponsorship_id=pair.id,
        logged_by_id=newcomer.id,
        kind="call",
        occurred_at=now - timedelta(days=15),
    )
    flag = MissedContactFlag(
        sponsorship_id=pair.id,
        program_id=program.id,
        level=3,
        due_at=now - timedelta(days=10),
        level2_at=now - timedelta(days=5),
        level3_at=now - timedelta(days=1),
    )
    check = AvailabilityCheck(member_id=sponsor.id, period=now.strftime("%Y-%m"))
    note = Notification(
        dedupe_key=f"matrix:{tag}:{uuid.uuid4().hex}",
        member_id=newcomer.id,
        program_id=program.id,
        kind="match.proposed",
        title="t",
        body="b",
    )
    _, digest = new_token()
    token = ApiToken(member_id=newcomer.id, token_hash=digest, expires_at=now + timedelta(days=1))
    block = Block(member_id=newcomer.id, blocked_member_id=blocked.id)
    hook = Webhook(program_id=program.id, url="https://93.184.216.34/h", secret="whsec_x")
    rnd = MatchingRound(program_id=program.id, status="draft")
    resource = Resource(
        program_id=program.id, title="Meetings", url="https://example.org/m", kind="meetings"
    )
    checkin = DailyCheckIn(
        member_id=newcomer.id, day=now.date(), mood=1, cravings="strong", meeting=False
    )
    db.session.add_all(
        [proposal, contact, flag, check, note, token, block, hook, rnd, resource, checkin]
    )
    db.session.flush()
    round_pair = RoundPair(round_id=rnd.id, request_id=request.id, sponsor_id=sponsor.id, score=0.5)
    db.session.add(round_pair)
    db.session.flush()
    ids = {
        "program_id": program.uuid,
        "request_id": request.uuid,
        "proposal_id": proposal.uuid,
        "sponsorship_id": pair.uuid,
        "pair_id": pair.uuid,
        "round_pair_id": round_pair.uuid,
        "contact_id": contact.uuid,
        "flag_id": flag.uuid,
        "check_id": check.uuid,
        "checkin_id": checkin.uuid,
        "notification_id": note.uuid,
        "token_id": token.uuid,
        "webhook_id": hook.uuid,
        "round_id": rnd.uuid,
        "resource_id": resource.uuid,
        "blocked_member_id": blocked.uuid,
        "member_id": sponsor.uuid,
        "account_id": newcomer.uuid,
        "code": program.join_code,
    }
    return Objects(program, newcomer, sponsor, {k: str(v) for k, v in ids.items()})


def build_world() -> World:
    own = _objects("A")
    foreign = _objects("C")
    elsewhere = _program("B")
    people = {
        "newcomer": own.newcomer,
        "sponsor": own.sponsor,
        "other_newcomer": _member(own.program, "newcomer", name="Olive N."),
        "other_sponsor": _member(own.program, "sponsor", name="Otto S.", sponsor=True),
        "coordinator_here": _member(own.program, "coordinator", name="Cora H."),
        "coordinator_elsewhere": _member(elsewhere, "coordinator", name="Cleo E."),
    }
    bearer = {}
    for role, member in people.items():
        token, digest = new_token()
        db.session.add(
            ApiToken(
                member_id=member.id, token_hash=digest, expires_at=utcnow() + timedelta(hours=1)
            )
        )
        bearer[role] = token
    db.session.commit()
    return World(own=own, foreign=foreign, people=people, bearer=bearer)
