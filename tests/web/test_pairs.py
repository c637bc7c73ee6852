"""Pair pages for both sides ("My sponsor", a sponsee's page): contact details only while
active, when to talk again, "we talked" with a private note, confirming, ending with a reason,
blocking, a temporary pair's convert-or-close choice, and 404 for anyone else."""

from __future__ import annotations

import html as entities
import re
from datetime import date, timedelta

import pytest
from flask_babel import refresh
from sqlalchemy import select

from api.extensions import db
from api.models import (
    Block,
    Contact,
    MissedContactFlag,
    Notification,
    OutboxMessage,
    Sponsorship,
    utcnow,
)
from api.services import contacts, sponsorships
from tests.factories import PASSWORD
from tests.jobs.helpers import make_pair

NOTE = "Talked about the fear of step four."


def _login(client, member):
    res = client.post("/login", data={"email": member.email, "password": PASSWORD})
    assert res.status_code == 302


def _text(res) -> str:
    return entities.unescape(res.get_data(as_text=True))


def _field_error(page: str, name: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="{name}-error">([^<]*)</p>', page)
    return found.group(1) if found else None


@pytest.fixture
def pair(make_program, make_member):
    program = make_program()
    row = make_pair(make_member, program, started_at=utcnow() - timedelta(hours=2))
    row.sponsor.display_name, row.sponsee.display_name = "Rita S.", "Ana P."
    row.sponsor.phone, row.sponsor.contact_email = "+1 555 0142", "rita@contact.test"
    row.sponsee.phone = "+1 555 0199"
    db.session.commit()
    return row


def test_my_sponsor_shows_how_to_reach_them_and_when_to_talk(client, pair):
    _login(client, pair.sponsee)
    page = _text(client.get("/sponsor/mine"))
    assert "Your sponsor is Rita S." in page
    assert 'href="tel:+15550142"' in page and "rita@contact.test" in page
    assert "Your first call" in page and "It's normal to feel nervous." in page
    assert "Your group suggests talking at least every 3 days." in page
    assert "Talk again by" in page and "Not yet" in page
    assert "UTC" not in page
    # the newcomer's home page now leads here
    assert client.get("/sponsor").headers["Location"] == "/sponsor/mine"


def test_a_sponsee_without_a_sponsor_is_told_how_to_ask(client, make_program, make_member):
    program = make_program()
    member = make_member(program, "newcomer")
    _login(client, member)
    page = _text(client.get("/sponsor/mine"))
    assert "You don't have a sponsor right now" in page and 'href="/sponsor"' in page


def test_we_talked_is_one_tap_and_the_note_stays_with_its_author(client, pair):
    _login(client, pair.sponsee)
    res = client.post(
        f"/pairs/{pair.uuid}/contacts",
        data={"kind": "video", "duration_minutes": "25", "note": NOTE},
    )
    assert res.status_code == 302 and res.headers["Location"] == f"/pairs/{pair.uuid}"
    contact = db.session.scalar(select(Contact))
    assert (contact.kind, contact.duration_minutes, contact.logged_by_id) == (
        "video",
        25,
        pair.sponsee_id,
    )
    page = _text(client.get(f"/pairs/{pair.uuid}"))
    assert "Noted. Thank you for staying in touch." in page
    assert "Video call" in page and "25 minutes" in page and f"Your note: {NOTE}" in page
    assert "Your first call" not in page
    _login(client, pair.sponsor)
    page = _text(client.get(f"/pairs/{pair.uuid}"))
    assert "Ana P. noted this." in page and NOTE not in page and "step four" not in page
    assert "Yes, we talked" in page  # the other side may confirm


def test_a_double_tap_on_we_talked_notes_one_talk(client, pair):
    _login(client, pair.sponsor)
    for _ in range(2):
        res = client.post(f"/pairs/{pair.uuid}/contacts", data={"kind": "call"})
        assert res.status_code == 302
    assert db.session.query(Contact).count() == 1
    page = _text(client.get(f"/pairs/{pair.uuid}"))
    assert "This talk is already noted. Thank you for staying in touch." in page
    # another kind of talk is not a repeat
    client.post(f"/pairs/{pair.uuid}/contacts", data={"kind": "text"})
    assert db.session.query(Contact).count() == 2


def test_a_tap_right_after_confirming_the_other_side_is_already_noted(client, pair):
    contacts.log_contact(pair.sponsee, pair, kind="call", occurred_at=utcnow())
    _login(client, pair.sponsor)
    for _ in range(2):
        client.post(f"/pairs/{pair.uuid}/contacts", data={"kind": "call"})
    assert db.session.query(Contact).count() == 1
    assert db.session.scalar(select(Contact.confirmed_by_id)) == pair.sponsor_id


def test_a_bad_duration_is_shown_beside_its_field(client, pair):
    _login(client, pair.sponsor)
    res = client.post(
        f"/pairs/{pair.uuid}/contacts", data={"kind": "call", "duration_minutes": "0", "note": "x"}
    )
    page = _text(res)
    assert res.status_code == 422
    assert _field_error(page, "duration_minutes") == "Enter a number from 1 to 600."
    assert '<details class="contact-details" open>' in page and "x</textarea>" in page
    assert db.session.query(Contact).count() == 0
    res = client.post(f"/pairs/{pair.uuid}/contacts", data={"kind": "shouting"})
    assert _field_error(_text(res), "kind") == "Choose one of the options."


def test_the_other_side_confirms_a_contact(client, pair):
    logged = contacts.log_contact(pair.sponsee, pair, kind="call", occurred_at=utcnow())
    _login(client, pair.sponsee)
    own = client.post(f"/pairs/contacts/{logged.uuid}/confirm")
    assert own.status_code == 302
    _login(client, pair.sponsor)
    res = client.post(f"/pairs/contacts/{logged.uuid}/confirm")
    assert res.status_code == 302 and res.headers["Location"] == f"/pairs/{pair.uuid}"
    db.session.refresh(logged)
    assert logged.confirmed_by_id == pair.sponsor_id
    page = _text(client.get(f"/pairs/{pair.uuid}"))
    assert "Confirmed." in page and "Yes, we talked" not in page


def test_ending_takes_a_reason_and_closes_the_contact_details(client, pair, auth):
    _login(client, pair.sponsor)
    form = _text(client.get(f"/pairs/{pair.uuid}/end"))
    assert "End your sponsorship with Ana P.?" in form and 'value="moved_on"' in form
    res = client.post(f"/pairs/{pair.uuid}/end", data={"note": "moving away"})
    assert res.status_code == 422
    assert _field_error(_text(res), "reason") == "Choose one of the options."
    assert "moving away</textarea>" in _text(res)
    res = client.post(f"/pairs/{pair.uuid}/end", data={"reason": "moved_on"})
    assert res.status_code == 302 and res.headers["Location"] == f"/pairs/{pair.uuid}"
    db.session.refresh(pair)
    assert (pair.status, pair.end_reason) == ("ended", "moved_on")
    _login(client, pair.sponsee)
    page = _text(client.get(f"/pairs/{pair.uuid}"))
    assert "Your sponsorship with Rita S. has ended" in page
    assert "+1 555 0142" not in page and "rita@contact.test" not in page
    assert "We talked" not in page
    # the other side hears that it ended, never why: not on the page, the API or their data
    assert "moved on" not in page.lower() and "It ended " in page
    token = auth(pair.sponsee)
    api = client.get(f"/api/v1/sponsorships/{pair.uuid}", headers=token).get_json()
    assert api["status"] == "ended" and api["end_reason"] is None
    data = client.get("/api/v1/me/data", headers=token).get_json()
    assert all(p["end_reason"] is None for p in data["sponsorships"])
    mine = _text(client.get("/sponsor/mine"))
    assert "You don't have a sponsor right now" in mine
    assert "Past sponsors" in mine and f'href="/pairs/{pair.uuid}">Rita S.</a>' in mine
    client.post("/logout")
    _login(client, pair.sponsor)
    sponsees = _text(client.get("/sponsees"))
    assert "Past sponsees" in sponsees and f'href="/pairs/{pair.uuid}">Ana P.</a>' in sponsees
    assert "You are not sponsoring anyone right now." in sponsees  # not "yet": they have
    assert "moved on" in _text(client.get(f"/pairs/{pair.uuid}")).lower()  # their own reason


def test_blocking_from_the_pair_page(client, pair):
    _login(client, pair.sponsee)
    page = _text(client.get(f"/pairs/{pair.uuid}/block"))
    assert "Block Rita S.?" in page and "Blocking does not end your sponsorship." in page
    # what they can really do: end it too, or call for help; no coordinator they cannot reach
    assert f'<a href="/pairs/{pair.uuid}/end">End the sponsorship</a>' in page
    assert "call your local emergency number" in page and "coordinator" not in page
    res = client.post(f"/pairs/{pair.uuid}/block")
    assert res.status_code == 302
    block = db.session.scalar(select(Block))
    assert (block.member_id, block.blocked_member_id) == (pair.sponsee_id, pair.sponsor_id)
    page = _text(client.get(f"/pairs/{pair.uuid}"))
    assert "You have blocked Rita S." in page and "Lift the block" in page
    res = client.post(f"/pairs/{pair.uuid}/unblock")  # a mistaken tap can be undone
    assert res.status_code == 302 and res.headers["Location"] == f"/pairs/{pair.uuid}"
    assert db.session.query(Block).count() == 0
    page = _text(client.get(f"/pairs/{pair.uuid}"))
    assert "You lifted the block of Rita S." in page and "Block Rita S." in page
    assert client.post(f"/pairs/{pair.uuid}/unblock").status_code == 302  # twice: no error


def test_a_temporary_pair_chooses_to_go_on_or_to_close(client, make_program, make_member):
    program = make_program()
    ends = date.today() + timedelta(days=5)
    row = make_pair(
        make_member,
        program,
        started_at=utcnow() - timedelta(days=85),
        kind="temporary",
        ends_on=ends,
    )
    _login(client, row.sponsee)
    page = _text(client.get(f"/pairs/{row.uuid}"))
    assert "A temporary sponsorship until" in page and "Go on as a permanent pair" in page
    close = f"/pairs/{row.uuid}/end?reason=temporary_period_over"
    assert close in page.replace("&amp;", "&")
    assert 'value="temporary_period_over" checked' in _text(client.get(close))
    assert f'href="/pairs/{row.uuid}/convert"' in page  # a second look first
    confirm = _text(client.get(f"/pairs/{row.uuid}/convert"))
    name = row.sponsor.display_name
    assert f"Go on with {name} as a permanent pair?" in confirm
    assert f"We will let {name} know." in confirm
    db.session.refresh(row)
    assert row.kind == "temporary"  # looking changes nothing
    res = client.post(f"/pairs/{row.uuid}/convert")
    assert res.status_code == 302
    db.session.refresh(row)
    assert (row.kind, row.ends_on) == ("permanent", None)
    page = _text(client.get(f"/pairs/{row.uuid}"))
    assert f"You are now a permanent pair. We let {name} know." in page
    told = db.session.scalars(select(Notification).where(Notification.kind == "pair.converted"))
    assert [n.member_id for n in told] == [row.sponsor_id]  # the other side, once
    assert db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.event == "pair.converted", OutboxMessage.member_id == row.sponsor_id
        )
    )
    # a permanent pair has nothing to confirm: the page goes back to the pair
    assert client.get(f"/pairs/{row.uuid}/convert").headers["Location"] == f"/pairs/{row.uuid}"
    _login(client, row.sponsor)
    notes = _text(client.get("/notifications"))
    assert "Your pairing continues" in notes
    assert f"{row.sponsee.display_name} chose to go on together as a permanent pair." in notes


