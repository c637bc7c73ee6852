"""Milestones through the API and the pages: saving a date, where a member stands, a kind
fresh start that nobody is told about, and bad input named by field."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from api.extensions import db
from api.milestone_dates import local_today
from api.models import MilestoneReached, Notification, OutboxMessage, Sponsorship, utcnow
from jobs.milestones import record_milestones
from tests.between.conftest import login

URL = "/api/v1/me/milestones"


def _today(member) -> date:
    return local_today(utcnow(), member.time_zone)


def test_a_member_saves_a_date_and_sees_the_30_day_milestone(client, auth, group):
    headers = auth(group.sponsee)
    start = _today(group.sponsee) - timedelta(days=30)
    res = client.put(URL, json={"sobriety_date": start.isoformat()}, headers=headers)
    assert res.status_code == 200, res.json
    assert res.json["current"]["milestone"] == "30d"
    assert res.json["next"]["milestone"] == "60d"
    assert res.json["days"] == 30
    assert res.json["milestones_shared"] is False  # private by default
    assert res.json["fresh_start"] is False
    assert client.get(URL, headers=headers).json["sobriety_date"] == start.isoformat()


def test_bad_dates_are_named_and_change_nothing(client, auth, group):
    headers = auth(group.sponsee)
    tomorrow = _today(group.sponsee) + timedelta(days=1)
    for body, field in (
        ({"sobriety_date": tomorrow.isoformat()}, "sobriety_date"),
        ({"sobriety_date": "1900-01-01"}, "sobriety_date"),
        ({"sobriety_date": "yesterday"}, "sobriety_date"),
        ({}, "sobriety_date"),
        ({"sobriety_date": None, "counter": 3}, "counter"),
    ):
        res = client.put(URL, json=body, headers=headers)
        assert res.status_code == 422, body
        assert field in res.json["errors"]["json"], res.json
    db.session.expire_all()
    assert group.sponsee.sobriety_date is None


def test_a_fresh_start_is_kind_private_and_ends_nothing(client, auth, group):
    headers = auth(group.sponsee)
    today = _today(group.sponsee)
    old = today - timedelta(days=200)
    body = {"sobriety_date": old.isoformat(), "milestones_shared": True}
    assert client.put(URL, json=body, headers=headers).json["milestones_shared"] is True
    before = db.session.scalar(select(func.count()).select_from(Notification))
    outbox = db.session.scalar(select(func.count()).select_from(OutboxMessage))

    body = {"sobriety_date": today.isoformat(), "milestones_shared": True}
    res = client.put(URL, json=body, headers=headers)
    assert res.status_code == 200
    assert res.json["fresh_start"] is True
    assert res.json["milestones_shared"] is False  # the sponsor cannot learn it from "24 hours"
    assert res.json["current"] is None and res.json["next"]["milestone"] == "1d"
    assert "lost" not in res.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Notification)) == before
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == outbox
    assert db.session.get(Sponsorship, group.pair.id).status == "active"

    # The page a member sees after it: supportive words and the crisis line, no count.
    login(client, group.sponsee)
    page = client.get("/milestones/fresh-start").get_data(as_text=True)
    assert "Welcome back" in page and 'href="tel:988"' in page
    assert "200" not in page and "lost" not in page.lower()

    # Tomorrow the job records "24 hours"; the sponsor hears nothing (sharing went off).
    now = datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC) + timedelta(
        hours=18
    )
    assert record_milestones(now) == 0
    assert (
        db.session.scalar(
            select(MilestoneReached.milestone).where(MilestoneReached.member_id == group.sponsee.id)
        )
        == "1d"
    )
    assert not db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.member_id == group.sponsor.id, Notification.kind == "milestone.reached")
    )


def test_the_milestone_page_saves_and_shows_the_fresh_start(client, group):
    login(client, group.sponsee)
    today = _today(group.sponsee)
    page = client.get("/milestones")
    assert page.status_code == 200
    res = client.post(
        "/milestones",
        data={"sobriety_date": (today - timedelta(days=90)).isoformat(), "milestones_shared": "y"},
    )
    assert res.status_code == 302 and res.headers["Location"].endswith("/milestones")
    home = client.get("/").get_data(as_text=True)
    assert "You have reached 90 days" in home
    bad = client.post("/milestones", data={"sobriety_date": "31/02/2020"})
    assert bad.status_code == 422
    assert 'id="sobriety_date-error"' in bad.get_data(as_text=True)
    res = client.post("/milestones", data={"sobriety_date": today.isoformat()})
    assert res.headers["Location"].endswith("/milestones/fresh-start?was_shared=y")
    again = "Let my sponsor hear about my milestones again"
    assert again in client.get(res.headers["Location"]).get_data(as_text=True)
    one_tap = client.post("/milestones/share-again")
    assert one_tap.status_code == 302
    db.session.expire_all()
    assert group.sponsee.milestones_shared is True


def test_a_fresh_start_never_shared_does_not_offer_sharing_again(client, group):
    login(client, group.sponsee)
    today = _today(group.sponsee)
    client.post("/milestones", data={"sobriety_date": (today - timedelta(days=90)).isoformat()})
    res = client.post("/milestones", data={"sobriety_date": today.isoformat()})
    assert res.headers["Location"].endswith("/milestones/fresh-start")
    page = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "Welcome back" in page and "hear about my milestones again" not in page


def test_clearing_the_date_removes_it_and_the_sharing(client, auth, group):
    headers = auth(group.sponsee)
    start = (_today(group.sponsee) - timedelta(days=3)).isoformat()
    client.put(URL, json={"sobriety_date": start, "milestones_shared": True}, headers=headers)
    res = client.put(URL, json={"sobriety_date": None}, headers=headers)
    assert res.json["sobriety_date"] is None and res.json["milestones_shared"] is False


def test_a_fresh_start_without_a_sponsor_never_speaks_of_one(client, group, make_member):
    alone = make_member(group.program, "newcomer", display_name="Ida I.")
    login(client, alone)
    today = _today(alone)
    client.post("/milestones", data={"sobriety_date": (today - timedelta(days=90)).isoformat()})
    res = client.post("/milestones", data={"sobriety_date": today.isoformat()})
    page = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "Your new date is saved. Only you can see it." in page
    assert "A call to someone from your fellowship or a meeting today can help too." in page
    assert "your sponsor" not in page.lower()
    # The menu item leads to asking for a sponsor here, and to the sponsor once there is one.
    nav = page.split("</nav>")[0]
    assert 'href="/sponsor">Sponsor</a>' in nav and "My sponsor" not in nav


def test_a_fresh_start_with_a_sponsor_says_they_are_not_told(client, group):
    login(client, group.sponsee)
    today = _today(group.sponsee)
    client.post("/milestones", data={"sobriety_date": (today - timedelta(days=90)).isoformat()})
    res = client.post("/milestones", data={"sobriety_date": today.isoformat()})
    page = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "your sponsor is not told" in page and "A call to your sponsor" in page
