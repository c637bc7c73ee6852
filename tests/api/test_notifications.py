"""In-app notifications: a member lists their own and marks them read."""

from __future__ import annotations

from api.services.notify import notify


def test_list_and_mark_read(db, client, auth, make_program, make_member):
    program = make_program()
    member, other = make_member(program, "newcomer"), make_member(program, "newcomer")
    notify(member, "checkin.due", key="n1", title="Time to check in", body="b", program=program)
    notify(other, "checkin.due", key="n2", title="Not yours", body="b", program=program)
    db.session.commit()
    listed = client.get("/api/v1/me/notifications", headers=auth(member))
    assert listed.status_code == 200
    assert [n["title"] for n in listed.json] == ["Time to check in"]
    nid = listed.json[0]["id"]
    assert client.post(f"/api/v1/notifications/{nid}/read", headers=auth(other)).status_code == 404
    read = client.post(f"/api/v1/notifications/{nid}/read", headers=auth(member))
    assert read.status_code == 200 and read.json["read_at"]
    again = client.post(f"/api/v1/notifications/{nid}/read", headers=auth(member))
    assert again.json["read_at"] == read.json["read_at"]
    unread = client.get("/api/v1/me/notifications?unread=true", headers=auth(member))
    assert unread.json == []


def test_requires_login_and_valid_query(client, auth, make_program, make_member):
    assert client.get("/api/v1/me/notifications").status_code == 401
    member = make_member(make_program(), "newcomer")
    bad = client.get("/api/v1/me/notifications?limit=0", headers=auth(member))
    assert bad.status_code == 422 and "limit" in bad.json["errors"]["query"]


def test_availability_answer_is_validated_and_once(db, client, auth, make_program, make_member):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from api.models import AvailabilityCheck, SponsorProfile
    from jobs.availability import check_availability

    program = make_program()
    sponsor, stranger = make_member(program, "sponsor"), make_member(program, "sponsor")
    check_availability(datetime.now(UTC) + timedelta(days=31))  # due a month after confirming
    check = db.session.scalar(
        select(AvailabilityCheck).where(AvailabilityCheck.member_id == sponsor.id)
    )
    url = f"/api/v1/me/availability-checks/{check.uuid}/answer"
    assert client.post(url, json={"available": "maybe"}, headers=auth(sponsor)).status_code == 422
    assert client.post(url, json={"available": False}, headers=auth(stranger)).status_code == 404
    assert client.post(url, json={"available": False}, headers=auth(sponsor)).status_code == 200
    assert client.post(url, json={"available": True}, headers=auth(sponsor)).status_code == 409
    profile = db.session.scalar(
        select(SponsorProfile).where(SponsorProfile.member_id == sponsor.id)
    )
    assert profile.accepting is False
