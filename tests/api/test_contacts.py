"""Contact log API: either side logs, the other confirms, notes stay with their author."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from api.models import Contact, MissedContactFlag, Sponsorship, utcnow
from api.services.contacts import log_contact, note_contact
from api.services.notes import _cipher
from jobs.missed_contact import flag_missed_contacts
from tests.jobs.helpers import make_pair
from tests.privacy import assert_no_private_fields

NOTE = "Talked about step four and the fear of making amends."


@pytest.fixture
def pair(db, make_program, make_member):
    program = make_program()
    return make_pair(make_member, program, started_at=utcnow() - timedelta(days=10))


def _log(client, auth, member, pair, **body):
    body = {"kind": "call", "occurred_at": (utcnow() - timedelta(hours=1)).isoformat(), **body}
    return client.post(
        f"/api/v1/sponsorships/{pair.uuid}/contacts", json=body, headers=auth(member)
    )


def test_logging_moves_schedule_and_resolves_open_flag(db, client, auth, pair):
    flag_missed_contacts(utcnow())
    assert db.session.scalar(select(MissedContactFlag.resolved_at)) is None
    response = _log(client, auth, pair.sponsee, pair, duration_minutes=30, note=NOTE)
    assert response.status_code == 201, response.json
    assert response.json["note"] == NOTE and response.json["has_note"] is True
    db.session.expire_all()
    fresh = db.session.get(Sponsorship, pair.id)
    assert fresh.last_contact_at is not None
    assert fresh.contact_due_at == fresh.last_contact_at + timedelta(days=3)
    flag = db.session.scalar(select(MissedContactFlag))
    assert (flag.resolution, flag.resolved_at is not None) == ("contact", True)


def test_note_is_encrypted_and_only_the_author_reads_it(
    db, client, auth, pair, make_member, make_program
):
    _log(client, auth, pair.sponsee, pair, note=NOTE)
    stored = db.session.scalar(select(Contact.note_ciphertext))
    assert NOTE not in stored and "amends" not in stored
    coordinator = make_member(pair.program, "coordinator")
    for viewer in (pair.sponsor, coordinator):
        listed = client.get(f"/api/v1/sponsorships/{pair.uuid}/contacts", headers=auth(viewer))
        assert listed.status_code == 200
        assert listed.json[0]["has_note"] is True and listed.json[0]["note"] is None
        assert NOTE not in listed.get_data(as_text=True)
        assert_no_private_fields(listed.get_data(as_text=True), pair.sponsee, check_keys=False)
    own = client.get(f"/api/v1/sponsorships/{pair.uuid}/contacts", headers=auth(pair.sponsee))
    assert own.json[0]["note"] == NOTE


def test_note_key_rotation(app, db, client, auth, pair):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    app.config["NOTE_KEYS"] = old
    try:
        _log(client, auth, pair.sponsee, pair, note=NOTE)
        app.config["NOTE_KEYS"] = f"{new},{old}"  # new key first: it encrypts, both decrypt
        own = client.get(f"/api/v1/sponsorships/{pair.uuid}/contacts", headers=auth(pair.sponsee))
        assert own.json[0]["note"] == NOTE
        token = db.session.scalar(select(Contact.note_ciphertext))
        assert (
            Fernet(new.encode())
            .decrypt(_cipher(f"{new},{old}", "x").rotate(token.encode()))
            .decode()
            == NOTE
        )
    finally:
        app.config["NOTE_KEYS"] = ""


def test_rotate_note_keys_command_re_encrypts_every_note(app, db, client, auth, pair, runner):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    app.config["NOTE_KEYS"] = old
    try:
        for n in range(3):
            _log(client, auth, pair.sponsee, pair, note=f"{NOTE} {n}")
        app.config["NOTE_KEYS"] = f"{new},{old}"
        result = runner.invoke(args=["rotate-note-keys"])
        assert result.exit_code == 0 and "3 notes re-encrypted" in result.output
        app.config["NOTE_KEYS"] = new  # the old key retired: every note still opens
        db.session.expire_all()
        own = client.get(f"/api/v1/sponsorships/{pair.uuid}/contacts", headers=auth(pair.sponsee))
        assert sorted(c["note"] for c in own.json) == [f"{NOTE} {n}" for n in range(3)]
        app.config["NOTE_KEYS"] = Fernet.generate_key().decode()  # a wrong key: refuse
        result = runner.invoke(args=["rotate-note-keys"])
        assert result.exit_code != 0 and "keep the old key" in result.output
    finally:
        app.config["NOTE_KEYS"] = ""


def test_a_double_tap_answers_with_the_first_contact_marked_as_a_repeat(db, client, auth, pair):
    moment = (utcnow() - timedelta(hours=1)).isoformat()
    first = _log(client, auth, pair.sponsor, pair, occurred_at=moment, note=NOTE)
    again = _log(client, auth, pair.sponsor, pair, occurred_at=moment, note=NOTE)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert db.session.query(Contact).count() == 1
    # the same moment with another note, or by the other side, is a talk of its own
    assert (
        _log(client, auth, pair.sponsor, pair, occurred_at=moment, note="Other").json["id"]
        != (first.json["id"])
    )
    assert "Idempotent-Replayed" not in _log(client, auth, pair.sponsee, pair, note=NOTE).headers
    assert db.session.query(Contact).count() == 3


def test_the_same_contact_after_two_minutes_is_a_talk_of_its_own(db, pair):
    moment = utcnow() - timedelta(hours=1)
    first, repeat = note_contact(pair.sponsor, pair, kind="call", occurred_at=moment)
    again, repeat_again = note_contact(pair.sponsor, pair, kind="call", occurred_at=moment)
    later, repeat_later = note_contact(
        pair.sponsor, pair, kind="call", occurred_at=moment, now=utcnow() + timedelta(minutes=3)
    )
    assert (repeat, repeat_again, repeat_later) == (False, True, False)
    assert again.id == first.id != later.id


def test_two_taps_at_the_same_instant_keep_one_row(db, pair, monkeypatch):
    from api.services import contacts

    monkeypatch.setattr(contacts, "_noted_just_now", lambda *a, **k: None)  # both pass the check
    now = utcnow()
    first, _ = note_contact(pair.sponsor, pair, kind="call", occurred_at=now, now=now)
    twin, repeat = note_contact(pair.sponsor, pair, kind="call", occurred_at=now, now=now)
    assert repeat is True and twin.id == first.id
    assert first.source_key.startswith("tap:") and db.session.query(Contact).count() == 1


def test_stranger_and_foreign_coordinator_get_404(client, auth, pair, make_member, make_program):
    other = make_program()
    for outsider in (make_member(pair.program, "sponsor"), make_member(other, "coordinator")):
        assert _log(client, auth, outsider, pair).status_code == 404
        url = f"/api/v1/sponsorships/{pair.uuid}/contacts"
        assert client.get(url, headers=auth(outsider)).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"occurred_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat()}, "occurred_at"),
        ({"occurred_at": (datetime.now(UTC) - timedelta(days=30)).isoformat()}, "occurred_at"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"kind": "telepathy"}, "kind"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 601}, "duration_minutes"),
        ({"note": "x" * 2001}, "note"),
        ({"confirmed_at": "2026-01-01T00:00:00Z"}, "confirmed_at"),
        ({"logged_by": "someone"}, "logged_by"),
    ],
)
def test_bad_input_is_422_naming_the_field(db, client, auth, pair, body, field):
    response = _log(client, auth, pair.sponsee, pair, **body)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]
    assert db.session.scalar(select(Contact.id)) is None


def test_other_side_confirms(client, auth, pair):
    contact = _log(client, auth, pair.sponsee, pair).json
    own = client.post(f"/api/v1/contacts/{contact['id']}/confirm", headers=auth(pair.sponsee))
    assert own.status_code == 409
    confirmed = client.post(f"/api/v1/contacts/{contact['id']}/confirm", headers=auth(pair.sponsor))
    assert confirmed.status_code == 200 and confirmed.json["confirmed_at"]


def test_either_side_sets_cadence(db, client, auth, pair):
    url = f"/api/v1/sponsorships/{pair.uuid}/cadence"
    response = client.patch(url, json={"cadence_days": 5}, headers=auth(pair.sponsor))
    assert response.status_code == 200 and response.json["cadence_days"] == 5
    assert (
        client.patch(url, json={"cadence_days": 0}, headers=auth(pair.sponsee)).status_code == 422
    )
    reset = client.patch(url, json={"cadence_days": None}, headers=auth(pair.sponsee))
    assert reset.status_code == 200 and reset.json["cadence_days"] is None


def test_email_link_logs_one_contact_without_login(db, client, pair):
    from api.services.contacts import contact_link_token

    token = contact_link_token(pair.uuid, pair.sponsee.uuid, "email:checkin:x")
    page = client.get(f"/contact-link/{token}")
    assert page.status_code == 200 and db.session.scalar(select(Contact.id)) is None
    assert "Yes, we talked today" in page.get_data(as_text=True)
    assert client.post(f"/contact-link/{token}").status_code == 200
    assert "Already noted" in client.post(f"/contact-link/{token}").get_data(as_text=True)
    assert len(db.session.scalars(select(Contact)).all()) == 1
    assert client.get("/contact-link/forged.token").status_code == 404


def test_expired_email_link_is_refused(db, client, pair):
    import time_machine

    from api.services.contacts import contact_link_token

    with time_machine.travel(datetime.now(UTC) - timedelta(days=8)):
        token = contact_link_token(pair.uuid, pair.sponsee.uuid, "email:checkin:y")
    assert client.post(f"/contact-link/{token}").status_code == 409
    assert db.session.scalar(select(Contact.id)) is None


# The programme default, written out by hand: every 3 days while the pair is younger than
# 90 days, weekly from day 90 on. Due days after the start for a pair that talks on time:
ON_TIME_DUE_DAYS = [3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39, 42, 45, 48, 51, 54, 57]
ON_TIME_DUE_DAYS += [60, 63, 66, 69, 72, 75, 78, 81, 84, 87, 90, 97, 104, 111, 118]


def test_cadence_is_every_3_days_until_day_90_then_weekly(db, make_program, make_member):
    start = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    pair = make_pair(make_member, make_program(), started_at=start)
    due_days = [(pair.contact_due_at - start) / timedelta(days=1)]
    while len(due_days) < len(ON_TIME_DUE_DAYS):
        talked = pair.contact_due_at
        log_contact(pair.sponsee, pair, kind="call", occurred_at=talked, now=talked)
        db.session.refresh(pair)
        due_days.append((pair.contact_due_at - start) / timedelta(days=1))
    assert due_days == ON_TIME_DUE_DAYS


@pytest.mark.parametrize(
    ("talked_after", "next_due_after"),
    [
        (timedelta(days=89, hours=23, minutes=59), timedelta(days=92, hours=23, minutes=59)),
        (timedelta(days=90), timedelta(days=97)),
        (timedelta(days=90, minutes=1), timedelta(days=97, minutes=1)),
    ],
)
def test_the_phase_changes_exactly_at_day_90(
    db, make_program, make_member, talked_after, next_due_after
):
    start = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    pair = make_pair(make_member, make_program(), started_at=start)
    talked = start + talked_after
    log_contact(pair.sponsor, pair, kind="text", occurred_at=talked, now=talked)
    db.session.refresh(pair)
    assert pair.contact_due_at == start + next_due_after
