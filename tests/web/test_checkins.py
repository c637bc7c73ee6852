"""The daily check-in's pages: three taps and a private line, the result (the crisis line and
"let my sponsor know now" on a hard day), the two choices, and the sponsor's view of the pair."""

from __future__ import annotations

import html as entities
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from api.extensions import db
from api.models import CheckInChoice, DailyCheckIn, Notification, utcnow
from api.services import checkins
from tests.factories import PASSWORD
from tests.jobs.helpers import make_pair

HARD = {"mood": "2", "cravings": "strong", "meeting": "no", "note": "I almost called him"}


def _login(client, member):
    res = client.post("/login", data={"email": member.email, "password": PASSWORD})
    assert res.status_code == 302


def _text(res) -> str:
    return entities.unescape(res.get_data(as_text=True))


def _main(res) -> str:
    return re.search(r"<main.*</main>", _text(res), re.S).group(0)


@pytest.fixture
def pair(make_program, make_member):
    row = make_pair(make_member, make_program(), started_at=utcnow() - timedelta(days=5))
    row.sponsor.display_name, row.sponsee.display_name = "Rita S.", "Ana P."
    db.session.commit()
    return row


def test_the_check_in_page_asks_three_things_and_offers_a_private_line(client, pair):
    _login(client, pair.sponsee)
    page = _text(client.get("/checkin"))
    assert "How is today going?" in page and "Cravings today" in page
    assert "Did you go to a meeting today?" in page
    assert page.count('type="radio" name="mood"') == 5
    assert "Only you can read it: not your sponsor, not your coordinator." in page
    assert "Your sponsor sees your three answers, never your private line." in page
    assert "No daily reminder." in page
    assert 'href="/checkin"' in page  # in the menu


def test_unanswered_questions_are_shown_beside_each_and_nothing_is_saved(client, pair):
    _login(client, pair.sponsee)
    res = client.post("/checkin", data={"mood": "3", "note": "kept"})
    assert res.status_code == 422
    page = _text(res)
    for name in ("cravings", "meeting"):
        assert f'<p class="field-error" id="{name}-error">Choose one of the options.</p>' in page
    assert 'id="mood-error"' not in page and "kept" in page  # what was typed stays
    empty = _text(client.post("/checkin", data={}))
    assert '<p class="field-error" id="mood-error">Choose one of the options.</p>' in empty
    wrong = _text(client.post("/checkin", data={"mood": "9", "cravings": "none"}))
    assert 'id="mood-error">Choose one of the options.' not in wrong  # a wrong value says why
    assert db.session.scalar(select(DailyCheckIn)) is None


def test_a_hard_day_shows_the_crisis_line_and_lets_the_sponsor_know(client, pair):
    _login(client, pair.sponsee)
    res = client.post("/checkin", data=HARD)
    assert res.status_code == 302 and res.headers["Location"] == "/checkin/done"
    done = client.get("/checkin/done")
    main = _main(done)
    assert "You don't have to get through today alone" in main
    assert 'href="tel:988"' in main  # the crisis line, inside the page itself
    assert "Would you like Rita S. to call you today?" in main
    assert "we will let them know today anyway" in main
    row = db.session.scalar(select(DailyCheckIn))
    res = client.post(f"/checkin/{row.uuid}/tell-sponsor")
    assert res.status_code == 302
    main = _main(client.get("/checkin/done"))
    assert "We let Rita S. know." in main
    assert "We told Rita S. If you need someone right now, call them or the crisis line." in main
    assert "reach out today" not in main  # never a promise made for the sponsor
    assert "Let my sponsor know now" not in main
    kinds = db.session.scalars(
        select(Notification.kind).where(Notification.member_id == pair.sponsor_id)
    )
    assert list(kinds) == ["checkin.reach_out"]


def test_a_hard_day_without_a_sponsor_offers_the_way_to_one(client, make_program, make_member):
    program = make_program()
    newcomer = make_member(program, "newcomer")
    _login(client, newcomer)
    client.post("/checkin", data=HARD)
    main = _main(client.get("/checkin/done"))
    assert "A sponsor can help on days like this." in main
    assert '<a href="/sponsor">Find a sponsor</a>' in main and "coordinator" not in main
    sponsor = make_member(program, "sponsor")  # not a newcomer: no page to ask from
    _login(client, sponsor)
    client.post("/checkin", data=HARD)
    main = _main(client.get("/checkin/done"))
    assert "Calling someone from your group helps too." in main
    assert "Find a sponsor" not in main and "coordinator" not in main


def test_an_ordinary_day_is_just_noted_and_can_be_changed(client, pair):
    _login(client, pair.sponsee)
    client.post("/checkin", data={"mood": "4", "cravings": "none", "meeting": "yes"})
    main = _main(client.get("/checkin/done"))
    assert "Noted. See you tomorrow." in main and "Let my sponsor know" not in main
    again = _text(client.get("/checkin"))
    assert "You checked in today." in again
    assert re.search(r'value="4" checked', again) and re.search(r'value="yes" checked', again)
    client.post("/checkin", data={"mood": "5", "cravings": "none", "meeting": "yes"})
    assert [r.mood for r in db.session.scalars(select(DailyCheckIn))] == [5]


