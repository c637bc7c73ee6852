"""Privacy of every workflow response that shows another member: proposals, answers, the 409
next option, sponsorships, matching rounds and notifications. Only the public view leaves the
server, except the partner's phone and contact email inside an active sponsorship."""

from __future__ import annotations

import pytest

from api.models import Member
from tests.api.workflow_fixture import open_request, world_fixture  # noqa: F401
from tests.privacy import SPONSORSHIP_CONTACT, assert_no_private_fields

NOTIFICATIONS = "/api/v1/me/notifications"


@pytest.fixture(name="private_world")
def private_world_fixture(db, world):
    """A world whose members all carry every kind of private data."""

    def make(**kw):
        w = world(**kw)
        for i, member in enumerate([*w.sponsors, *w.newcomers, w.coordinator]):
            member.about = f"My private story, chapter {i}: nobody else reads this."
            member.city_id, member.city_label = 4887398, "Chicago, US"
            member.lat, member.lon = 41.8781 + i / 1000, -87.6298
            member.age_band = "35-44"
            if member.sponsor_profile is not None:
                member.sponsor_profile.pause_reason = "a private family matter"
        db.session.commit()
        return w

    return make


def _private(response, *members: Member, allow=frozenset(), check_keys=True) -> None:
    assert response.status_code < 500, response.status_code
    text = response.get_data(as_text=True)
    for member in members:
        assert_no_private_fields(text, member, allow=allow, check_keys=check_keys)


def test_proposals_answers_and_the_next_option_show_public_views_only(
    client, auth, db, private_world
):
    w = private_world(n_sponsors=3, n_newcomers=2, capacity=1)
    newcomer, other = w.newcomers
    everyone = [*w.sponsors, *w.newcomers]
    request = open_request(newcomer, w.program)
    asked = client.post(
        f"/api/v1/requests/{request.uuid}/proposals",
        json={"sponsor_id": str(w.sponsors[0].uuid)},
        headers=auth(newcomer),
    )
    assert asked.status_code == 201
    pid = asked.json["id"]
    for viewer in (newcomer, w.sponsors[0]):
        _private(client.get(f"/api/v1/proposals/{pid}", headers=auth(viewer)), *everyone)
    _private(
        client.get(f"/api/v1/requests/{request.uuid}/proposals", headers=auth(newcomer)),
        *everyone,
    )

    # the sponsor is full now: another newcomer's ask gets a 409 with the next option
    second = open_request(other, w.program)
    full = client.post(
        f"/api/v1/requests/{second.uuid}/proposals",
        json={"sponsor_id": str(w.sponsors[0].uuid)},
        headers=auth(other),
    )
    assert full.status_code == 409 and full.json["errors"]["next_option"]["sponsor"]
    _private(full, *everyone)

    declined = client.post(
        f"/api/v1/proposals/{pid}/decline", json={"reason": "other"}, headers=auth(w.sponsors[0])
    )
    assert declined.status_code == 200
    _private(declined, *everyone)
    again = client.post(
        f"/api/v1/requests/{request.uuid}/proposals",
        json={"sponsor_id": str(w.sponsors[1].uuid)},
        headers=auth(newcomer),
    )
    withdrawn = client.post(
        f"/api/v1/proposals/{again.json['id']}/withdraw", headers=auth(newcomer)
    )
    assert withdrawn.status_code == 200 and withdrawn.json["next_option"]
    _private(withdrawn, *everyone)
    _private(
        client.get(f"/api/v1/requests/{request.uuid}/proposals", headers=auth(newcomer)),
        *everyone,
    )
    for viewer in (newcomer, w.sponsors[0], w.sponsors[1]):  # names and next options travel
        notes = client.get(NOTIFICATIONS, headers=auth(viewer))  # in notifications
        assert notes.status_code == 200 and notes.json
        _private(notes, *everyone)