def test_an_open_missed_contact_flag_is_worded_kindly(client, pair):
    db.session.add(
        MissedContactFlag(
            sponsorship_id=pair.id, program_id=pair.program_id, level=2, due_at=utcnow()
        )
    )
    db.session.commit()
    _login(client, pair.sponsor)
    expected = "It has been some time since you two last talked. Reaching out today would help."
    assert expected in _text(client.get(f"/pairs/{pair.uuid}"))
    assert expected in _text(client.get("/sponsees"))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/pairs/{pair}"),
        ("post", "/pairs/{pair}/contacts"),
        ("get", "/pairs/{pair}/end"),
        ("post", "/pairs/{pair}/end"),
        ("get", "/pairs/{pair}/convert"),
        ("post", "/pairs/{pair}/convert"),
        ("post", "/pairs/{pair}/cadence"),
        ("get", "/pairs/{pair}/block"),
        ("post", "/pairs/{pair}/block"),
        ("post", "/pairs/{pair}/unblock"),
        ("post", "/pairs/contacts/{contact}/confirm"),
    ],
)
def test_another_members_pair_is_not_found(client, pair, make_member, method, path):
    logged = contacts.log_contact(pair.sponsee, pair, kind="call", occurred_at=utcnow())
    stranger = make_member(pair.program, "sponsor", "newcomer")
    _login(client, stranger)
    url = path.format(pair=pair.uuid, contact=logged.uuid)
    res = getattr(client, method)(url, data={"kind": "call", "reason": "other"})
    assert res.status_code == 404
    assert "Rita S." not in _text(res) and "Ana P." not in _text(res)
    db.session.expire_all()
    assert db.session.get(Sponsorship, pair.id).status == "active"
    assert db.session.query(Contact).count() == 1 and db.session.query(Block).count() == 0


