"""Signed links in emails (api/web/links.py): a GET only shows a button, a POST acts once, a used
link says what was recorded, a tampered or expired link gets a kind page with the crisis line;
"we talked" from both sides is one contact confirmed by both; the access log redacts them."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from itsdangerous import BadSignature
from sqlalchemy import func, select

from api.extensions import db
from api.models import AvailabilityCheck, Contact, Sponsorship, utcnow
from api.observability import redact_path
from api.services import proposals, sponsor_requests
from api.web import links
from api.web.links import link_path
from api.web.wording import DECLINE_REASONS
from tests.factories import PASSWORD
from tests.jobs.helpers import make_pair

CRISIS = "988"


def _contacts() -> int:
    return db.session.scalar(select(func.count()).select_from(Contact))


@pytest.fixture
def pair(make_program, make_member):
    program = make_program()
    pair = make_pair(make_member, program, started_at=utcnow() - timedelta(days=10), tz="UTC")
    pair.sponsor.display_name, pair.sponsee.display_name = "Elena A.", "Ana P."
    db.session.commit()
    return pair


@pytest.fixture
def ask(make_program, make_member):
    program = make_program()
    sponsor = make_member(program, "sponsor", display_name="Rita S.", sponsor={"capacity": 3})
    newcomer = make_member(program, "newcomer", display_name="Ana P.", phone="+1 555 0199")
    request = sponsor_requests.open_request(newcomer, program, {"temporary_ok": True})
    return proposals.ask(newcomer, request.uuid, sponsor_uuid=sponsor.uuid)


def test_talked_link_get_shows_a_button_and_post_logs_once(client, pair):
    path = link_path("talked", pair.sponsee, pair.uuid, "email:checkin:1")
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Yes, we talked today" in html and "Elena A." in html
    assert _contacts() == 0  # a link scanner opening the email logs nothing
    done = client.post(path)
    assert done.status_code == 200 and "Thank you — noted." in done.get_data(as_text=True)
    again = client.get(path).get_data(as_text=True)
    assert "Already noted." in again and "Yes, we talked today" not in again
    assert "Already noted." in client.post(path).get_data(as_text=True)
    assert _contacts() == 1
    assert db.session.scalar(select(Contact.source)) == "email"


def test_both_sides_saying_we_talked_is_one_contact_confirmed_by_both(client, pair):
    first = link_path("talked", pair.sponsor, pair.uuid, "email:checkin:sponsor")
    second = link_path("talked", pair.sponsee, pair.uuid, "email:checkin:sponsee")
    client.post(first)
    waiting = client.get(second).get_data(as_text=True)
    assert "Elena A. noted a talk on" in waiting and "one tap confirms it" in waiting
    html = client.post(second).get_data(as_text=True)
    assert "noted by both of you" in html
    contact = db.session.scalars(select(Contact)).one()
    assert contact.logged_by_id == pair.sponsor_id and contact.confirmed_by_id == pair.sponsee_id
    assert "Already noted." in client.get(second).get_data(as_text=True)
    assert _contacts() == 1


def test_the_api_logging_from_both_sides_confirms_the_first_contact(client, auth, pair):
    url = f"/api/v1/sponsorships/{pair.uuid}/contacts"
    now = utcnow().isoformat()
    one = client.post(url, json={"kind": "call", "occurred_at": now}, headers=auth(pair.sponsor))
    two = client.post(url, json={"kind": "call", "occurred_at": now}, headers=auth(pair.sponsee))
    assert one.status_code == two.status_code == 201
    assert two.json["id"] == one.json["id"] and two.json["confirmed_at"]
    # A log with a private note keeps its own row: the note is its author's.
    noted = {"kind": "call", "occurred_at": now, "note": "mine"}
    assert client.post(url, json=noted, headers=auth(pair.sponsee)).status_code == 201
    # Two days apart is not the same conversation.
    later = (utcnow() - timedelta(days=3)).isoformat()
    client.post(url, json={"kind": "text", "occurred_at": later}, headers=auth(pair.sponsor))
    assert _contacts() == 3


def test_available_link_answers_the_check_once(client, make_program, make_member):
    sponsor = make_member(make_program(), "sponsor")
    check = AvailabilityCheck(member_id=sponsor.id, period="2026-12", asked_at=utcnow())
    db.session.add(check)
    db.session.commit()
    path = link_path("available", sponsor, check.uuid, "email:avail:1")
    page = client.get(path).get_data(as_text=True)
    assert "still available" in page and "Please answer by" in page
    db.session.refresh(check)
    assert check.answered_at is None
    done = client.post(path).get_data(as_text=True)
    assert "You stay on the list" in done
    db.session.refresh(check)
    assert check.answer == "available"
    assert "Already answered" in client.get(path).get_data(as_text=True)


def test_ask_link_shows_the_ask_and_accepts_once(client, ask):
    path = link_path("ask", ask.sponsor, ask.uuid, "email:proposal:1")
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Ana P. would like you to be their sponsor" in html
    assert "Please answer by" in html and "+1 555 0199" not in html
    db.session.refresh(ask)
    assert ask.status == "pending"  # a GET never acts
    done = client.post(path, data={"answer": "accept"}).get_data(as_text=True)
    pair = db.session.scalars(select(Sponsorship)).one()
    assert "You said yes to Ana P." in done and "+1 555 0199" not in done
    assert f"/login?next=/pairs/{pair.uuid}" in done.replace("%2F", "/")
    client.post(path, data={"answer": "accept"})
    assert db.session.scalar(select(func.count()).select_from(Sponsorship)) == 1
    assert "You said yes to Ana P." in client.get(path).get_data(as_text=True)


def test_ask_link_declines_with_a_reason(client, ask):
    path = link_path("ask", ask.sponsor, ask.uuid, "email:proposal:2")
    page = html.unescape(client.get(path).get_data(as_text=True))
    for code in ("at_capacity", "unavailable_now"):  # the hint quotes the options as they read
        assert f"“{DECLINE_REASONS[code]}”" in page, code
    missing = client.post(path, data={"answer": "decline"})
    assert missing.status_code == 422 and 'id="reason-error"' in missing.get_data(as_text=True)
    db.session.refresh(ask)
    assert ask.status == "pending"
    done = client.post(path, data={"answer": "decline", "reason": "not_a_good_fit"})
    assert "Thank you for answering" in done.get_data(as_text=True)
    db.session.refresh(ask)
    assert ask.status == "declined" and ask.decline_reason == "not_a_good_fit"


def test_ask_link_after_the_deadline_says_so_and_accepts_nothing(client, ask):
    ask.deadline_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    path = link_path("ask", ask.sponsor, ask.uuid, "email:proposal:3")
    html = client.post(path, data={"answer": "accept"}).get_data(as_text=True)
    assert "The time to answer is over" in html
    assert db.session.scalar(select(func.count()).select_from(Sponsorship)) == 0


@pytest.mark.parametrize("kind", ["talked", "ask", "available"])
def test_tampered_and_expired_links_get_a_kind_page_with_the_crisis_line(client, pair, ask, kind):
    check = AvailabilityCheck(member_id=ask.sponsor_id, period="2026-11", asked_at=utcnow())
    db.session.add(check)
    db.session.commit()
    target = {"talked": pair.uuid, "ask": ask.uuid, "available": check.uuid}[kind]
    member = pair.sponsee if kind == "talked" else ask.sponsor
    path = link_path(kind, member, target, "email:x")
    token = path.rpartition("/")[2]
    tampered = client.post("/l/" + token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB"))
    html = tampered.get_data(as_text=True)
    assert tampered.status_code == 404 and "This link does not work" in html and CRISIS in html
    # A link of one kind cannot be replayed as another (a salt per kind).
    other = "ask" if kind == "talked" else "talked"
    with pytest.raises(BadSignature):
        links._serializer(other).loads(token)
    with time_machine.travel(datetime.now(UTC) - timedelta(days=15)):
        old = link_path(kind, member, target, "email:y")
    expired = client.post(old, data={"answer": "accept"})
    html = expired.get_data(as_text=True)
    assert expired.status_code == 409 and "This link has expired" in html and CRISIS in html
    assert _contacts() == 0 and check.answered_at is None
    assert db.session.scalar(select(func.count()).select_from(Sponsorship)) == 1  # the pair


def test_a_spanish_member_gets_the_page_in_spanish_without_logging_in(client, pair):
    pair.sponsee.locale = "es"
    db.session.commit()
    html = client.get(link_path("talked", pair.sponsee, pair.uuid, "k")).get_data(as_text=True)
    assert "¿Hablaron hoy?" in html and "Sí, hablamos hoy" in html


def test_a_logged_in_visitor_still_acts_only_as_the_links_member(client, pair, ask):
    """The link acts for the member it names, whoever's browser opens it."""
    client.post("/login", data={"email": ask.sponsor.email, "password": PASSWORD})
    client.post(link_path("talked", pair.sponsee, pair.uuid, "k2"))
    assert db.session.scalar(select(Contact.logged_by_id)) == pair.sponsee_id


