"""Issue 12, finding 6: input that used to answer 500 answers a clear 422 naming the field."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from api.models import Contact, utcnow
from tests.jobs.helpers import make_pair

SURROGATE = '"\\ud800"'  # JSON for a lone surrogate: valid JSON, not valid text


def test_fifty_thousand_brackets_to_the_token_endpoint_is_a_422(client, db):
    res = client.post("/api/v1/auth/tokens", data="[" * 50_000, content_type="application/json")
    assert res.status_code == 422
    assert res.json["code"] == "validation_error"
    assert "_schema" in res.json["errors"]["json"]


def test_deep_but_modest_nesting_is_refused_by_the_same_rule(client, db):
    body = "[" * 40 + "]" * 40
    res = client.post("/api/v1/auth/tokens", data=body, content_type="application/json")
    assert res.status_code == 422


@pytest.mark.parametrize("field", ["about", "display_name"])
def test_a_lone_surrogate_in_the_profile_names_the_field(client, db, make_member, auth, field):
    member = make_member()
    res = client.patch(
        "/api/v1/me/profile",
        data=f'{{"{field}": {SURROGATE}}}',
        content_type="application/json",
        headers=auth(member),
    )
    assert res.status_code == 422
    assert field in res.json["errors"]["json"]


def test_a_lone_surrogate_in_a_contact_note_names_the_field(
    client, db, make_program, make_member, auth
):
    pair = make_pair(make_member, make_program(), started_at=utcnow() - timedelta(days=3))
    when = (utcnow() - timedelta(hours=1)).isoformat()
    res = client.post(
        f"/api/v1/sponsorships/{pair.uuid}/contacts",
        data=f'{{"kind": "call", "occurred_at": "{when}", "note": {SURROGATE}}}',
        content_type="application/json",
        headers=auth(pair.sponsee),
    )
    assert res.status_code == 422
    assert "note" in res.json["errors"]["json"]
    assert db.session.scalar(select(func.count(Contact.id))) == 0


def test_a_lone_surrogate_in_a_key_or_a_list_is_refused(client, db):
    for body in ('{"\\udfff": 1}', '{"email": ["a", "\\ud800"]}'):
        res = client.post("/api/v1/auth/tokens", data=body, content_type="application/json")
        assert res.status_code == 422, body