def test_a_sponsor_with_a_sponsor_of_their_own_sees_each_pair_on_its_side(
    client, pair, make_member
):
    """Rita sponsors Ana and has a sponsor herself: "My sponsees" lists only Ana."""
    program = pair.program
    rita = pair.sponsor
    rita.memberships[0].is_newcomer = True
    own = make_member(program, "sponsor", display_name="Olga V.")
    db.session.add(
        Sponsorship(
            program_id=program.id, sponsor_id=own.id, sponsee_id=rita.id, started_at=utcnow()
        )
    )
    db.session.commit()
    _login(client, rita)
    sponsees = _text(client.get("/sponsees"))
    assert "Ana P." in sponsees and "Olga V." not in sponsees
    mine = _text(client.get("/sponsor/mine"))
    assert "Your sponsor is Olga V." in mine and "Ana P." not in mine


def test_a_sponsor_who_is_not_a_newcomer_reaches_their_own_sponsor_and_check_in(
    client, pair, make_member
):
    """Rita is only a sponsor here, yet has a sponsor of her own: the menu and home lead to
    her sponsor's pair page and to her daily check-in; without a sponsor, neither shows."""
    program = pair.program
    rita = pair.sponsor
    assert not rita.memberships[0].is_newcomer
    rita.fellowships = ["AA"]  # past the first profile step
    _login(client, rita)
    home = _text(client.get("/"))
    assert 'href="/sponsor/mine"' not in home and 'href="/checkin"' not in home
    assert client.get("/sponsor/mine").status_code == 404
    own = make_member(program, "sponsor", display_name="Olga V.")
    db.session.add(
        Sponsorship(
            program_id=program.id, sponsor_id=own.id, sponsee_id=rita.id, started_at=utcnow()
        )
    )
    db.session.commit()
    home = _text(client.get("/"))
    nav = home.split("</nav>")[0]
    assert 'href="/sponsor/mine">My sponsor' in nav and 'href="/checkin">Check-in' in nav
    main = home.split("</nav>")[1]
    assert 'href="/sponsor/mine">Time to talk with Olga V.</a>' in main  # no talk yet
    assert 'href="/checkin">Your daily check-in</a>' in main
    mine = client.get("/sponsor/mine")
    assert mine.status_code == 200 and "Your sponsor is Olga V." in _text(mine)
    assert client.get("/checkin").status_code == 200


