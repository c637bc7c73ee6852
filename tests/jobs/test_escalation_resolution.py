"""A resolved escalation is not silent: coordinators hear who resolved it and how, and the
pair's "please reach X today" notifications stop standing in their list (issue 14, finding 6).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from api.models import MissedContactFlag, Notification
from api.services import escalations, sponsorships
from api.services.contacts import log_contact
from jobs.missed_contact import flag_missed_contacts
from tests.jobs.helpers import make_pair

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # 09:00 in New York


def _escalated(db, make_member, program):
    """A pair that went quiet up to level 3 (both sides told, the coordinators asked)."""
    pair = make_pair(make_member, program, started_at=T0)
    due = pair.contact_due_at
    for step in range(0, 4 * 20):
        now = due + timedelta(hours=6 * step)
        flag_missed_contacts(now)
        flag = db.session.scalar(select(MissedContactFlag))
        if flag is not None and flag.level == 3:
            return pair, flag, now
    raise AssertionError("the pair never reached level 3")


def _notes(db, member, kind=None) -> list[Notification]:
    db.session.expire_all()
    query = select(Notification).where(Notification.member_id == member.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query.order_by(Notification.id)))


def test_a_coordinator_resolving_tells_the_others_who_and_how_and_clears_the_pair(
    db, make_program, make_member
):
    program = make_program()
    first = make_member(program, "coordinator", display_name="Rosa M.")
    second = make_member(program, "coordinator", display_name="Luis T.")
    pair, flag, _ = _escalated(db, make_member, program)
    reach = _notes(db, pair.sponsor, "contact.overdue")
    assert any(n.title.startswith("Please reach") for n in reach)
    assert any(n.read_at is None for n in reach)

    escalations.resolve(program, first, flag.uuid, "Called them both; they meet on Sunday.")

    told = _notes(db, second, "contact.resolved")
    assert len(told) == 1
    assert "Rosa M. resolved it" in told[0].body
    assert "Called them both; they meet on Sunday." in told[0].body
    assert pair.sponsee.display_name in told[0].body
    assert told[0].data["resolution"] == "coordinator" and told[0].data["by"] == str(first.uuid)
    assert _notes(db, first, "contact.resolved") == []  # the one who resolved it knows
    assert all(n.read_at is not None for n in _notes(db, pair.sponsor, "contact.overdue"))
    assert all(n.read_at is not None for n in _notes(db, pair.sponsee, "contact.overdue"))
    assert all(n.read_at is not None for n in _notes(db, second, "contact.escalated"))


def test_a_logged_contact_resolving_the_escalation_is_reported_with_who_logged_it(
    db, make_program, make_member
):
    program = make_program()
    coord = make_member(program, "coordinator")
    pair, flag, now = _escalated(db, make_member, program)
    log_contact(pair.sponsee, pair, kind="call", occurred_at=now, now=now)
    (told,) = _notes(db, coord, "contact.resolved")
    assert f"{pair.sponsee.display_name} logged a contact" in told.body
    assert told.data["resolution"] == "contact"
    assert all(n.read_at is not None for n in _notes(db, pair.sponsor, "contact.overdue"))
    flag_missed_contacts(now + timedelta(hours=1))  # a later sweep tells nobody again
    assert len(_notes(db, coord, "contact.resolved")) == 1


def test_ending_an_escalated_pair_is_reported_too(db, make_program, make_member):
    program = make_program()
    coord = make_member(program, "coordinator")
    pair, flag, now = _escalated(db, make_member, program)
    sponsorships.end(pair.sponsor, pair.uuid, "lost_contact", now=now)
    (told,) = _notes(db, coord, "contact.resolved")
    assert f"{pair.sponsor.display_name} ended the sponsorship" in told.body


def test_the_coordinator_notices_read_in_their_language_with_names_told_apart_and_a_link(
    db, app, make_program, make_member
):
    from api.mail import compose

    program = make_program()
    coord = make_member(program, "coordinator", locale="es")
    resolver = make_member(program, "coordinator", display_name="Rosa M.")
    pair, flag, _ = _escalated(db, make_member, program)
    make_member(program, "newcomer", display_name=pair.sponsee.display_name)  # a namesake
    escalations.resolve(program, resolver, flag.uuid, "Llamé a los dos.")
    (note,) = _notes(db, coord, "contact.resolved")
    stored = {"title": note.title, "body": note.body, "data": note.data}
    with app.test_request_context("/"):
        letter = compose(coord, note.kind, stored, key=note.dedupe_key, program=program)
    assert "ya no están en la lista de casos a revisar" in letter.title
    assert f"{pair.sponsee.display_name} (se unió" in letter.title  # told apart, in Spanish
    assert "Rosa M. lo resolvió." in letter.body
    assert "Lo que se hizo: Llamé a los dos." in letter.body
    assert letter.url.endswith(f"/coordinator/{program.uuid}/members/{pair.sponsor.uuid}")
