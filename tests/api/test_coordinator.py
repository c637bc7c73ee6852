"""Coordinator tools: pseudonymous member list with status, audited pauses, programme walls."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from api.models import AuditLog, SponsorProfile
from tests.privacy import assert_no_private_fields


@pytest.fixture
def setup(make_program, make_member, db):
    program = make_program()
    coordinator = make_member(program, "coordinator", display_name="Cora D.")
    busy = make_member(program, "sponsor", display_name="Ben A.", sponsor={"capacity": 1})
    free = make_member(
        program,
        "sponsor",
        display_name="Ana B.",
        about="Happy to talk on weekday evenings.",
        contact_email="ana.private@example.test",
        age_band="45-54",
        sponsor={"pause_reason": "moving house"},
    )
    newcomer = make_member(program, "newcomer", display_name="Nia C.")
    profile = db.session.scalar(select(SponsorProfile).where(SponsorProfile.member_id == busy.id))
    profile.load = 1
    db.session.commit()
    return program, coordinator, busy, free, newcomer


def members_url(program, suffix=""):
    return f"/api/v1/programs/{program.uuid}/members{suffix}"


def test_list_filters_and_shows_no_contact_details(client, auth, setup):
    program, coordinator, busy, free, newcomer = setup
    headers = auth(coordinator)
    res = client.get(members_url(program), headers=headers)
    assert res.status_code == 200
    assert [m["display_name"] for m in res.json] == ["Ana B.", "Ben A.", "Cora D.", "Nia C."]
    for person in (busy, free, newcomer):
        assert_no_private_fields(res.get_data(as_text=True), person)

    def names(query):
        return [
            m["display_name"] for m in client.get(members_url(program, query), headers=headers).json
        ]

    assert names("?role=sponsor") == ["Ana B.", "Ben A."]
    assert names("?status=at_capacity") == ["Ben A."]
    assert names("?status=accepting") == ["Ana B."]
    assert names("?q=ni") == ["Nia C."]
    assert names("?q=%25") == []
    bad = client.get(members_url(program, "?role=admin"), headers=headers)
    assert bad.status_code == 422 and "role" in bad.json["errors"]["query"]


def test_detail_has_no_contact_details(client, auth, setup):
    program, coordinator, _, free, _ = setup
    res = client.get(members_url(program, f"/{free.uuid}"), headers=auth(coordinator))
    assert res.status_code == 200
    assert res.json["sponsor"]["status"] == "accepting"
    assert_no_private_fields(res.get_data(as_text=True), free)


def test_pause_and_unpause_are_audited_and_need_a_reason(client, auth, setup, db):
    program, coordinator, _, free, _ = setup
    headers = auth(coordinator)
    pause = members_url(program, f"/{free.uuid}/pause")
    assert "reason" in client.post(pause, json={}, headers=headers).json["errors"]["json"]
    res = client.post(pause, json={"reason": "Missed three proposals"}, headers=headers)
    assert res.status_code == 200 and res.json["sponsor"]["status"] == "paused"
    assert res.json["sponsor"]["eligible"] is False
    unpause = members_url(program, f"/{free.uuid}/unpause")
    assert client.post(unpause, json={}, headers=headers).status_code == 422
    res = client.post(unpause, json={"reason": "Spoke with them"}, headers=headers)
    assert res.json["sponsor"]["status"] == "accepting"
    logs = db.session.scalars(select(AuditLog).order_by(AuditLog.id)).all()
    assert [(log.action, log.reason) for log in logs] == [
        ("sponsor.pause", "Missed three proposals"),
        ("sponsor.unpause", "Spoke with them"),
    ]
    newcomer_pause = members_url(program, f"/{setup[4].uuid}/pause")
    assert client.post(newcomer_pause, json={"reason": "x" * 5}, headers=headers).status_code == 404


def test_coordinator_of_a_cannot_reach_b(client, auth, setup, make_program, make_member):
    program_b, _, _, free_b, _ = setup
    program_a = make_program()
    coordinator_a = make_member(program_a, "coordinator")
    headers = auth(coordinator_a)
    for url in (
        members_url(program_b),
        members_url(program_b, f"/{free_b.uuid}"),
        f"/api/v1/programs/{program_b.uuid}/export.csv",
        f"/api/v1/programs/{program_b.uuid}/import/template.csv",
    ):
        assert client.get(url, headers=headers).status_code == 404, url
    res = client.post(
        members_url(program_b, f"/{free_b.uuid}/pause"), json={"reason": "no way"}, headers=headers
    )
    assert res.status_code == 404
    # Their own programme's URL with B's member id is also 404.
    assert client.get(members_url(program_a, f"/{free_b.uuid}"), headers=headers).status_code == 404


def test_members_and_newcomers_are_not_coordinators(client, auth, setup):
    program, _, busy, _, newcomer = setup
    for member in (busy, newcomer):
        assert client.get(members_url(program), headers=auth(member)).status_code == 404


def test_a_dated_pause_ends_by_itself_and_an_undated_one_does_not(client, auth, setup, db):
    from datetime import date, timedelta

    import time_machine

    from api.models import utcnow
    from api.services.proposals import take_slot

    program, coordinator, _, free, _ = setup
    url = members_url(program, f"/{free.uuid}")
    today = date.today()
    res = client.post(
        url + "/pause",
        json={"reason": "Away for a week", "until": (today + timedelta(days=7)).isoformat()},
        headers=auth(coordinator),
    )
    assert res.json["sponsor"]["status"] == "paused" and res.json["sponsor"]["eligible"] is False
    assert not take_slot(free.id, utcnow())
    with time_machine.travel(today + timedelta(days=9)):
        sponsor = client.get(url, headers=auth(coordinator)).json["sponsor"]
        assert sponsor["status"] == "accepting" and sponsor["eligible"] is True
        assert take_slot(free.id, utcnow())  # newcomers can ask them again
        db.session.rollback()
    far = (today + timedelta(days=400)).isoformat()
    res = client.post(
        url + "/pause", json={"reason": "Away", "until": far}, headers=auth(coordinator)
    )
    assert res.status_code == 422 and "until" in res.json["errors"]["json"]  # within a year
    client.post(url + "/pause", json={"reason": "Needs a break"}, headers=auth(coordinator))
    with time_machine.travel(today + timedelta(days=400)):
        assert client.get(url, headers=auth(coordinator)).json["sponsor"]["status"] == "paused"
