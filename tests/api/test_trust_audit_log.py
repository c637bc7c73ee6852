"""Issue 12: the audit log is readable - who did what to whom, filterable, exportable as CSV,
for the programme's coordinators only, without the notes members wrote."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from api.models import utcnow
from api.services.sponsorships import end
from tests.jobs.helpers import make_pair

END_NOTE = "private words about why we stopped"


@pytest.fixture
def scene(client, auth, db, make_program, make_member):
    program = make_program()
    coordinator = make_member(program, "coordinator", display_name="Cora D.")
    pair = make_pair(make_member, program, started_at=utcnow() - timedelta(days=5))
    res = client.post(
        f"/api/v1/programs/{program.uuid}/members/{pair.sponsor.uuid}/pause",
        json={"reason": "asked for a break"},
        headers=auth(coordinator),
    )
    assert res.status_code == 200, res.json
    end(pair.sponsee, pair.uuid, "moved_on", note=END_NOTE)
    return program, coordinator, pair


def _get(client, auth, who, program, **query):
    return client.get(
        f"/api/v1/programs/{program.uuid}/audit", query_string=query, headers=auth(who)
    )


def test_lists_who_did_what_to_whom_newest_first(client, auth, scene):
    program, coordinator, pair = scene
    res = _get(client, auth, coordinator, program)
    assert res.status_code == 200, res.json
    actions = [row["action"] for row in res.json]
    assert actions == ["sponsorship.end", "sponsor.pause"]
    pause = next(r for r in res.json if r["target_id"] == str(pair.sponsor.uuid))
    assert pause["actor"] == "Cora D." and pause["target"] == pair.sponsor.display_name
    assert pause["reason"] == "asked for a break"  # a coordinator's reason is shown
    assert END_NOTE not in res.get_data(as_text=True)  # a member's note never is


def test_filters_by_action_actor_target_and_time(client, auth, scene):
    program, coordinator, pair = scene
    by_action = _get(client, auth, coordinator, program, action="sponsorship.")
    assert {r["action"] for r in by_action.json} == {"sponsorship.end"}
    by_actor = _get(client, auth, coordinator, program, actor_id=str(coordinator.uuid))
    assert by_actor.json and all(r["actor_id"] == str(coordinator.uuid) for r in by_actor.json)
    by_target = _get(client, auth, coordinator, program, target_id=str(pair.uuid))
    assert [r["action"] for r in by_target.json] == ["sponsorship.end"]
    future = (utcnow() + timedelta(days=1)).isoformat()
    assert _get(client, auth, coordinator, program, since=future).json == []
    bad = _get(client, auth, coordinator, program, limit=0)
    assert bad.status_code == 422 and "limit" in bad.json["errors"]["query"]


def test_exports_csv_and_records_the_export(client, auth, scene):
    program, coordinator, _ = scene
    res = client.get(f"/api/v1/programs/{program.uuid}/audit.csv", headers=auth(coordinator))
    assert res.status_code == 200 and res.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(res.get_data().decode("utf-8-sig"))))
    assert {"sponsor.pause", "sponsorship.end"} <= {r["action"] for r in rows}
    assert END_NOTE not in res.get_data(as_text=True)
    again = _get(client, auth, coordinator, program, action="audit.export")
    assert len(again.json) == 1


def test_only_this_programmes_coordinators_read_it(client, auth, scene, make_member, make_program):
    program, _, pair = scene
    elsewhere = make_member(make_program(), "coordinator")
    for who in (pair.sponsor, pair.sponsee, elsewhere):
        assert _get(client, auth, who, program).status_code == 404
    assert client.get(f"/api/v1/programs/{program.uuid}/audit").status_code == 401