@pytest.fixture
def older_pair(make_program, make_member):
    """A pair that began ten days ago; the sponsee lives in New York."""
    row = make_pair(make_member, make_program(), started_at=utcnow() - timedelta(days=10))
    return row


def test_a_pair_begun_today_is_not_offered_an_earlier_day(client, make_program, make_member):
    new = make_pair(make_member, make_program(), started_at=utcnow())
    _login(client, new.sponsee)
    page = _text(client.get(f"/pairs/{new.uuid}"))
    assert "We talked" in page and 'name="kind"' in page
    assert 'name="occurred_at"' not in page and 'name="talked_on"' not in page
    res = client.post(f"/pairs/{new.uuid}/contacts", data={"kind": "call"})
    assert res.status_code == 302  # noted as just now


def test_we_talked_yesterday_at_a_time_is_read_in_the_members_own_zone(client, older_pair):
    from zoneinfo import ZoneInfo

    _login(client, older_pair.sponsee)
    page = _text(client.get(f"/pairs/{older_pair.uuid}"))
    assert 'name="occurred_at" value="now" checked' in page and 'type="time"' in page
    res = client.post(
        f"/pairs/{older_pair.uuid}/contacts",
        data={"kind": "call", "occurred_at": "yesterday", "talked_at": "18:30"},
    )
    assert res.status_code == 302
    zone = ZoneInfo("America/New_York")
    yesterday = utcnow().astimezone(zone).date() - timedelta(days=1)
    contact = db.session.scalar(select(Contact))
    local = contact.occurred_at.astimezone(zone)
    assert (local.date(), local.hour, local.minute) == (yesterday, 18, 30)