def test_sponsorships_reveal_the_partners_contact_details_and_nothing_else(
    client, auth, db, private_world
):
    w = private_world(n_sponsors=2, n_newcomers=2, settings={"temporary_length_days": 30})
    newcomer, sponsor = w.newcomers[0], w.sponsors[0]
    bystanders = [w.sponsors[1], w.newcomers[1]]
    request = open_request(newcomer, w.program, temporary_ok=True)
    pid = client.post(
        f"/api/v1/requests/{request.uuid}/proposals",
        json={"sponsor_id": str(sponsor.uuid)},
        headers=auth(newcomer),
    ).json["id"]
    accepted = client.post(
        f"/api/v1/proposals/{pid}/accept", json={"kind": "temporary"}, headers=auth(sponsor)
    )
    assert accepted.status_code == 201
    assert accepted.json["contact"] == {
        "phone": newcomer.phone,
        "contact_email": newcomer.contact_email,
    }
    _private(accepted, newcomer, allow=SPONSORSHIP_CONTACT)
    _private(accepted, *bystanders, check_keys=False)  # keys: checked just above
    sid = accepted.json["id"]
    for viewer, partner in ((sponsor, newcomer), (newcomer, sponsor)):
        for url in (f"/api/v1/sponsorships/{sid}", "/api/v1/me/sponsorships"):
            seen = client.get(url, headers=auth(viewer))
            assert partner.contact_email in seen.get_data(as_text=True)
            _private(seen, partner, allow=SPONSORSHIP_CONTACT)
            _private(seen, *bystanders, check_keys=False)
    converted = client.post(f"/api/v1/sponsorships/{sid}/convert", headers=auth(newcomer))
    assert converted.status_code == 200 and converted.json["kind"] == "permanent"
    _private(converted, sponsor, allow=SPONSORSHIP_CONTACT)
    _private(converted, *bystanders, check_keys=False)

    ended = client.post(
        f"/api/v1/sponsorships/{sid}/end", json={"reason": "moved_on"}, headers=auth(sponsor)
    )
    assert ended.status_code == 200 and ended.json["contact"] is None
    _private(ended, newcomer, *bystanders)  # once ended, no contact details at all
    for viewer, partner in ((sponsor, newcomer), (newcomer, sponsor)):
        _private(client.get(f"/api/v1/sponsorships/{sid}", headers=auth(viewer)), partner)
        _private(client.get("/api/v1/me/sponsorships", headers=auth(viewer)), partner)
        _private(client.get(NOTIFICATIONS, headers=auth(viewer)), partner, *bystanders)


def test_matching_round_views_show_public_views_only(client, auth, db, private_world):
    w = private_world(n_sponsors=3, n_newcomers=3, capacity=1)
    everyone = [*w.sponsors, *w.newcomers]
    for newcomer in w.newcomers:
        open_request(newcomer, w.program)
    base = f"/api/v1/programs/{w.program.uuid}/rounds"
    coordinator = auth(w.coordinator)
    drafted = client.post(base, headers=coordinator)
    assert drafted.status_code == 201 and len(drafted.json["pairs"]) == 3
    _private(drafted, *everyone)
    rnd = drafted.json
    _private(client.get(f"{base}/{rnd['id']}", headers=coordinator), *everyone)
    first, second = rnd["pairs"][0], rnd["pairs"][1]
    removed = client.post(
        f"{base}/{rnd['id']}/pairs/{first['id']}/remove",
        json={"reason": "they know each other"},
        headers=coordinator,
    )
    _private(removed, *everyone)
    replaced = client.post(
        f"{base}/{rnd['id']}/pairs/{second['id']}/replace",
        json={"sponsor_id": first["sponsor"]["id"], "reason": "a better fit by schedule"},
        headers=coordinator,
    )
    assert replaced.status_code == 200
    _private(replaced, *everyone)
    published = client.post(f"{base}/{rnd['id']}/publish", headers=coordinator)
    assert published.status_code == 200
    _private(published, *everyone)
    for member in everyone:
        _private(client.get(NOTIFICATIONS, headers=auth(member)), *everyone)
