"""Own profile and sponsor profile: validation table, location, capacity vs load, eligibility."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import update

from api.models import AuditLog, Member, SponsorProfile
from tests.factories import MembershipFactory

PROFILE = "/api/v1/me/profile"
SPONSOR = "/api/v1/me/sponsor-profile"


@pytest.fixture
def newcomer(make_program, make_member):
    program = make_program(fellowships=["AA", "NA"], tags=["veteran", "parent"])
    return make_member(program, "newcomer")


def test_read_and_update_own_profile(client, newcomer, auth, db):
    body = {
        "display_name": "Rae T.",
        "gender": "nonbinary",
        "gender_rule": "any",
        "fellowships": ["NA", "AA", "NA"],
        "languages": ["es", "en"],
        "time_zone": "America/Los_Angeles",
        "location": {"city": "Portland", "country": "US"},
        "contact_modes": ["video", "in_person"],
        "availability": [{"day": 0, "start": "18:00", "end": "20:30"}],
        "tags": ["parent"],
        "age_band": "25-34",
        "about": "Early riser.",
        "phone": "+1 503 555 0100",
        "contact_email": "rae@example.test",
    }
    res = client.patch(PROFILE, json=body, headers=auth(newcomer))
    assert res.status_code == 200, res.json
    assert res.json["fellowships"] == ["NA", "AA"]
    assert res.json["location"]["label"] == "Portland, US"
    member = db.session.get(Member, newcomer.id)
    assert member.lat == round(member.lat, 2) and member.city_id is not None
    got = client.get(PROFILE, headers=auth(newcomer)).json
    assert got["phone"] == "+1 503 555 0100" and got["email"] == newcomer.email

    res = client.patch(PROFILE, json={"location": None}, headers=auth(newcomer))
    assert res.json["location"] is None
    assert db.session.get(Member, newcomer.id).lat is None


BAD_PROFILE = [
    ("display_name", "Rae Thompson"),
    ("gender", "male"),
    ("gender_rule", "same-ish"),
    ("fellowships", ["XA"]),
    ("languages", ["english"]),
    ("languages", ["xx"]),
    ("time_zone", "Mars/Olympus"),
    ("time_zone", "US"),  # a folder of the zone data, once a 500
    ("time_zone", "x" * 300),  # too long for a file name, once a 500
    ("location", {"city": "Atlantis", "country": "US"}),
    ("location", {"city": "Portland", "country": "US", "street": "1 Main St"}),
    ("location", "Portland"),
    ("contact_modes", ["carrier pigeon"]),
    ("availability", [{"day": 7, "start": "10:00", "end": "11:00"}]),
    ("availability", [{"day": 1, "start": "11:00", "end": "10:00"}]),
    ("availability", [{"day": 1, "start": "9am", "end": "10:00"}]),
    ("availability", [{"day": 1, "start": "09:00", "end": "10:00"}] * 22),
    ("tags", ["astronaut"]),
    ("age_band", "30"),
    ("about", "x" * 501),
    ("phone", "555-0100"),
    ("phone", "+1 call me maybe"),
    ("contact_email", "not-an-email"),
    ("email", "new@example.test"),
    ("id", "abc"),
    ("is_admin", True),
]


@pytest.mark.parametrize(("field", "value"), BAD_PROFILE)
def test_bad_profile_input_names_the_field(client, newcomer, auth, db, field, value):
    before = client.get(PROFILE, headers=auth(newcomer)).json
    res = client.patch(PROFILE, json={field: value}, headers=auth(newcomer))
    assert res.status_code == 422, res.json
    assert field in res.json["errors"]["json"]
    assert client.get(PROFILE, headers=auth(newcomer)).json == before


def _sponsor_body(**overrides):
    body = {
        "sobriety_date": (date.today() - timedelta(days=800)).isoformat(),
        "steps_completed": 12,
        "capacity": 3,
    }
    return {**body, **overrides}


def test_sponsor_profile_lifecycle_and_eligibility(client, make_program, make_member, auth):
    strict = make_program(settings={"min_sobriety_days": 1000})
    easy = make_program()
    member = make_member(strict, "sponsor")
    MembershipFactory(member=member, program=easy, is_sponsor=True)
    res = client.put(SPONSOR, json=_sponsor_body(), headers=auth(member))
    assert res.status_code == 200, res.json
    assert res.json["load"] == 0
    assert res.json["eligible"] == {str(strict.uuid): False, str(easy.uuid): True}
    reasons = {e["program_name"]: e["reasons"] for e in res.json["eligibility"]}
    assert reasons[strict.name] == ["sobriety_below_minimum"]

    res = client.patch(
        SPONSOR, json={"paused_until": date.today().isoformat()}, headers=auth(member)
    )
    assert res.json["eligible"][str(easy.uuid)] is False
    reasons = {e["program_name"]: e["reasons"] for e in res.json["eligibility"]}
    assert reasons[strict.name] == ["sobriety_below_minimum", "paused"]  # in this order
    assert reasons[easy.name] == ["paused"]
    res = client.post(f"{SPONSOR}/confirm-availability", headers=auth(member))
    assert res.json["availability_confirmed_at"] is not None


def test_only_sponsors_have_a_sponsor_profile(client, newcomer, auth):
    res = client.put(SPONSOR, json=_sponsor_body(), headers=auth(newcomer))
    assert res.status_code == 404
    assert "sponsor role" in res.json["message"]


def _days_from_today(days, name):
    """A date relative to the day the test runs, not the day it was collected (named
    ``name`` in the test's id).

    A suite that starts before midnight and reaches this test after it would
    otherwise send "tomorrow" as today's date.
    """

    def when():
        return (date.today() + timedelta(days=days)).isoformat()

    when.__name__ = name
    return when


BAD_SPONSOR = [
    ("sobriety_date", _days_from_today(1, "tomorrow")),
    ("sobriety_date", "last spring"),
    ("sobriety_date", "1919-12-31"),
    ("sobriety_date", "0001-01-01"),
    ("steps_completed", 13),
    ("steps_completed", -1),
    ("capacity", 0),
    ("capacity", 11),
    ("paused_until", _days_from_today(-1, "yesterday")),
    ("paused_until", _days_from_today(367, "past_a_year")),  # a typo must not pause for good
    ("paused_until", "9999-12-31"),
    ("pause_reason", "x" * 301),
    ("accepting", "perhaps"),
    ("load", 0),
    ("availability_confirmed_at", "2026-01-01T00:00:00Z"),
    ("eligible", True),
]


@pytest.mark.parametrize(("field", "value"), BAD_SPONSOR)
def test_bad_sponsor_input_names_the_field(client, make_program, make_member, auth, field, value):
    sponsor = make_member(make_program(), "sponsor")
    value = value() if callable(value) else value
    before = client.get(SPONSOR, headers=auth(sponsor)).json
    for method in (client.put, client.patch):
        res = method(SPONSOR, json=_sponsor_body(**{field: value}), headers=auth(sponsor))
        assert res.status_code == 422, res.json
        assert field in res.json["errors"]["json"]
    assert client.get(SPONSOR, headers=auth(sponsor)).json == before


def test_capacity_below_load_is_a_clear_422(client, make_program, make_member, auth, db):
    sponsor = make_member(make_program(), "sponsor", sponsor={"capacity": 3})
    db.session.execute(
        update(SponsorProfile).where(SponsorProfile.member_id == sponsor.id).values(load=2)
    )
    db.session.commit()
    res = client.patch(SPONSOR, json={"capacity": 1}, headers=auth(sponsor))
    assert res.status_code == 422
    assert "2 sponsees" in res.json["errors"]["json"]["capacity"][0]
    assert client.get(SPONSOR, headers=auth(sponsor)).json["capacity"] == 3
    assert client.patch(SPONSOR, json={"capacity": 2}, headers=auth(sponsor)).status_code == 200


def test_relapse_pauses_from_new_proposals(client, make_program, make_member, auth, db):
    program = make_program()
    sponsor = make_member(program, "sponsor")
    res = client.post(f"{SPONSOR}/relapse", headers=auth(sponsor))
    assert res.status_code == 200
    assert res.json["accepting"] is False
    assert res.json["eligible"] == {str(program.uuid): False}
    log = db.session.query(AuditLog).one()
    assert "relapse" not in log.action


def test_no_sponsor_profile_yet_is_404_and_patch_needs_put_first(
    client, make_program, make_member, auth, db
):
    member = make_member(make_program(), "sponsor")
    db.session.delete(member.sponsor_profile)  # the factory makes one for sponsors
    db.session.commit()
    assert client.get(SPONSOR, headers=auth(member)).status_code == 404
    assert client.patch(SPONSOR, json={"capacity": 2}, headers=auth(member)).status_code == 404
    assert client.put(SPONSOR, json=_sponsor_body(), headers=auth(member)).status_code == 200


def test_demo_seed_passes_the_profile_validators(db):
    from sqlalchemy import select

    from api.schemas.profiles import ProfileSchema, SponsorProfilePatchSchema
    from api.seed import seed_demo
    from api.services.profiles import list_errors

    program = seed_demo().program
    keys = [k for k in ProfileSchema().fields if k not in ("id", "email", "location")]
    for member in db.session.scalars(select(Member)):
        data = {k: getattr(member, k) for k in keys if getattr(member, k) is not None}
        ProfileSchema().load(data)  # raises on any value the API would refuse
        assert not list_errors(data, set(program.fellowships), set(program.tags))
        if member.sponsor_profile:
            profile = member.sponsor_profile
            SponsorProfilePatchSchema().load(
                {"sobriety_date": profile.sobriety_date.isoformat(), "capacity": profile.capacity}
            )


def test_sponsor_profile_edits_refresh_the_matcher_pool(
    client, db, make_program, make_member, auth
):
    """Every change a shortlist depends on moves the programme's pool version at once."""
    from api.models import Program

    program = make_program()
    sponsor = make_member(program, "sponsor")
    headers = auth(sponsor)

    def version() -> int:
        db.session.expire_all()
        return db.session.get(Program, program.id).pool_version

    before = version()
    res = client.patch("/api/v1/me/profile", json={"languages": ["es"]}, headers=headers)
    assert res.status_code == 200, res.json
    assert version() == before + 1
    assert (
        client.patch(
            "/api/v1/me/sponsor-profile", json={"capacity": 3}, headers=headers
        ).status_code
        == 200
    )
    assert version() == before + 2