def test_another_day_without_a_time_is_noted_at_midday(client, older_pair):
    from zoneinfo import ZoneInfo

    _login(client, older_pair.sponsor)
    zone = ZoneInfo("America/New_York")
    day = utcnow().astimezone(zone).date() - timedelta(days=4)
    res = client.post(
        f"/pairs/{older_pair.uuid}/contacts",
        data={"kind": "text", "occurred_at": "earlier", "talked_on": day.isoformat()},
    )
    assert res.status_code == 302
    local = db.session.scalar(select(Contact)).occurred_at.astimezone(zone)
    assert (local.date(), local.hour) == (day, 12)
    db.session.refresh(older_pair)
    assert older_pair.last_contact_at.astimezone(zone).date() == day


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"occurred_at": "earlier"}, "talked_on", "Enter the day you talked."),
        (
            {"occurred_at": "earlier", "talked_on": "2026-02-31", "talked_at": "09:15"},
            "talked_on",
            "Enter the day you talked.",
        ),
        (
            {"occurred_at": "yesterday", "talked_at": "25:99"},
            "talked_at",
            "Enter a time like 18:30, or leave it empty.",
        ),
        ({"occurred_at": "someday"}, "occurred_at", "Choose one of the options."),
        (
            {"occurred_at": "earlier", "talked_on": "2999-01-01"},
            "occurred_at",
            "A contact cannot be in the future.",
        ),
        (
            {"occurred_at": "earlier", "talked_on": "2020-01-01", "talked_at": "10:00"},
            "occurred_at",
            "A contact cannot be before the sponsorship started.",
        ),
    ],
)
def test_a_when_that_cannot_be_noted_is_named_beside_its_field(
    client, older_pair, data, field, message
):
    _login(client, older_pair.sponsor)
    res = client.post(
        f"/pairs/{older_pair.uuid}/contacts", data={"kind": "video", "note": "kept", **data}
    )
    page = _text(res)
    assert res.status_code == 422
    assert _field_error(page, field) == message
    assert '<details class="contact-details" open>' in page and "kept</textarea>" in page
    assert f'name="occurred_at" value="{data["occurred_at"]}" checked' in page or field == (
        "occurred_at"
    )
    if data.get("talked_on"):
        assert f'value="{data["talked_on"]}"' in page
    assert db.session.query(Contact).count() == 0


def test_when_errors_read_in_spanish(client, older_pair):
    older_pair.sponsor.locale = "es"
    db.session.commit()
    _login(client, older_pair.sponsor)
    res = client.post(
        f"/pairs/{older_pair.uuid}/contacts",
        data={"kind": "call", "occurred_at": "earlier", "talked_on": "2999-01-01"},
    )
    page = _text(res)
    assert "¿Cuándo?" in page
    assert _field_error(page, "occurred_at") == "Una conversación no puede estar en el futuro."