def test_choices_turn_the_reminder_on_and_the_sharing_off(client, pair):
    _login(client, pair.sponsee)
    page = _text(client.get("/checkin/choices"))
    assert 'name="shared" value="y" checked' in page
    assert 'name="reminders" value="y" checked' not in page
    res = client.post("/checkin/choices", data={"reminders": "y"})
    assert res.status_code == 302
    row = db.session.get(CheckInChoice, pair.sponsee_id)
    assert (row.reminders, row.shared) == (True, False)
    page = _text(client.get("/checkin"))
    assert "Only you see your check-ins." in page and "We remind you once a day." in page


def test_the_sponsor_sees_the_answers_on_the_pair_page_never_the_line(client, pair):
    checkins.record(
        pair.sponsee, {"mood": 1, "cravings": "strong", "meeting": False, "note": "SECRET-LINE"}
    )
    _login(client, pair.sponsor)
    page = _text(client.get(f"/pairs/{pair.uuid}"))
    assert "How Ana P. has been" in page
    assert "Very hard" in page and "Strong" in page
    assert "SECRET-LINE" not in page
    assert 'aria-label="We talked"' in page  # and can log a contact right there


def test_the_sponsee_sees_on_the_pair_page_what_the_sponsor_sees(client, pair):
    _login(client, pair.sponsee)
    page = _text(client.get(f"/pairs/{pair.uuid}"))
    assert "Your sponsor sees the three answers of your daily check-in" in page
    assert "How Ana P. has been" not in page


def test_the_result_page_speaks_spanish(client, pair):
    pair.sponsee.locale = "es"
    db.session.commit()
    _login(client, pair.sponsee)
    client.post("/checkin", data=HARD)
    main = _main(client.get("/checkin/done"))
    assert "No tienes que pasar este día a solas" in main
    assert "Avisar ahora a mi padrino o madrina" in main


def _reach(res) -> str:
    return re.search(r'<section class="card reach".*?</section>', _text(res), re.S).group(0)


def test_a_hard_day_in_spanish_gives_the_numbers_at_once_and_the_sponsors_own(client, pair):
    pair.sponsee.locale = "es"
    pair.sponsor.phone, pair.sponsor.contact_modes = "+1 555 0142", ["phone", "text"]
    db.session.commit()
    _login(client, pair.sponsee)
    client.post("/checkin", data={"mood": "1", "cravings": "strong", "meeting": "no"})
    reach = _reach(client.get("/checkin/done"))
    # the numbers come straight after "call now:", without the banner's disclaimer
    now = re.search(r"llama ahora:</p>\s*<p[^>]*>(.*?)</p>", reach, re.S).group(1)
    assert now == '<a href="tel:988">988</a> · <a href="tel:18006624357">1-800-662-4357</a>'
    assert "servicio de crisis" not in reach
    assert '<a class="button secondary" href="tel:+15550142">Llamar a Rita S.</a>' in reach
    assert '<a class="button secondary" href="sms:+15550142">Mandar un mensaje a Rita S.</a>' in (
        reach
    )
    row = db.session.scalar(select(DailyCheckIn))
    client.post(f"/checkin/{row.uuid}/tell-sponsor")
    done = client.get("/checkin/done")
    reach = _reach(done)
    assert "Le avisamos a Rita S." in _main(done)  # the flash says what happened
    assert (
        "Le avisamos a Rita S. Si necesitas a alguien ahora mismo, llama a Rita S. o a la línea "
        "de crisis." in reach
    )
    assert "Se pondrá en contacto" not in _main(done) and "hoy" not in reach
    assert 'href="tel:+15550142"' in reach  # the way to call is still there


@pytest.mark.parametrize(
    ("phone", "modes", "call", "text"),
    [
        ("+1 555 0142", ["phone"], True, False),  # no texts: a call only
        (None, ["phone", "text"], False, False),  # no phone given: nothing to tap
    ],
)
def test_the_sponsors_buttons_follow_what_they_gave(client, pair, phone, modes, call, text):
    pair.sponsor.phone, pair.sponsor.contact_modes = phone, modes
    db.session.commit()
    _login(client, pair.sponsee)
    client.post("/checkin", data=HARD)
    reach = _reach(client.get("/checkin/done"))
    assert ("Call Rita S." in reach) is call
    assert ("Text Rita S." in reach) is text
    assert 'href="tel:988"' in reach
    row = db.session.scalar(select(DailyCheckIn))
    client.post(f"/checkin/{row.uuid}/tell-sponsor")
    told = _reach(client.get("/checkin/done"))
    assert ("call them or the crisis line" in told) is call
    assert ("call the crisis line." in told) is not call


def test_an_ended_pair_shows_no_phone_on_a_hard_day(client, pair):
    from api.services import sponsorships

    sponsorships.end(pair.sponsee, pair.uuid, "moved_on")
    _login(client, pair.sponsee)
    client.post("/checkin", data=HARD)
    reach = _reach(client.get("/checkin/done"))
    assert "Call Rita S." not in reach and "sms:" not in reach
    assert 'href="tel:988"' in reach


def test_phone_numbers_never_break_across_lines(app):
    css = (Path(app.static_folder) / "app.css").read_text()
    assert re.search(r'a\[href\^="tel:"\][^{]*\{[^}]*white-space: nowrap', css)