def test_link_paths_are_redacted_in_the_access_log(pair):
    path = link_path("talked", pair.sponsee, pair.uuid, "email:checkin:log")
    assert redact_path(path) == "/l/<redacted>"
    assert "<redacted>" in redact_path("/contact-link/abc.def.ghi")


def test_old_contact_link_emails_keep_working(client, pair):
    from api.services.contacts import contact_link_token

    token = contact_link_token(pair.uuid, pair.sponsee.uuid, "email:checkin:old")
    assert "Yes, we talked today" in client.get(f"/contact-link/{token}").get_data(as_text=True)
    assert client.post(f"/contact-link/{token}").status_code == 200
    assert _contacts() == 1


def test_the_ask_email_link_answers_the_ask_from_a_phone_without_logging_in(client, smtp, ask):
    from jobs.deliver import deliver_due

    assert deliver_due(utcnow())["sent"] >= 1
    mail = next(m for m in smtp.messages if m["To"] == ask.sponsor.email)
    body = mail.get_content()
    link = next(line.strip() for line in body.splitlines() if "/l/" in line)
    path = link.partition("://")[2].partition("/")[2]
    assert "Please answer by" in body and f"{link}" in body
    assert "Ana P. would like you" in client.get("/" + path).get_data(as_text=True)
    client.post("/" + path, data={"answer": "accept"})
    pair = db.session.scalars(select(Sponsorship)).one()
    assert pair.sponsor_id == ask.sponsor_id and pair.sponsee_id == ask.newcomer_id


def test_other_email_links_go_through_login_and_back_to_the_page(client, pair):
    page = f"/pairs/{pair.uuid}"
    res = client.get(page)
    assert res.status_code == 302 and "/login" in res.location
    login = client.get(res.location).get_data(as_text=True)
    assert "next=" + page.replace("/", "%2F") in login  # the form keeps where to go back to
    back = client.post(res.location, data={"email": pair.sponsee.email, "password": PASSWORD})
    assert back.status_code == 302 and back.location.endswith(page)