def test_either_side_changes_how_often_they_talk(client, pair):
    _login(client, pair.sponsee)
    page = _text(client.get(f"/pairs/{pair.uuid}"))
    assert "How often you talk" in page and 'name="cadence_days"' in page
    assert "follow your group's suggestion (every 3 days)" in page
    res = client.post(f"/pairs/{pair.uuid}/cadence", data={"cadence_days": "7"})
    assert res.status_code == 302 and res.headers["Location"] == f"/pairs/{pair.uuid}"
    db.session.refresh(pair)
    assert pair.cadence_days == 7
    assert pair.contact_due_at == pair.started_at + timedelta(days=7)  # the same service
    page = _text(client.get(f"/pairs/{pair.uuid}"))
    assert "Saved. You will be reminded to talk at least every 7 days." in page
    assert "You agreed to talk at least every 7 days." in page and 'value="7"' in page
    _login(client, pair.sponsor)
    res = client.post(f"/pairs/{pair.uuid}/cadence", data={"cadence_days": ""})
    assert res.status_code == 302
    db.session.refresh(pair)
    assert pair.cadence_days is None
    page = _text(client.get(f"/pairs/{pair.uuid}"))
    assert "Saved. You follow your group's suggestion again." in page
    assert "Your group suggests talking at least every 3 days." in page


@pytest.mark.parametrize("value", ["0", "61", "2.5", "weekly"])
def test_a_rhythm_outside_the_range_is_named_beside_its_field(client, pair, value):
    _login(client, pair.sponsor)
    res = client.post(f"/pairs/{pair.uuid}/cadence", data={"cadence_days": value})
    page = _text(res)
    assert res.status_code == 422
    assert _field_error(page, "cadence_days") in (
        "Enter a number from 1 to 60.",
        "Enter a whole number.",
    )
    assert f'value="{value}"' in page
    db.session.refresh(pair)
    assert pair.cadence_days is None


def test_the_rhythm_of_an_ended_pair_is_not_changed(client, pair):
    sponsorships.end(pair.sponsee, pair.uuid, "moved_on")
    _login(client, pair.sponsor)
    res = client.post(f"/pairs/{pair.uuid}/cadence", data={"cadence_days": "5"})
    assert res.status_code == 302
    assert "This sponsorship has ended, so nothing was changed." in _text(
        client.get(res.headers["Location"])
    )
    db.session.refresh(pair)
    assert pair.cadence_days is None


@pytest.mark.parametrize("back", [None, "sponsees"])
def test_we_talked_on_a_pair_that_just_ended_says_so(client, pair, back):
    _login(client, pair.sponsor)
    client.get(f"/pairs/{pair.uuid}")  # the page is open in another tab
    sponsorships.end(pair.sponsee, pair.uuid, "moved_on")
    data = {"kind": "call", **({"back": back} if back else {})}
    res = client.post(f"/pairs/{pair.uuid}/contacts", data=data)
    assert res.status_code == 302 and res.headers["Location"] == f"/pairs/{pair.uuid}"
    page = _text(client.get(res.headers["Location"]))
    assert "This sponsorship has ended, so the talk was not noted." in page
    assert db.session.query(Contact).count() == 0


def test_we_talked_in_the_moment_a_pair_ends_says_so(client, pair, monkeypatch):
    from api.errors import Conflict

    def ended(*args, **kwargs):
        raise Conflict("This sponsorship has ended; contacts can no longer be logged.")

    monkeypatch.setattr(contacts, "note_contact", ended)
    _login(client, pair.sponsee)
    res = client.post(f"/pairs/{pair.uuid}/contacts", data={"kind": "call"})
    assert res.status_code == 302
    assert "so the talk was not noted" in _text(client.get(res.headers["Location"]))


def test_an_overdue_pair_says_when_it_was_due_not_next(client, older_pair):
    older_pair.contact_due_at = utcnow() - timedelta(days=3, hours=1)
    db.session.commit()
    _login(client, older_pair.sponsor)
    for url in (f"/pairs/{older_pair.uuid}", "/sponsees"):
        page = _text(client.get(url))
        assert "Talk again by" not in page
        assert re.search(r"<dt>Time to talk</dt><dd>Was due \w+, \w+ \d+ \(3 days ago\)</dd>", page)
    older_pair.contact_due_at = utcnow() + timedelta(days=2)
    db.session.commit()
    page = _text(client.get("/sponsees"))
    assert "Talk again by" in page and "Was due" not in page


