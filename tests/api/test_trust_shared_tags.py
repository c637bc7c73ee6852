"""Issue 12, finding 2: "you share" is the intersection of what both chose to show, so a
newcomer who ticks every tag learns only what a sponsor chose to show, on every view."""

from __future__ import annotations

import pytest

from api.schemas.public import public_view
from tests.api.workflow_fixture import SLOTS, open_request
from tests.api.workflow_fixture import world_fixture as world  # noqa: F401

ALL_TAGS = ["veteran", "parent", "lgbtq", "secular"]


@pytest.fixture
def setting(world, make_member, db):  # noqa: F811
    w = world(n_sponsors=0, n_newcomers=0)
    sponsor = make_member(
        w.program,
        "sponsor",
        sponsor={"capacity": 2},
        availability=SLOTS,
        tags=["lgbtq", "veteran"],
        tags_shown=["veteran"],  # lgbtq is for matching only
    )
    newcomer = make_member(
        w.program, "newcomer", availability=SLOTS, tags=ALL_TAGS, tags_shown=ALL_TAGS
    )
    return w, sponsor, newcomer


def _words(body) -> str:
    import json

    return json.dumps(body)


def test_ticking_every_tag_reveals_only_what_the_sponsor_shows(client, auth, setting):
    w, sponsor, newcomer = setting
    request = open_request(newcomer, w.program)
    res = client.get(f"/api/v1/requests/{request.uuid}/shortlist", headers=auth(newcomer))
    assert res.status_code == 200, res.json
    entry = next(e for e in res.json["entries"] if e["sponsor"]["id"] == str(sponsor.uuid))
    assert entry["sponsor"]["shared_tags"] == ["veteran"]
    assert "lgbtq" not in _words(entry).lower() and "LGBTQ" not in _words(entry)


def test_nothing_is_shared_unless_the_viewer_shows_it_too(db, setting):
    _, sponsor, newcomer = setting
    newcomer.tags_shown = []
    assert public_view(sponsor, newcomer, None)["shared_tags"] == []
    assert public_view(newcomer, sponsor, None)["shared_tags"] == []


def test_the_sponsor_side_of_a_proposal_sees_only_shown_tags(client, auth, db, setting):
    w, sponsor, newcomer = setting
    newcomer.tags_shown = ["parent"]  # the newcomer shows only "parent"; the sponsor has none
    db.session.commit()
    request = open_request(newcomer, w.program)
    ask = client.post(
        f"/api/v1/requests/{request.uuid}/proposals",
        json={"sponsor_id": str(sponsor.uuid)},
        headers=auth(newcomer),
    )
    assert ask.status_code == 201, ask.json
    inbox = client.get("/api/v1/me/proposals", headers=auth(sponsor))
    assert inbox.status_code == 200
    seen = inbox.json[0]
    assert seen["newcomer"]["shared_tags"] == []
    text = _words(seen)
    assert "veteran" not in text and "secular" not in text and "lgbtq" not in text.lower()
    mine = client.get(f"/api/v1/proposals/{ask.json['id']}", headers=auth(newcomer))
    assert "lgbtq" not in _words(mine.json).lower()


def test_tags_shown_must_be_among_the_members_tags(client, auth, make_member, make_program):
    member = make_member(make_program(), "newcomer", tags=["parent"])
    res = client.patch("/api/v1/me/profile", json={"tags_shown": ["veteran"]}, headers=auth(member))
    assert res.status_code == 422 and "tags_shown" in res.json["errors"]["json"]
    res = client.patch("/api/v1/me/profile", json={"tags_shown": ["parent"]}, headers=auth(member))
    assert res.status_code == 200 and res.json["tags_shown"] == ["parent"]
