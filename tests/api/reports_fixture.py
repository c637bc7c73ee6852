"""A hand-computed programme for the report tests: every figure in test_reports*.py is derived
from the timeline below (days are relative to NOW; "R" requests, "P" proposals, "SP" pairs).

    R1 N1 −60d  shortlist +1h  P1a→S2 declined(at_capacity)  P1b→S1 accepted  matched +2d
                SP1 (S1) starts −58d, contact −57d, ends −38d (moved_on)  → 20 days, ended
    R2 N2 −50d  shortlist +2h  P2a→S1 expired  P2b→S3 declined(not_a_good_fit)  P2c→S2 accepted
                matched +10d; SP2 (S2) starts −40d, contact −39d, active  → censored at 40
    R3 N3 −40d  shortlist +3h  P3→S1 accepted  matched +1d; SP3 (S1) starts −39d,
                contact −36d, ends −4d (lost_contact)  → 35 days, ended
    R4 N4 −30d  shortlist +4h  P4→S3 accepted  matched +5d; SP4 (S3) starts −25d, active
    R5 N5 −20d  shortlist +5h  P5a→S1 declined(unavailable_now)  P5b→S4 pending; open
    R6 N6 −3d   no shortlist yet; open (Spanish, gender rule "any")
    R7 N7 −100d (before the range) matched +1d; SP7 (S4) starts −99d, contacts −98d, −7d
    R8 N8 −10d  shortlist +1h; withdrawn (NA, English and Spanish)
    Flags: F1 SP1 L1 −50d resolved −49d (contact); F2 SP2 L3 (−20/−19/−18d) open;
           F3 SP4 L2 (−10/−9d) resolved −8d (contact); F4 SP3 L3 (−15/−14/−13d) resolved −5d
           (ended); F5 SP7 L3 (−6/−5/−4d) open, acknowledged −1d.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest

from api.extensions import db
from api.models import (
    Contact,
    Member,
    MissedContactFlag,
    Program,
    Proposal,
    SponsorRequest,
    Sponsorship,
)

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
START, END = date(2026, 4, 1), date(2026, 6, 30)
SECRETS = ("PRIVATE-REQUEST-NOTE", "SECRET-CONTACT-NOTE", "DECLINE-NOTE-TEXT", "+1-555-0100")


def ago(days: float = 0, hours: float = 0) -> datetime:
    return NOW - timedelta(days=days, hours=hours)


@dataclass
class Fixture:
    program: Program
    coordinator: Member
    other_program: Program
    other_coordinator: Member
    people: dict[str, Member] = field(default_factory=dict)
    flags: dict[str, MissedContactFlag] = field(default_factory=dict)


def _request(fx, key, newcomer, opened, shortlist_h=None, matched_d=None, status=None):
    req = SponsorRequest(
        program_id=fx.program.id,
        newcomer_id=newcomer.id,
        status=status or ("matched" if matched_d is not None else "open"),
        created_at=opened,
        first_shortlist_at=opened + timedelta(hours=shortlist_h) if shortlist_h else None,
        matched_at=opened + timedelta(days=matched_d) if matched_d is not None else None,
        note="PRIVATE-REQUEST-NOTE",
    )
    db.session.add(req)
    db.session.flush()
    return req


def _proposal(fx, req, sponsor, created, status, reason=None):
    prop = Proposal(
        program_id=fx.program.id,
        request_id=req.id,
        newcomer_id=req.newcomer_id,
        sponsor_id=sponsor.id,
        status=status,
        created_at=created,
        deadline_at=created + timedelta(hours=48),
        responded_at=None if status in ("pending", "expired") else created + timedelta(hours=5),
        decline_reason=reason,
        decline_note="DECLINE-NOTE-TEXT" if reason else None,
    )
    db.session.add(prop)
    db.session.flush()
    return prop


def _pair(fx, req, sponsor, started, ended=None, reason=None, contacts=()):
    pair = Sponsorship(
        program_id=fx.program.id,
        sponsor_id=sponsor.id,
        sponsee_id=req.newcomer_id,
        request_id=req.id,
        status="ended" if ended else "active",
        started_at=started,
        ended_at=ended,
        end_reason=reason,
        last_contact_at=max(contacts) if contacts else None,
    )
    db.session.add(pair)
    db.session.flush()
    for when in contacts:
        db.session.add(
            Contact(
                sponsorship_id=pair.id,
                logged_by_id=req.newcomer_id,
                kind="call",
                occurred_at=when,
                note_ciphertext="SECRET-CONTACT-NOTE",
            )
        )
    return pair


def _flag(fx, pair, opened, l2=None, l3=None, resolved=None, resolution=None, ack=None):
    flag = MissedContactFlag(
        sponsorship_id=pair.id,
        program_id=fx.program.id,
        level=3 if l3 else 2 if l2 else 1,
        due_at=opened - timedelta(hours=24),
        opened_at=opened,
        level2_at=l2,
        level3_at=l3,
        resolved_at=resolved,
        resolution=resolution,
        acknowledged_at=ack,
        acknowledged_by_id=fx.coordinator.id if ack else None,
        action_taken="Called both" if ack else None,
    )
    db.session.add(flag)
    return flag


@pytest.fixture(name="programme")
def programme_fixture(make_program, make_member) -> Fixture:
    program = make_program(fellowships=["AA", "NA"])
    other = make_program(fellowships=["AA"])
    fx = Fixture(
        program=program,
        coordinator=make_member(program, "coordinator", display_name="Cora D."),
        other_program=other,
        other_coordinator=make_member(other, "coordinator", display_name="Otto C."),
    )
    sponsors = [  # (capacity, load now, accepting, paused_until)
        (3, 0, True, None),
        (1, 1, True, None),
        (3, 1, False, None),
        (3, 2, True, NOW.date() + timedelta(days=5)),
        (2, 0, True, None),
    ]
    for i, (cap, load, accepting, paused) in enumerate(sponsors, start=1):
        fx.people[f"S{i}"] = make_member(
            program,
            "sponsor",
            display_name=f"Spon{chr(96 + i)} S.",
            sponsor={"capacity": cap, "load": load, "accepting": accepting, "paused_until": paused},
        )
    looks = {6: (["AA"], ["es"], "any"), 7: (["AA"], ["en"], "program_default")}
    looks[8] = (["NA"], ["en", "es"], "program_default")
    for i in range(1, 9):
        fellowships, languages, rule = looks.get(i, (["AA"], ["en"], "program_default"))
        fx.people[f"N{i}"] = make_member(
            program,
            "newcomer",
            display_name=f"New{chr(96 + i)} N.",
            fellowships=fellowships,
            languages=languages,
            gender_rule=rule,
        )
    s, n = fx.people, fx.people
    r1 = _request(fx, "R1", n["N1"], ago(60), 1, 2)
    _proposal(fx, r1, s["S2"], ago(60, -1), "declined", "at_capacity")
    _proposal(fx, r1, s["S1"], ago(59), "accepted")
    sp1 = _pair(fx, r1, s["S1"], ago(58), ago(38), "moved_on", [ago(57)])
    r2 = _request(fx, "R2", n["N2"], ago(50), 2, 10)
    _proposal(fx, r2, s["S1"], ago(49), "expired")
    _proposal(fx, r2, s["S3"], ago(45), "declined", "not_a_good_fit")
    _proposal(fx, r2, s["S2"], ago(41), "accepted")
    sp2 = _pair(fx, r2, s["S2"], ago(40), contacts=[ago(39)])
    r3 = _request(fx, "R3", n["N3"], ago(40), 3, 1)
    _proposal(fx, r3, s["S1"], ago(40, -1), "accepted")
    sp3 = _pair(fx, r3, s["S1"], ago(39), ago(4), "lost_contact", [ago(36)])
    r4 = _request(fx, "R4", n["N4"], ago(30), 4, 5)
    _proposal(fx, r4, s["S3"], ago(29), "accepted")
    sp4 = _pair(fx, r4, s["S3"], ago(25))
    r5 = _request(fx, "R5", n["N5"], ago(20), 5)
    _proposal(fx, r5, s["S1"], ago(19), "declined", "unavailable_now")
    _proposal(fx, r5, s["S4"], ago(2), "pending")
    _request(fx, "R6", n["N6"], ago(3))
    r7 = _request(fx, "R7", n["N7"], ago(100), 1, 1)
    _proposal(fx, r7, s["S4"], ago(100), "accepted")
    sp7 = _pair(fx, r7, s["S4"], ago(99), contacts=[ago(98), ago(7)])
    _request(fx, "R8", n["N8"], ago(10), 1, status="withdrawn")
    fx.flags["F1"] = _flag(fx, sp1, ago(50), resolved=ago(49), resolution="contact")
    fx.flags["F2"] = _flag(fx, sp2, ago(20), ago(19), ago(18))
    fx.flags["F3"] = _flag(fx, sp4, ago(10), ago(9), resolved=ago(8), resolution="contact")
    fx.flags["F4"] = _flag(fx, sp3, ago(15), ago(14), ago(13), ago(5), "ended")
    fx.flags["F5"] = _flag(fx, sp7, ago(6), ago(5), ago(4), ack=ago(1))
    db.session.commit()
    return fx
