"""Report and escalation routes: who may see them, JSON and CSV, bad input, audited actions."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine
from sqlalchemy import select

from api.models import AuditLog, MissedContactFlag
from api.reports import REPORTS
from tests.api.reports_fixture import NOW, SECRETS, programme_fixture  # noqa: F401

ROUTES = [f"reports/{name}" for name in REPORTS] + [f"reports/{name}.csv" for name in REPORTS]
ROUTES += ["escalations"]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def url(fx, path, program=None):
    return f"/api/v1/programs/{(program or fx.program).uuid}/{path}"


@pytest.mark.parametrize("role", ["N1", "S1"])
def test_newcomers_and_sponsors_get_404_on_every_report_route(client, programme, auth, role):
    headers = auth(programme.people[role])
    for path in ROUTES:
        assert client.get(url(programme, path), headers=headers).status_code == 404, path
    flag = programme.flags["F2"].uuid
    for action in ("acknowledge", "resolve"):
        res = client.post(
            url(programme, f"escalations/{flag}/{action}"),
            json={"action_taken": "x"},
            headers=headers,
        )
        assert res.status_code == 404


def test_another_programmes_coordinator_sees_nothing(client, programme, auth, db):
    headers = auth(programme.other_coordinator)
    for path in ROUTES:
        assert client.get(url(programme, path), headers=headers).status_code == 404, path
    # Their own programme answers, and contains nothing of this one.
    own = client.get(url(programme, "escalations", programme.other_program), headers=headers)
    assert own.status_code == 200 and own.json == []
    queue = client.get(url(programme, "reports/queue", programme.other_program), headers=headers)
    assert queue.json["open_requests"] == 0
    # Nor can they act on this programme's flag through their own programme.
    flag = programme.flags["F2"].uuid
    res = client.post(
        url(programme, f"escalations/{flag}/acknowledge", programme.other_program),
        json={"action_taken": "Called"},
        headers=headers,
    )
    assert res.status_code == 404
    db.session.expire_all()
    assert db.session.get(MissedContactFlag, programme.flags["F2"].id).acknowledged_at is None


def test_no_token_is_401(client, programme):
    assert client.get(url(programme, "reports/queue")).status_code == 401


def test_every_report_as_json_and_csv(client, programme, auth, frozen):
    headers = auth(programme.coordinator)
    query = "?start=2026-04-01&end=2026-06-30"
    for name in REPORTS:
        res = client.get(url(programme, f"reports/{name}{query}"), headers=headers)
        assert res.status_code == 200, res.json
        assert res.json["report"] == name
        assert res.json["params"]["start"] == "2026-04-01"
        res = client.get(url(programme, f"reports/{name}.csv{query}"), headers=headers)
        assert res.status_code == 200
        assert res.mimetype == "text/csv"
        assert "attachment" in res.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(res.get_data(as_text=True))))
        assert len(rows) >= 2, name
    proposals = client.get(url(programme, f"reports/proposals{query}"), headers=headers).json
    assert proposals["acceptance_rate"] == 0.5


def test_queue_csv_has_the_same_rows_as_json(client, programme, auth, frozen):
    headers = auth(programme.coordinator)
    text = client.get(url(programme, "reports/queue.csv"), headers=headers).get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["display_name"], r["waiting_days"]) for r in rows] == [
        ("Newe N.", "20.0"),
        ("Newf N.", "3.0"),
    ]


def test_reports_never_contain_notes_contact_details_or_sobriety_dates(
    client, programme, auth, frozen
):
    headers = auth(programme.coordinator)
    sobriety = programme.people["S1"].sponsor_profile.sobriety_date.isoformat()
    emails = [m.email for m in programme.people.values()]
    for path in ROUTES:
        body = client.get(url(programme, path + "?start=2026-01-01"), headers=headers)
        text = body.get_data(as_text=True)
        for secret in (*SECRETS, sobriety, *emails):
            assert secret not in text, (path, secret)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=2026-05-01&end=2026-04-01", "start"),
        ("start=yesterday", "start"),
        ("end=2026-13-01", "end"),
        ("fellowship=XA", "fellowship"),
        ("start=2000-01-01&end=2026-06-30", "end"),
        ("colour=blue", "colour"),
        ("start=9999-12-30&end=9999-12-31", "end"),
        ("end=1999-12-31", "end"),
    ],
)
def test_bad_filters_are_422_naming_the_field(client, programme, auth, query, field):
    headers = auth(programme.coordinator)
    for name in ("queue", "breakdowns.csv"):
        res = client.get(url(programme, f"reports/{name}?{query}"), headers=headers)
        assert res.status_code == 422, res.json
        assert field in res.json["errors"]["query"]


def test_unknown_report_is_404(client, programme, auth):
    headers = auth(programme.coordinator)
    assert client.get(url(programme, "reports/nope"), headers=headers).status_code == 404
    assert client.get(url(programme, "reports/nope.csv"), headers=headers).status_code == 404


def test_escalation_queue_lists_level_3_pairs_longest_silence_first(
    client, programme, auth, frozen
):
    res = client.get(url(programme, "escalations"), headers=auth(programme.coordinator))
    assert res.status_code == 200
    items = res.json
    assert [i["id"] for i in items] == [str(programme.flags[k].uuid) for k in ("F2", "F5")]
    first = items[0]
    assert (first["sponsor_name"], first["sponsee_name"]) == ("Sponb S.", "Newb N.")
    assert first["days_without_contact"] == 39.0
    assert [h["level"] for h in first["history"]] == [3]
    assert items[1]["flag"]["action_taken"] == "Called both"
    assert "phone" not in res.get_data(as_text=True)


def test_acknowledge_then_resolve_is_audited(client, programme, auth, db):
    headers = auth(programme.coordinator)
    flag = programme.flags["F2"]
    res = client.post(
        url(programme, f"escalations/{flag.uuid}/acknowledge"),
        json={"action_taken": "Phoned the sponsor"},
        headers=headers,
    )
    assert res.status_code == 200, res.json
    assert res.json["action_taken"] == "Phoned the sponsor" and res.json["acknowledged_at"]
    assert res.json["resolved_at"] is None
    res = client.post(url(programme, f"escalations/{flag.uuid}/resolve"), json={}, headers=headers)
    assert res.status_code == 200 and res.json["resolution"] == "coordinator"
    again = client.post(
        url(programme, f"escalations/{flag.uuid}/resolve"), json={}, headers=headers
    )
    assert again.status_code == 409
    audit = db.session.scalars(select(AuditLog).order_by(AuditLog.id)).all()
    assert [(a.action, a.actor_id, a.target_uuid) for a in audit] == [
        ("escalation.acknowledge", programme.coordinator.id, str(flag.uuid)),
        ("escalation.resolve", programme.coordinator.id, str(flag.uuid)),
    ]
    queue = client.get(url(programme, "escalations"), headers=headers).json
    assert str(flag.uuid) not in [i["id"] for i in queue]


@pytest.mark.parametrize(
    "body",
    [{}, {"action_taken": ""}, {"action_taken": "x" * 1001}, {"action_taken": "ok", "level": 1}],
)
def test_acknowledge_needs_an_action_and_rejects_unknown_fields(client, programme, auth, db, body):
    flag = programme.flags["F2"]
    res = client.post(
        url(programme, f"escalations/{flag.uuid}/acknowledge"),
        json=body,
        headers=auth(programme.coordinator),
    )
    assert res.status_code == 422
    db.session.expire_all()
    assert db.session.get(MissedContactFlag, flag.id).acknowledged_at is None
    assert db.session.scalar(select(AuditLog.id)) is None
