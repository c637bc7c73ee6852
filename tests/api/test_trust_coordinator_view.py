"""Issue 12: a coordinator reads a newcomer's request note only when the newcomer ticked "my
coordinator may read this"; the coordinator export holds no phone numbers."""

from __future__ import annotations

import pytest

NOTE = "Please someone who knows about night shifts."


@pytest.fixture
def people(make_program, make_member):
    program = make_program()
    return (
        program,
        make_member(program, "newcomer", phone="+1-555-0142"),
        make_member(program, "coordinator"),
    )


def _open(client, auth, program, newcomer, **body):
    res = client.post(
        f"/api/v1/programs/{program.uuid}/requests",
        json={"note": NOTE, **body},
        headers=auth(newcomer),
    )
    assert res.status_code == 201, res.json
    return res.json["id"]


@pytest.mark.parametrize(("consent", "seen"), [(False, None), (True, NOTE)])
def test_the_coordinator_reads_the_note_only_with_consent(client, auth, db, people, consent, seen):
    program, newcomer, coordinator = people
    request_id = _open(client, auth, program, newcomer, note_for_coordinator=consent)
    as_coordinator = client.get(f"/api/v1/requests/{request_id}", headers=auth(coordinator))
    assert as_coordinator.status_code == 200
    assert as_coordinator.json["note"] == seen
    own = client.get(f"/api/v1/requests/{request_id}", headers=auth(newcomer))
    assert own.json["note"] == NOTE and own.json["note_for_coordinator"] is consent


def test_the_export_has_no_phone_numbers(client, auth, db, people):
    program, newcomer, coordinator = people
    res = client.get(f"/api/v1/programs/{program.uuid}/export.csv", headers=auth(coordinator))
    assert res.status_code == 200
    text = res.get_data().decode("utf-8-sig")
    assert "phone" not in text.splitlines()[0]
    assert "555-0142" not in text and newcomer.email in text