def test_the_sponsors_home_names_an_escalated_pair_and_a_hard_day(client, pair, make_member):
    from api.services.notify import notify

    pair.sponsor.fellowships = ["AA"]
    db.session.commit()
    _login(client, pair.sponsor)
    home = _text(client.get("/"))
    assert f'href="/pairs/{pair.uuid}">Time to talk with Ana P.</a>' in home  # no talk yet
    db.session.add(
        MissedContactFlag(
            sponsorship_id=pair.id, program_id=pair.program_id, level=3, due_at=utcnow()
        )
    )
    db.session.commit()
    home = _text(client.get("/"))
    assert f'href="/pairs/{pair.uuid}">It has been a long while since you talked with Ana P.' in (
        home
    )
    notify(
        pair.sponsor,
        "checkin.reach_out",
        key="reach:1",
        title="Please reach out",
        body="A call would help.",
        data={"sponsorship": str(pair.uuid), "reason": "hard"},
    )
    db.session.commit()
    home = _text(client.get("/"))
    assert f'href="/pairs/{pair.uuid}">Please reach out to Ana P. today</a>' in home
    assert "It has been a long while" not in home  # one line per pair, the most pressing
    # the sponsee's side never shows it, and an ended pair drops off
    sponsorships.end(pair.sponsee, pair.uuid, "moved_on")
    assert f'href="/pairs/{pair.uuid}"' not in _text(client.get("/"))


def test_both_homes_say_when_it_is_time_to_talk(client, pair):
    """Before the first talk and from a day before the next is due: "Time to talk with …" on
    each side's home page, leading to the pair; otherwise the plain way there."""
    sponsor_line = f'href="/pairs/{pair.uuid}">Time to talk with Ana P.</a>'
    _login(client, pair.sponsor)
    assert sponsor_line in _text(client.get("/"))
    _login(client, pair.sponsee)
    assert 'href="/sponsor/mine">Time to talk with Rita S.</a>' in _text(client.get("/"))

    contacts.log_contact(pair.sponsee, pair, kind="call", occurred_at=utcnow())  # due in 3 days
    db.session.commit()
    home = _text(client.get("/"))
    assert "Time to talk" not in home and 'href="/sponsor/mine">My sponsor</a>' in home
    _login(client, pair.sponsor)
    assert f'href="/pairs/{pair.uuid}"' not in _text(client.get("/"))

    pair.contact_due_at = utcnow() + timedelta(hours=20)
    db.session.commit()
    assert sponsor_line in _text(client.get("/"))
    _login(client, pair.sponsee)
    assert "Time to talk with Rita S." in _text(client.get("/"))


@pytest.mark.parametrize(
    ("modes", "text"), [(["phone", "text"], True), (["phone", "in_person"], False)]
)
def test_a_text_is_offered_beside_the_phone_when_they_like_texts(client, pair, modes, text):
    pair.sponsor.contact_modes = modes
    db.session.commit()
    _login(client, pair.sponsee)
    page = _text(client.get(f"/pairs/{pair.uuid}"))
    assert '<a href="tel:+15550142">+1 555 0142</a>' in page
    assert ('<a href="sms:+15550142">Send a text</a>' in page) is text


def test_no_text_link_without_a_phone_or_once_the_pair_ended(client, pair):
    pair.sponsor.phone = None
    db.session.commit()
    _login(client, pair.sponsee)
    assert "sms:" not in _text(client.get(f"/pairs/{pair.uuid}"))
    pair.sponsor.phone = "+1 555 0142"
    db.session.commit()
    assert 'href="sms:+15550142"' in _text(client.get(f"/pairs/{pair.uuid}"))
    sponsorships.end(pair.sponsee, pair.uuid, "moved_on")
    page = _text(client.get(f"/pairs/{pair.uuid}"))
    assert "sms:" not in page and "tel:+15550142" not in page


