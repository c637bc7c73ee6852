"""The warm index: local availability to UTC hours, model conversion, and the version contract."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import update

from api.matching_index import WarmIndex, pool_changed
from api.matching_inputs import availability_utc, seeker_request, sponsor_candidates
from api.models import Member, Proposal, SponsorProfile, Sponsorship, utcnow
from matcher import SponsorIndex
from tests.api.workflow_fixture import open_request, world_fixture  # noqa: F401

WINTER, SUMMER = date(2026, 1, 14), date(2026, 7, 15)


def _member(zone, slots):
    return Member(time_zone=zone, availability=slots)


def test_local_evening_slots_become_utc_hours_and_follow_dst():
    monday_evening = [{"day": 0, "start": "18:00", "end": "21:00"}]
    new_york = _member("America/New_York", monday_evening)
    assert availability_utc(new_york, WINTER) == (23, 24, 25)  # UTC-5: Mon 23h .. Tue 01h
    assert availability_utc(new_york, SUMMER) == (22, 23, 24)  # UTC-4
    berlin = _member("Europe/Berlin", [{"day": 0, "start": "00:30", "end": "01:00"}])
    assert availability_utc(berlin, WINTER) == (167,)  # Sunday 23:00 UTC wraps round the week
    late = _member("UTC", [{"day": 6, "start": "23:00", "end": "01:00"}])
    assert availability_utc(late, WINTER) == (0, 167)  # runs past midnight into Monday
    assert availability_utc(_member("UTC", [{"day": 9}]), WINTER) == ()


def test_sponsor_candidates_carry_state_and_history(db, world):
    w = world(n_sponsors=2)
    sponsor, other = w.sponsors
    now = utcnow()
    profile = sponsor.sponsor_profile
    profile.paused_until = now.date() + timedelta(days=3)
    profile.availability_confirmed_at = now - timedelta(days=10)
    request = open_request(w.newcomers[0], w.program)
    for status, hours in (("accepted", 2), ("declined", 6), ("expired", None)):
        db.session.add(
            Proposal(
                program_id=w.program.id,
                request_id=request.id,
                newcomer_id=w.newcomers[0].id,
                sponsor_id=sponsor.id,
                status=status,
                created_at=now - timedelta(days=1),
                deadline_at=now + timedelta(days=1),
                responded_at=now - timedelta(days=1) + timedelta(hours=hours) if hours else None,
            )
        )
    db.session.commit()
    c = sponsor_candidates(w.program, now)[str(sponsor.uuid)]
    assert c.paused and c.availability_confirmed_days_ago == 10
    assert c.sobriety_days >= 3 * 365 and c.capacity == 2
    assert c.recent_proposals == 3 and c.answer_rate == 2 / 3 and c.median_answer_hours == 4
    plain = sponsor_candidates(w.program, now)[str(other.uuid)]
    assert (plain.paused, plain.recent_proposals, plain.answer_rate) == (False, 0, None)


def test_the_seeker_excludes_ended_and_declining_sponsors(db, world):
    w = world(n_sponsors=3)
    newcomer = w.newcomers[0]
    old = open_request(newcomer, w.program)
    old.status = "matched"
    db.session.add(
        Sponsorship(
            program_id=w.program.id,
            sponsor_id=w.sponsors[0].id,
            sponsee_id=newcomer.id,
            status="ended",
        )
    )
    db.session.add(
        Proposal(
            program_id=w.program.id,
            request_id=old.id,
            newcomer_id=newcomer.id,
            sponsor_id=w.sponsors[1].id,
            status="declined",
            deadline_at=utcnow(),
        )
    )
    db.session.commit()
    seeker = seeker_request(open_request(newcomer, w.program))
    assert seeker.excluded_sponsor_ids == {str(w.sponsors[0].uuid), str(w.sponsors[1].uuid)}


def test_changes_reach_the_warm_index_by_upsert_not_refit(db, world, monkeypatch):
    w = world(n_sponsors=3)
    seeker = seeker_request(open_request(w.newcomers[0], w.program))
    fits = []
    real_fit = SponsorIndex.fit
    monkeypatch.setattr(
        SponsorIndex, "fit", lambda self, s, **kw: fits.append(1) or real_fit(self, s, **kw)
    )
    with WarmIndex(w.program) as index:
        assert len(index.shortlist(seeker, 5)) == 3
    target = w.sponsors[0]
    # A service that follows the contract: change + pool_changed in one transaction.
    db.session.execute(
        update(SponsorProfile).where(SponsorProfile.member_id == target.id).values(accepting=False)
    )
    pool_changed([target.id])
    db.session.commit()
    with WarmIndex(w.program) as index:
        assert str(target.uuid) not in {e.member_id for e in index.shortlist(seeker, 5)}
    # A writer that forgets pool_changed is still caught by the pool totals.
    db.session.execute(
        update(SponsorProfile).where(SponsorProfile.member_id == target.id).values(accepting=True)
    )
    db.session.commit()
    with WarmIndex(w.program) as index:
        assert str(target.uuid) in {e.member_id for e in index.shortlist(seeker, 5)}
    assert len(fits) == 1  # fitted once; every later change was an upsert
