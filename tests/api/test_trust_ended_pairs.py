"""Issue 12, finding 10: an ended sponsorship is a record: its contacts cannot be confirmed
and its cadence cannot be changed (409, nothing written)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from api.models import Contact, Sponsorship, utcnow
from api.services.contacts import log_contact
from api.services.sponsorships import end
from tests.jobs.helpers import make_pair


@pytest.fixture
def ended(db, make_program, make_member):
    pair = make_pair(make_member, make_program(), started_at=utcnow() - timedelta(days=20))
    contact = log_contact(pair.sponsee, pair, kind="call", occurred_at=utcnow() - timedelta(days=2))
    end(pair.sponsor, pair.uuid, "moved_on")
    db.session.expire_all()
    return db.session.get(Sponsorship, pair.id), contact.uuid


def test_confirming_a_contact_of_an_ended_pair_is_409(client, auth, db, ended):
    pair, contact_uuid = ended
    res = client.post(f"/api/v1/contacts/{contact_uuid}/confirm", headers=auth(pair.sponsor))
    assert res.status_code == 409, res.json
    assert db.session.scalar(select(Contact.confirmed_at)) is None


def test_changing_the_cadence_of_an_ended_pair_is_409(client, auth, db, ended):
    pair, _ = ended
    due = pair.contact_due_at
    res = client.patch(
        f"/api/v1/sponsorships/{pair.uuid}/cadence",
        json={"cadence_days": 2},
        headers=auth(pair.sponsee),
    )
    assert res.status_code == 409, res.json
    db.session.expire_all()
    fresh = db.session.get(Sponsorship, pair.id)
    assert fresh.cadence_days is None and fresh.contact_due_at == due


def test_an_active_pair_still_changes_its_cadence(client, auth, db, make_program, make_member):
    pair = make_pair(make_member, make_program(), started_at=utcnow() - timedelta(days=20))
    res = client.patch(
        f"/api/v1/sponsorships/{pair.uuid}/cadence",
        json={"cadence_days": 2},
        headers=auth(pair.sponsee),
    )
    assert res.status_code == 200, res.json
    db.session.expire_all()
    assert db.session.get(Sponsorship, pair.id).cadence_days == 2
