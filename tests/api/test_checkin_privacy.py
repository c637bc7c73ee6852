"""Privacy of the daily check-in (DESIGN.md §6): a canary private line never reaches the
sponsor, the coordinator, a report, an email, a notification, a log or an export; with
sharing off the sponsor sees nothing and is nudged about nothing; a coordinator sees counts."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from api.extensions import db
from api.models import AuditLog, DailyCheckIn, Notification, OutboxMessage, utcnow
from api.reports import REPORTS
from api.services import checkins
from jobs.daily_checkins import nudge_sponsors, send_daily_reminders
from jobs.deliver import deliver_due
from tests.factories import PASSWORD
from tests.jobs.helpers import make_pair

API = "/api/v1"
CANARY = "CANARY-5e1f I drank alone last night and told nobody"
# 16:00 in New York (everyone's zone here): awake, and after nobody's reminder time yet.
NOON = datetime(2026, 7, 1, 20, 0, tzinfo=UTC)


@pytest.fixture
def world(make_program, make_member):
    program = make_program()
    with time_machine.travel(NOON - timedelta(days=10), tick=False):
        pairs = [make_pair(make_member, program, started_at=utcnow()) for _ in range(6)]
    coordinator = make_member(program, "coordinator")
    return program, pairs, coordinator


def _page_client(app, member):
    client = app.test_client()
    res = client.post("/login", data={"email": member.email, "password": PASSWORD})
    assert res.status_code == 302
    return client


def test_the_private_line_reaches_nobody_but_its_author(app, client, auth, world, smtp, caplog):
    program, pairs, coordinator = world
    pair = pairs[0]
    sponsee, sponsor = pair.sponsee, pair.sponsor
    caplog.set_level(logging.DEBUG)
    seen: dict[str, str] = {}
    with time_machine.travel(NOON, tick=False):
        for other in pairs[1:]:  # enough pairs using check-ins for the report to show
            checkins.record(other.sponsee, {"mood": 4, "cravings": "none", "meeting": True})
        # First through the page's form (the same schema), then again through the API.
        form = _page_client(app, sponsee).post(
            "/checkin", data={"mood": "2", "cravings": "some", "meeting": "no", "note": CANARY}
        )
        assert form.status_code == 302
        made = client.post(
            f"{API}/me/checkins",
            json={"mood": 1, "cravings": "strong", "meeting": False, "note": CANARY},
            headers=auth(sponsee),
        )
        assert made.status_code == 201 and made.json["note"] == CANARY  # the author reads it
        checkins.set_choices(sponsee, {"reminders": True})
        nudge_sponsors(NOON)  # the hard day reaches the (awake) sponsor
        send_daily_reminders(NOON + timedelta(hours=3))
        client.post(f"{API}/me/checkins/{made.json['id']}/tell-sponsor", headers=auth(sponsee))
        deliver_due(NOON)
        deliver_due(NOON + timedelta(hours=3))

        sponsor_api = auth(sponsor)
        seen["sponsor api"] = client.get(
            f"{API}/sponsorships/{pair.uuid}/checkins", headers=sponsor_api
        ).get_data(as_text=True)
        seen["sponsor notifications"] = client.get(
            f"{API}/me/notifications", headers=sponsor_api
        ).get_data(as_text=True)
        seen["sponsor data"] = client.get(f"{API}/me/data", headers=sponsor_api).get_data(
            as_text=True
        )
        page = _page_client(app, sponsor)
        seen["sponsor pair page"] = page.get(f"/pairs/{pair.uuid}").get_data(as_text=True)
        seen["sponsor notifications page"] = page.get("/notifications").get_data(as_text=True)

        coord_api = auth(coordinator)
        base = f"{API}/programs/{program.uuid}"
        for name in REPORTS:
            for suffix in ("", ".csv"):
                res = client.get(f"{base}/reports/{name}{suffix}", headers=coord_api)
                assert res.status_code == 200
                seen[f"report {name}{suffix}"] = res.get_data(as_text=True)
        seen["export"] = client.get(f"{base}/export.csv", headers=coord_api).get_data(as_text=True)
        seen["member api"] = client.get(
            f"{base}/members/{sponsee.uuid}", headers=coord_api
        ).get_data(as_text=True)
        console = _page_client(app, coordinator)
        seen["dashboard"] = console.get(f"/programs/{program.uuid}/dashboard").get_data(
            as_text=True
        )
        seen["member page"] = console.get(
            f"/coordinator/{program.uuid}/members/{sponsee.uuid}"
        ).get_data(as_text=True)

    seen["emails"] = "\n".join(m.as_string() for m in smtp.messages)
    seen["notifications"] = json.dumps(
        [[n.title, n.body, n.data] for n in db.session.scalars(select(Notification))]
    )
    seen["outbox"] = json.dumps([m.payload for m in db.session.scalars(select(OutboxMessage))])
    seen["audit"] = json.dumps([a.details for a in db.session.scalars(select(AuditLog))])
    stored = db.session.scalar(
        select(DailyCheckIn.note_ciphertext).where(DailyCheckIn.member_id == sponsee.id)
    )
    seen["stored"] = stored
    seen["logs"] = caplog.text
    leaks = [where for where, text in seen.items() if "CANARY-5e1f" in text]
    assert leaks == []

    # Things did happen: the sponsor saw the answers and was emailed; the coordinator saw a
    # share of pairs, and no coordinator was told anything about anyone's check-in.
    assert json.loads(seen["sponsor api"])[0] == {
        "day": "2026-07-01",
        "mood": 1,
        "cravings": "strong",
        "meeting": False,
    }
    assert any(str(m["To"]) == sponsor.email for m in smtp.messages)
    assert "Please reach out to" in seen["emails"]
    assert json.loads(seen["report checkins"])["share_using"] == 1.0
    coordinator_notes = db.session.scalars(
        select(Notification.kind).where(Notification.member_id == coordinator.id)
    ).all()
    assert not [k for k in coordinator_notes if k.startswith("checkin")]
    # The coordinator's views carry no one's answers: the report is counts only.
    assert set(json.loads(seen["report checkins"])) == {
        "report", "title", "params", "active_pairs", "pairs_using", "share_using",
        "suppressed", "small_cell_min",
    }  # fmt: skip


def test_with_sharing_off_the_sponsor_sees_and_hears_nothing(app, client, auth, world):
    _, pairs, _ = world
    pair = pairs[0]
    checkins.set_choices(pair.sponsee, {"shared": False})
    with time_machine.travel(NOON, tick=False):
        checkins.record(pair.sponsee, {"mood": 1, "cravings": "strong", "meeting": False})
        assert nudge_sponsors(NOON) == 0
        res = client.get(f"{API}/sponsorships/{pair.uuid}/checkins", headers=auth(pair.sponsor))
        assert res.json == []
        page = _page_client(app, pair.sponsor).get(f"/pairs/{pair.uuid}").get_data(as_text=True)
    assert "keeps their daily check-ins to themselves" in page
    assert "Very hard" not in page and "Strong" not in page
    assert db.session.scalars(select(Notification)).all() == []


def test_a_coordinator_sees_only_counts_and_small_numbers_are_hidden(client, auth, world):
    program, pairs, coordinator = world
    with time_machine.travel(NOON, tick=False):
        for pair in pairs[:4]:  # 4 of 6 pairs: under the small-cell minimum of 5
            checkins.record(pair.sponsee, {"mood": 2, "cravings": "some", "meeting": True})
        url = f"{API}/programs/{program.uuid}/reports/checkins"
        hidden = client.get(url, headers=auth(coordinator)).json
        assert hidden["suppressed"] is True
        assert (hidden["pairs_using"], hidden["share_using"]) == (None, None)
        checkins.record(pairs[4].sponsee, {"mood": 5, "cravings": "none", "meeting": True})
        shown = client.get(url, headers=auth(coordinator)).json
    assert (shown["active_pairs"], shown["pairs_using"], shown["share_using"]) == (6, 5, 0.8333)
    # Nobody else gets the report: a sponsor or a newcomer of the programme gets 404.
    assert client.get(url, headers=auth(pairs[0].sponsor)).status_code == 404
    assert client.get(url, headers=auth(pairs[0].sponsee)).status_code == 404
