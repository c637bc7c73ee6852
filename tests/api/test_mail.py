"""What each email says (api/mail.py), delivered through a real SMTP server: the page link, the
deadline in the reader's own zone and language, subjects that differ by kind and never name
recovery, and previews free of recovery words in English and Spanish."""

from __future__ import annotations

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_time
from sqlalchemy import update

from api.extensions import db
from api.mail import notification_text, sentences
from api.models import (
    AvailabilityCheck,
    MissedContactFlag,
    Notification,
    OutboxMessage,
    Sponsorship,
    utcnow,
)
from api.services import proposals, sponsor_requests
from api.services.notify import notify
from jobs.deliver import deliver_due
from tests.api.test_trust_mail import RECOVERY_WORDS

PREVIEW = 140
RECOVERY_WORDS_ES = re.compile(
    r"padrin|madrina|ahijad|recuper|sobri|reca[ií]da|adicc|alcohol|droga|bebida|reuni[oó]n|"
    r"\bAA\b|\bNA\b|an[oó]nim|reci[eé]n llegad|pasos?\b|comunidad",
    re.IGNORECASE,
)
SPONSOR_ZONE, NEWCOMER_ZONE, COORD_ZONE = "America/Los_Angeles", "Europe/Madrid", "Asia/Tokyo"


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("Please reach Elena A.", "Please reach out today."), "Please reach Elena A. Please"),
        (("Your next option is Elena A..",), "Your next option is Elena A."),
        (("Wait...", "then go."), "Wait... then go."),
        (("  One.  ", "", "Two."), "One. Two."),
    ],
)
def test_sentences_never_double_the_stop_after_a_name(parts, expected):
    assert sentences(*parts).startswith(expected)
    assert ".." not in sentences(*parts).replace("...", "")


@pytest.fixture
def scene(make_program, make_member):
    """An ask waiting for Elena A. (Los Angeles), a temporary pair (Madrid / Los Angeles) with an
    open flag, a monthly check, and a coordinator in Tokyo."""
    program = make_program(name="Tuesday Night AA Intergroup")
    coordinator = make_member(program, "coordinator", display_name="Cora D.", time_zone=COORD_ZONE)
    sponsor = make_member(
        program, "sponsor", display_name="Elena A.", time_zone=SPONSOR_ZONE, sponsor={"capacity": 3}
    )
    newcomer = make_member(program, "newcomer", display_name="Ana P.", time_zone=NEWCOMER_ZONE)
    request = sponsor_requests.open_request(newcomer, program, {"temporary_ok": True})
    proposal = proposals.ask(newcomer, request.uuid, sponsor_uuid=sponsor.uuid)
    partner = make_member(program, "newcomer", display_name="Bea R.", time_zone=NEWCOMER_ZONE)
    now = utcnow()
    pair = Sponsorship(
        program_id=program.id,
        sponsor_id=sponsor.id,
        sponsee_id=partner.id,
        kind="temporary",
        started_at=now - timedelta(days=80),
        ends_on=date.today() + timedelta(days=7),
        contact_due_at=now + timedelta(hours=5),
    )
    db.session.add(pair)
    db.session.flush()
    flag = MissedContactFlag(
        sponsorship_id=pair.id, program_id=program.id, level=3, due_at=now, level3_at=now
    )
    check = AvailabilityCheck(member_id=sponsor.id, period=now.strftime("%Y-%m"), asked_at=now)
    db.session.add_all([flag, check])
    db.session.commit()
    db.session.execute(update(OutboxMessage).values(status="sent"))  # the ask's own mail
    db.session.commit()
    return {
        "program": program,
        "coordinator": coordinator,
        "sponsor": sponsor,
        "newcomer": newcomer,
        "partner": partner,
        "request": request,
        "proposal": proposal,
        "pair": pair,
        "flag": flag,
        "check": check,
    }