def test_a_permanent_pair_is_not_offered_the_end_of_a_temporary_time(client, pair):
    _login(client, pair.sponsee)
    form = _text(client.get(f"/pairs/{pair.uuid}/end?reason=temporary_period_over"))
    assert 'value="moved_on"' in form and "temporary_period_over" not in form.split("<form")[1]
    assert "The temporary time is over" not in form
    res = client.post(f"/pairs/{pair.uuid}/end", data={"reason": "temporary_period_over"})
    assert res.status_code == 422
    assert _field_error(_text(res), "reason") == (
        "This sponsorship is permanent, so it has no temporary time to end."
    )
    db.session.refresh(pair)
    assert pair.status == "active"
    pair.sponsee.locale = "es"
    db.session.commit()
    refresh()  # the test's app context keeps the locale of its first request
    res = client.post(f"/pairs/{pair.uuid}/end", data={"reason": "temporary_period_over"})
    assert _field_error(_text(res), "reason") == (
        "Este apadrinamiento es permanente, así que no tiene un tiempo temporal que termine."
    )


def test_a_temporary_pairs_last_week_and_after_ask_both_homes_to_choose(
    client, make_program, make_member
):
    """From a week before its end date, and after it (nothing ends the pair by itself), each
    home leads to the choice; the pair page says the time is over once it is."""
    row = make_pair(
        make_member,
        make_program(),
        started_at=utcnow() - timedelta(days=85),
        kind="temporary",
        ends_on=date.today() + timedelta(days=10),
        tz="UTC",
    )
    contacts.log_contact(row.sponsee, row, kind="call", occurred_at=utcnow())  # no talk due
    db.session.commit()
    sponsee, sponsor = row.sponsee.display_name, row.sponsor.display_name
    _login(client, row.sponsor)
    assert "Choose what comes next" not in _text(client.get("/"))
    row.ends_on = date.today() + timedelta(days=6)
    db.session.commit()
    line = f'href="/pairs/{row.uuid}">Choose what comes next with {sponsee}</a>'
    assert line in _text(client.get("/"))
    _login(client, row.sponsee)
    assert f'href="/sponsor/mine">Choose what comes next with {sponsor}</a>' in _text(
        client.get("/")
    )
    page = _text(client.get(f"/pairs/{row.uuid}"))
    assert "A temporary sponsorship until" in page and "The temporary time is over" not in page
    row.ends_on = date.today() - timedelta(days=3)
    db.session.commit()
    page = _text(client.get(f"/pairs/{row.uuid}"))
    assert "Its time ended on" in page and "The temporary time is over" in page
    assert "Go on as a permanent pair" in page
    assert "Choose what comes next with" in _text(client.get("/"))
    client.post(f"/pairs/{row.uuid}/convert")
    home = _text(client.get("/"))
    assert "Choose what comes next" not in home and "My sponsor</a>" in home


def _temporary_pair_ending_today(make_program, make_member):
    return make_pair(
        make_member,
        make_program(),
        started_at=utcnow() - timedelta(days=90),
        kind="temporary",
        ends_on=date.today(),
    )


def test_a_temporary_pair_can_end_because_its_time_is_over(client, make_program, make_member):
    row = _temporary_pair_ending_today(make_program, make_member)
    _login(client, row.sponsor)
    form = _text(client.get(f"/pairs/{row.uuid}/end"))
    assert 'value="temporary_period_over"' in form and "The temporary time is over" in form
    res = client.post(f"/pairs/{row.uuid}/end", data={"reason": "temporary_period_over"})
    assert res.status_code == 302
    db.session.refresh(row)
    assert (row.status, row.end_reason) == ("ended", "temporary_period_over")


def test_a_pair_made_permanent_meanwhile_is_not_ended_as_temporary(make_program, make_member):
    """The kind is checked in the same update that ends the pair, not only before it."""
    from api.errors import Invalid

    row = _temporary_pair_ending_today(make_program, make_member)
    sponsee, pair_id = row.sponsee, row.uuid
    stale = sponsorships.sponsorship_for

    def convert_first(member, uuid):
        found = stale(member, uuid)
        db.session.execute(
            Sponsorship.__table__.update()
            .where(Sponsorship.id == found.id)
            .values(kind="permanent", ends_on=None)
        )
        return found  # still says "temporary": the other side converted a moment ago

    sponsorships.sponsorship_for = convert_first
    try:
        with pytest.raises(Invalid):
            sponsorships.end(sponsee, pair_id, "temporary_period_over")
    finally:
        sponsorships.sponsorship_for = stale
    db.session.expire_all()
    assert db.session.get(Sponsorship, row.id).status == "active"
