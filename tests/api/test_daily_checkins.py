"""The daily check-in through the API: one per member and local day, the private line for its
author only, the sponsor's view while shared, "let my sponsor know now", and bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from api.extensions import db
from api.models import DailyCheckIn, Notification, OutboxMessage, utcnow
from api.services import checkins
from tests.jobs.helpers import make_pair

API = "/api/v1"
GOOD = {"mood": 3, "cravings": "some", "meeting": True}


@pytest.fixture
def pair(make_program, make_member):
    program = make_program()
    row = make_pair(make_member, program, started_at=utcnow() - timedelta(days=3))
    row.coordinator = make_member(program, "coordinator")
    return row


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_second_check_in_the_same_day_updates_the_first(client, auth, pair):
    headers = auth(pair.sponsee)
    first = client.post(
        f"{API}/me/checkins", json={**GOOD, "note": "rough morning"}, headers=headers
    )
    assert first.status_code == 201, first.json
    assert first.json["note"] == "rough morning" and first.json["hard_day"] is False
    second = client.post(
        f"{API}/me/checkins",
        json={"mood": 1, "cravings": "strong", "meeting": False},
        headers=headers,
    )
    assert second.status_code == 201
    assert second.json["id"] == first.json["id"]
    assert (second.json["mood"], second.json["note"], second.json["hard_day"]) == (1, None, True)
    assert _count(DailyCheckIn) == 1
    listed = client.get(f"{API}/me/checkins", headers=headers).json
    assert [c["id"] for c in listed] == [first.json["id"]]


def test_the_database_holds_one_check_in_per_member_and_day(pair):
    day = utcnow().date()
    for _ in range(2):
        db.session.add(
            DailyCheckIn(member_id=pair.sponsee_id, day=day, mood=3, cravings="none", meeting=True)
        )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_the_day_is_the_members_own(make_member):
    sydney = make_member(time_zone="Australia/Sydney")
    new_york = make_member(time_zone="America/New_York")
    at = datetime(2026, 7, 1, 20, 0, tzinfo=UTC)  # 06:00 on 2 July in Sydney, 16:00 on 1 July
    assert checkins.record(sydney, GOOD, now=at).day.isoformat() == "2026-07-02"
    assert checkins.record(new_york, GOOD, now=at).day.isoformat() == "2026-07-01"
    # Past midnight in New York a new day starts: a second row, not an update.
    later = at + timedelta(hours=9)
    assert checkins.record(new_york, GOOD, now=later).day.isoformat() == "2026-07-02"
    assert len(checkins.mine(new_york)) == 2


def test_a_retry_with_the_same_idempotency_key_writes_nothing_more(client, auth, pair):
    headers = {**auth(pair.sponsee), "Idempotency-Key": "check-in-1"}
    first = client.post(f"{API}/me/checkins", json=GOOD, headers=headers)
    again = client.post(f"{API}/me/checkins", json=GOOD, headers=headers)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json["id"] == first.json["id"] and _count(DailyCheckIn) == 1
    other = client.post(f"{API}/me/checkins", json={**GOOD, "mood": 5}, headers=headers)
    assert other.status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**GOOD, "mood": 6}, "mood"),
        ({**GOOD, "mood": 0}, "mood"),
        ({**GOOD, "cravings": "lots"}, "cravings"),
        ({**GOOD, "meeting": "yes"}, "meeting"),
        ({"cravings": "none", "meeting": True}, "mood"),
        ({**GOOD, "note": "x" * 281}, "note"),
        ({**GOOD, "day": "2026-01-01"}, "day"),  # server-owned: never writable
        ({**GOOD, "shared": True}, "shared"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(client, auth, pair, body, field):
    res = client.post(f"{API}/me/checkins", json=body, headers=auth(pair.sponsee))
    assert res.status_code == 422
    assert field in res.json["errors"]["json"]
    assert _count(DailyCheckIn) == 0


def test_choices_default_to_no_reminder_and_a_sponsor_who_sees(client, auth, pair):
    headers = auth(pair.sponsee)
    assert client.get(f"{API}/me/checkin-choices", headers=headers).json == {
        "reminders": False,
        "shared": True,
    }
    res = client.patch(f"{API}/me/checkin-choices", json={"reminders": True}, headers=headers)
    assert res.json == {"reminders": True, "shared": True}
    res = client.patch(f"{API}/me/checkin-choices", json={"shared": "no"}, headers=headers)
    assert res.status_code == 422 and "shared" in res.json["errors"]["json"]
    assert client.get(f"{API}/me/checkin-choices", headers=headers).json["shared"] is True


def test_the_sponsor_sees_the_three_answers_only_while_shared(client, auth, pair):
    checkins.record(pair.sponsee, {**GOOD, "note": "only mine"})
    url = f"{API}/sponsorships/{pair.uuid}/checkins"
    seen = client.get(url, headers=auth(pair.sponsor))
    assert seen.status_code == 200
    assert seen.json == [
        {"day": seen.json[0]["day"], "mood": 3, "cravings": "some", "meeting": True}
    ]
    checkins.set_choices(pair.sponsee, {"shared": False})
    assert client.get(url, headers=auth(pair.sponsor)).json == []
    # The sponsee still sees their own; the coordinator and anyone else get 404.
    assert len(client.get(url, headers=auth(pair.sponsee)).json) == 1
    assert client.get(url, headers=auth(pair.coordinator)).status_code == 404


def test_let_my_sponsor_know_now_reaches_the_sponsor_at_once_and_no_one_else(client, auth, pair):
    headers = auth(pair.sponsee)
    made = client.post(
        f"{API}/me/checkins",
        json={"mood": 2, "cravings": "strong", "meeting": False},
        headers=headers,
    ).json
    # 03:00 in the sponsor's zone: asked for now, so it goes now.
    with time_machine.travel(datetime(2026, 7, 1, 7, 0, tzinfo=UTC), tick=False):
        res = client.post(f"{API}/me/checkins/{made['id']}/tell-sponsor", headers=headers)
    assert res.status_code == 200 and res.json == {"told": [pair.sponsor.display_name]}
    notes = db.session.scalars(select(Notification)).all()
    assert [(n.member_id, n.kind, n.data["reason"]) for n in notes] == [
        (pair.sponsor_id, "checkin.reach_out", "asked")
    ]
    mail = db.session.scalars(select(OutboxMessage)).all()
    assert [(m.member_id, m.status, m.next_attempt_at <= utcnow()) for m in mail] == [
        (pair.sponsor_id, "pending", True)
    ]
    # A second tap sends nothing more.
    client.post(f"{API}/me/checkins/{made['id']}/tell-sponsor", headers=headers)
    assert _count(Notification) == 1 and _count(OutboxMessage) == 1
    # Someone else's check-in is not found.
    res = client.post(f"{API}/me/checkins/{made['id']}/tell-sponsor", headers=auth(pair.sponsor))
    assert res.status_code == 404


def test_without_a_sponsor_telling_is_a_conflict(client, auth, make_member):
    member = make_member()
    headers = auth(member)
    made = client.post(f"{API}/me/checkins", json=GOOD, headers=headers).json
    res = client.post(f"{API}/me/checkins/{made['id']}/tell-sponsor", headers=headers)
    assert res.status_code == 409


def test_my_data_carries_my_own_check_ins_and_closing_the_account_erases_them(client, auth, pair):
    from api.services import my_data

    checkins.record(pair.sponsee, {**GOOD, "note": "mine to keep"})
    exported = client.get(f"{API}/me/data", headers=auth(pair.sponsee)).json
    assert [(c["mood"], c["note"]) for c in exported["daily_checkins"]] == [(3, "mine to keep")]
    assert exported["checkin_choices"] == {"reminders": False, "shared": True}
    assert client.get(f"{API}/me/data", headers=auth(pair.sponsor)).json["daily_checkins"] == []
    checkins.set_choices(pair.sponsee, {"reminders": True})
    from tests.factories import PASSWORD

    my_data.close_account(pair.sponsee, PASSWORD)
    assert _count(DailyCheckIn) == 0