def _cases(s):
    """(event, recipient, data as the service writes it, the link's path, the moment that
    must appear in local time or None)."""
    pair, proposal, check = s["pair"], s["proposal"], s["check"]
    pair_page = f"/pairs/{pair.uuid}"
    p_data = {"proposal_id": str(proposal.uuid)}
    pairing = {"sponsorship_id": str(pair.uuid)}
    program_uuid = s["program"].uuid
    option = {"sponsor": {"display_name": "Rita S."}}
    request_data = {"request_id": str(s["request"].uuid), "next_option": option}
    return [
        ("match.proposed", "sponsor", p_data, "/l/", proposal.deadline_at),
        ("match.ask_reminder", "sponsor", p_data, "/l/", proposal.deadline_at),
        ("match.accepted", "partner", pairing, pair_page, None),
        ("match.declined", "newcomer", request_data, "/sponsor", None),
        ("match.expired", "newcomer", {**request_data, "next_option": None}, "/sponsor", None),
        ("match.expired", "sponsor", p_data, "/asks", None),
        ("match.withdrawn", "sponsor", p_data, "/asks", None),
        ("round.published", "newcomer", p_data, "/sponsor", proposal.deadline_at),
        (
            "match.shortlist_empty",
            "coordinator",
            {"request_id": str(s["request"].uuid)},
            f"/coordinator/{program_uuid}/members",
            None,
        ),
        (
            "match.waiting_long",
            "coordinator",
            {"waiting": [{"request_id": str(s["request"].uuid), "weeks": 2}]},
            f"/coordinator/{program_uuid}/members/{s['newcomer'].uuid}",
            None,
        ),
        ("pair.started", "sponsor", pairing, pair_page, None),
        ("pair.ended", "partner", pairing, pair_page, None),
        ("pair.converted", "partner", pairing, pair_page, None),
        ("pair.term_ending", "partner", {"sponsorship": str(pair.uuid)}, pair_page, None),
        ("checkin.due", "partner", {"sponsorship": str(pair.uuid)}, "/l/", pair.contact_due_at),
        ("checkin.due", "sponsor", {"sponsorship": str(pair.uuid)}, "/l/", pair.contact_due_at),
        ("contact.overdue", "partner", {"sponsorship": str(pair.uuid), "level": 1}, "/l/", None),
        ("contact.overdue", "sponsor", {"sponsorship": str(pair.uuid), "level": 2}, "/l/", None),
        (
            "contact.escalated",
            "coordinator",
            {"sponsorship": str(pair.uuid), "flag": str(s["flag"].uuid), "level": 3},
            f"/programs/{program_uuid}/escalations",
            s["flag"].level3_at,
        ),
        ("contact.coordinator_message", "partner", pairing, pair_page, None),
        ("availability.check", "sponsor", {"check": str(check.uuid)}, "/l/", check.asked_at),
        (
            "availability.paused",
            "coordinator",
            {"check": str(check.uuid), "member": str(s["sponsor"].uuid)},
            f"/coordinator/{program_uuid}/members/{s['sponsor'].uuid}",
            None,
        ),
        ("availability.paused", "sponsor", {}, "/sponsoring", None),
        ("member.paused", "sponsor", {"check": str(check.uuid)}, "/sponsoring", None),
        (
            "member.paused",
            "coordinator",
            {"member_id": str(s["sponsor"].uuid)},
            f"/coordinator/{program_uuid}/members/{s['sponsor'].uuid}",
            None,
        ),
    ]


def _deliver_one(smtp, member, event, data, key, program):
    notify(
        member,
        event,
        key=key,
        title="Stored title",
        body="Stored body.",
        data=data,
        program=program,
    )
    db.session.commit()
    before = len(smtp.messages)
    assert deliver_due(utcnow())["sent"] == 1
    # Spread the test's mail over the past, under the hourly cap of one person's email.
    db.session.execute(update(OutboxMessage).values(created_at=utcnow() - timedelta(hours=2)))
    db.session.commit()
    (message,) = smtp.messages[before:]
    return message


def _local(moment, zone: str, locale: str) -> str:
    return format_time(moment, "short", tzinfo=ZoneInfo(zone), locale=locale)


@pytest.mark.parametrize("locale", ["en", "es"])
def test_every_email_links_its_page_with_the_deadline_in_local_time(scene, smtp, locale):
    zones = {"sponsor": SPONSOR_ZONE, "newcomer": NEWCOMER_ZONE, "partner": NEWCOMER_ZONE}
    zones["coordinator"] = COORD_ZONE
    for role in zones:
        scene[role].locale = locale
    db.session.commit()
    subjects: dict[tuple, str] = {}
    for i, (event, role, data, path, moment) in enumerate(_cases(scene)):
        member = scene[role]
        mail = _deliver_one(smtp, member, event, data, f"case:{locale}:{i}", scene["program"])
        body = mail.get_content().replace("\r\n", "\n")
        where = f"{event} to {role}"
        assert "Stored title" not in body, where  # composed, not the stored English
        assert "Stored body" not in body or event == "contact.coordinator_message", where
        links = re.findall(r"^https?://[^/\s]+(/\S*)$", body, re.MULTILINE)
        assert any(link.startswith(path) for link in links[1:]), (where, links)
        if moment is not None:
            if event == "availability.check":
                moment = moment + timedelta(days=7)  # the programme's answer time
            assert _local(moment, zones[role], locale) in body, (where, body)
        assert ".." not in body.replace("...", ""), body
        subject = mail["Subject"]
        assert not RECOVERY_WORDS.search(subject) and not RECOVERY_WORDS_ES.search(subject)
        preview = body[:PREVIEW]
        assert not RECOVERY_WORDS.search(preview) and not RECOVERY_WORDS_ES.search(preview)
        subjects[(event, role, data.get("level"))] = subject.rpartition(" · ")[0]
    # Different kinds of note get different subjects (so clients do not thread them together).
    kinds = {
        ("match.proposed", "sponsor", None),
        ("match.ask_reminder", "sponsor", None),
        ("match.accepted", "partner", None),
        ("match.declined", "newcomer", None),
        ("match.withdrawn", "sponsor", None),
        ("round.published", "newcomer", None),
        ("match.waiting_long", "coordinator", None),
        ("pair.started", "sponsor", None),
        ("pair.ended", "partner", None),
        ("pair.term_ending", "partner", None),
        ("checkin.due", "partner", None),
        ("contact.overdue", "partner", 1),
        ("contact.overdue", "sponsor", 2),
        ("contact.escalated", "coordinator", 3),
        ("contact.coordinator_message", "partner", None),
        ("availability.check", "sponsor", None),
        ("availability.paused", "coordinator", None),
        ("member.paused", "sponsor", None),
    }
    assert len({subjects[k] for k in kinds}) == len(kinds), subjects


def test_a_spanish_reader_gets_spanish_with_dates_in_spanish(scene, smtp):
    sponsor = scene["sponsor"]
    sponsor.locale = "es"
    db.session.commit()
    data = {"proposal_id": str(scene["proposal"].uuid)}
    mail = _deliver_one(smtp, sponsor, "match.proposed", data, "es:1", scene["program"])
    body = mail.get_content()
    deadline = scene["proposal"].deadline_at.astimezone(ZoneInfo(SPONSOR_ZONE))
    month = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto"]
    month += ["septiembre", "octubre", "noviembre", "diciembre"]
    assert f"{deadline.day} de {month[deadline.month - 1]}" in body
    assert f"a las {deadline:%H:%M}" in body or f"a las {deadline.hour}:{deadline:%M}" in body
    assert "Hola" in body and "responde antes del" in body and "Please" not in body
    assert "Elena" not in body and "Ana P." in body
    assert mail["Subject"].split(" · ")[0] == "Alguien espera tu respuesta"
    assert mail["From"].startswith("Tu grupo <")  # the default sender name, in Spanish
    assert "988" in body and "Not a crisis" not in body  # the default crisis line, in Spanish


def test_a_date_in_another_year_carries_its_year(scene, smtp):
    sponsor, proposal = scene["sponsor"], scene["proposal"]
    data = {"proposal_id": str(proposal.uuid)}
    deadline = proposal.deadline_at.astimezone(ZoneInfo(SPONSOR_ZONE))
    body = _deliver_one(smtp, sponsor, "match.proposed", data, "y:1", scene["program"])
    body = body.get_content()
    if deadline.year == utcnow().astimezone(ZoneInfo(SPONSOR_ZONE)).year:
        assert str(deadline.year) not in body  # this year's dates stay short
    proposal.deadline_at += timedelta(days=366)
    db.session.commit()
    body = _deliver_one(smtp, sponsor, "match.proposed", data, "y:2", scene["program"])
    assert f"{proposal.deadline_at.astimezone(ZoneInfo(SPONSOR_ZONE)).year}" in body.get_content()


def test_unknown_or_missing_objects_keep_the_stored_text(scene, smtp):
    member = scene["sponsor"]
    data = {"proposal_id": "00000000-0000-0000-0000-000000000000"}
    mail = _deliver_one(smtp, member, "match.proposed", data, "gone:1", scene["program"])
    assert "Stored title" in mail.get_content()
    mail = _deliver_one(smtp, member, "account.digest", {}, "digest:1", scene["program"])
    assert "Stored title" in mail.get_content()


def test_notifications_read_in_the_members_language(scene, client):
    from tests.factories import PASSWORD

    sponsor = scene["sponsor"]
    sponsor.locale = "es"
    db.session.commit()
    note = db.session.query(Notification).filter_by(member_id=sponsor.id).one()
    title, body, page = notification_text(note, sponsor)
    assert title == "A Ana P. le gustaría que fueras su padrino o madrina" and page == "/asks"
    client.post("/login", data={"email": sponsor.email, "password": PASSWORD})
    html = client.get("/notifications").get_data(as_text=True)
    assert "A Ana P. le gustaría que fueras su padrino o madrina" in html
    assert "Someone would like you to sponsor them" not in html


def test_a_newcomer_hears_who_was_asked_for_them_or_their_next_option(scene):
    from api.mail import compose

    newcomer = scene["newcomer"]
    option = {"sponsor": {"display_name": "Rita S."}}
    stored = {"data": {"request_id": str(scene["request"].uuid), "next_option": option}}
    letter = compose(newcomer, "match.declined", stored, email=False)
    assert "We asked Elena A. for you and will let you know." in letter.body
    assert letter.page == "/sponsor" and letter.url == "/sponsor"  # no signed link in the app
    scene["proposal"].status = "declined"
    db.session.commit()
    letter = compose(newcomer, "match.declined", stored, email=False)
    assert letter.body.endswith("You can ask Rita S. next; nobody has been asked yet.")
