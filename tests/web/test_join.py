"""The way in: a join code (any letter case), an account through the sign-up service, the
emailed link, then three profile steps saved through the profile service."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask_babel import refresh
from sqlalchemy import select

from api.models import Member, Membership, OutboxMessage
from tests.factories import PASSWORD
from tests.signup import verification_token

ACCOUNT = {
    "roles": "newcomer",
    "display_name": "Ana P.",
    "email": "ana@example.test",
    "password": "a long password",
    "time_zone": "America/Mexico_City",
}


def _field_error(html: str, name: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="{name}-error">([^<]*)</p>', html)
    return found.group(1) if found else None


def _login(client, member):
    assert client.post("/login", data={"email": member.email, "password": PASSWORD}).status_code
    return member


# ---- join code ---------------------------------------------------------------------------


def test_the_join_code_is_matched_whatever_the_letter_case(client, make_program):
    program = make_program(join_code="River-Group-7")
    for typed in ("river-group-7", "RIVER-GROUP-7", "  River-Group-7 "):
        res = client.post("/join", data={"join_code": typed})
        assert res.status_code == 302, typed
        assert res.headers["Location"] == "/join/River-Group-7"
    page = client.get("/join/river-group-7")
    assert page.status_code == 200
    assert f"Join {program.name}" in page.get_data(as_text=True)


def test_the_sign_up_api_matches_codes_case_insensitively_too(client, db, make_program):
    program = make_program(join_code="River-Group-7")
    res = client.post(
        "/api/v1/auth/signup",
        json={"join_code": "RIVER-group-7", "email": "x@example.test", "password": "a" * 12,
              "display_name": "Jo P."},
    )  # fmt: skip
    assert res.status_code == 202
    member = db.session.scalar(select(Member).where(Member.email == "x@example.test"))
    assert member.memberships[0].program_id == program.id


def test_an_unknown_code_is_said_beside_the_field(client, make_program):
    make_program(join_code="River-Group-7")
    res = client.post("/join", data={"join_code": "nothing-like-it"})
    assert res.status_code == 422
    assert "We don&#39;t know this code" in _field_error(res.get_data(as_text=True), "join_code")
    missing = client.get("/join/nothing-like-it")
    assert missing.status_code == 404
    assert 'value="nothing-like-it"' in missing.get_data(as_text=True)
    short = client.post("/join", data={"join_code": "ab"})
    assert "We don&#39;t know this code" in _field_error(short.get_data(as_text=True), "join_code")
    empty = client.post("/join", data={"join_code": ""})
    assert _field_error(empty.get_data(as_text=True), "join_code") == "Please fill this in."


def test_a_sign_up_sent_after_its_code_was_renewed_keeps_what_was_typed(client, db, make_program):
    program = make_program(join_code="River-Group-7")
    assert client.get("/join/River-Group-7").status_code == 200  # the form is open ...
    program.join_code = "Hill-Group-9"  # ... while the coordinator renews the code
    db.session.commit()
    res = client.post("/join/River-Group-7", data=ACCOUNT)
    assert res.status_code == 422
    html = res.get_data(as_text=True)
    assert "Your group may have a new one" in _field_error(html, "join_code")
    assert 'href="#join_code"' in html  # the summary at the top points to the code box
    for name in ("display_name", "email"):
        assert f'value="{ACCOUNT[name]}"' in html, name
    assert 'value="America/Mexico_City" selected' in html
    assert ACCOUNT["password"] not in html
    assert db.session.scalar(select(Member).where(Member.email == ACCOUNT["email"])) is None
    # the new code typed in the box, the password again: the account is made in that programme
    res = client.post("/join/River-Group-7", data={**ACCOUNT, "join_code": "hill-group-9"})
    assert res.status_code == 302 and res.headers["Location"] == "/check-your-email"
    member = db.session.scalar(select(Member).where(Member.email == ACCOUNT["email"]))
    assert member.memberships[0].program_id == program.id
    # a code still nobody's is said again, and nothing is made
    again = client.post("/join/River-Group-7", data={**ACCOUNT, "email": "b@example.test",
                                                     "join_code": "nope-nope"})  # fmt: skip
    assert again.status_code == 422 and 'value="nope-nope"' in again.get_data(as_text=True)
    assert db.session.scalar(select(Member).where(Member.email == "b@example.test")) is None


def test_guessing_codes_by_address_is_limited_but_a_real_link_is_not(app, client, make_program):
    make_program(join_code="River-Group-7")
    old = app.config["LOGIN_RATE_LIMIT"]
    app.config["LOGIN_RATE_LIMIT"] = "3/minute"
    try:
        for _ in range(5):
            assert client.get("/join/River-Group-7").status_code == 200
        misses = [client.get(f"/join/guess-{n}").status_code for n in range(4)]
        assert misses == [404, 404, 404, 429]
    finally:
        app.config["LOGIN_RATE_LIMIT"] = old
        from api.extensions import limiter

        limiter.reset()


# ---- account -----------------------------------------------------------------------------


def test_the_account_form_asks_only_for_a_first_name_and_initial(client, make_program):
    make_program(join_code="River-Group-7")
    html = client.get("/join/River-Group-7").get_data(as_text=True)
    assert "Ana P." in html  # the example of the form a name takes
    for name in ("display_name", "email", "password", "roles", "time_zone"):
        assert f'name="{name}"' in html
    for asked in ("surname", "last_name", "address", "photo"):
        assert f'name="{asked}"' not in html
    assert 'type="file"' not in html
    assert "I'm looking for a sponsor" in html and "I'd like to sponsor" in html
    assert "timezone.js" in html


def test_sign_up_says_check_your_email_and_the_link_leads_to_the_profile(client, db, make_program):
    program = make_program(join_code="River-Group-7")
    res = client.post("/join/river-group-7", data={**ACCOUNT, "roles": "both"})
    assert res.status_code == 302 and res.headers["Location"] == "/check-your-email"
    page = client.get("/check-your-email").get_data(as_text=True)
    assert "We sent a message to ana@example.test" in page
    assert 'href="/join/River-Group-7"' in page  # to sign up again with another address

    member = db.session.scalar(select(Member).where(Member.email == ACCOUNT["email"]))
    assert member.display_name == "Ana P." and member.time_zone == "America/Mexico_City"
    membership = db.session.scalar(select(Membership).where(Membership.member_id == member.id))
    assert membership.program_id == program.id
    assert membership.is_newcomer and membership.is_sponsor

    opened = client.get(f"/verify/{verification_token(ACCOUNT['email'])}")
    assert opened.status_code == 302 and opened.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"] == "/profile/about-you"
    step = client.get("/profile/about-you").get_data(as_text=True)
    assert "Step 1 of 3" in step and "Your email address is confirmed" in step


def test_without_javascript_sign_up_starts_at_the_zone_most_of_the_group_keeps(
    client, db, make_program, make_member
):
    program = make_program(join_code="River-Group-7")
    for zone in ("America/Chicago", "America/Chicago", "Europe/Madrid", "UTC", "UTC", "UTC"):
        make_member(program, "sponsor", time_zone=zone)
    html = client.get("/join/River-Group-7").get_data(as_text=True)
    assert '<option value="America/Chicago" selected>Chicago (United States)</option>' in html
    assert "data-guess-zone" in html  # the phone's own zone wins where JavaScript runs
    refresh()  # the test shares one app context, where Flask-Babel keeps the locale
    es = client.get("/join/River-Group-7", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert ">Chicago (Estados Unidos)</option>" in es
    assert ">Guayaquil (Ecuador)</option>" in es and ">Montevideo (Uruguay)</option>" in es

    res = client.post("/join/River-Group-7", data={**ACCOUNT, "time_zone": "America/Chicago"})
    assert res.status_code == 302
    member = db.session.scalar(select(Member).where(Member.email == ACCOUNT["email"]))
    assert member.time_zone == "America/Chicago"


def test_a_new_group_starts_sign_up_at_utc_and_a_posted_choice_is_kept(client, make_program):
    make_program(join_code="River-Group-7")
    html = client.get("/join/River-Group-7").get_data(as_text=True)
    assert '<option value="UTC" selected>UTC</option>' in html
    res = client.post(
        "/join/River-Group-7", data={**ACCOUNT, "time_zone": "Asia/Tokyo", "password": "short"}
    )
    html = res.get_data(as_text=True)
    assert res.status_code == 422
    assert '<option value="Asia/Tokyo" selected>' in html  # the choice stays, and is listed
    assert "data-guess-zone" not in html  # and the phone's guess does not overwrite it


@pytest.mark.parametrize(("headers", "locale"), [({"Accept-Language": "es-MX"}, "es"), ({}, "en")])
def test_sign_up_keeps_the_language_the_pages_spoke_so_emails_speak_it_too(
    client, db, make_program, headers, locale
):
    make_program(join_code="River-Group-7")
    client.post("/join/River-Group-7", data=ACCOUNT, headers=headers)
    member = db.session.scalar(select(Member).where(Member.email == ACCOUNT["email"]))
    assert member.locale == locale


def test_sign_up_keeps_the_language_chosen_with_the_footer_buttons(client, db, make_program):
    make_program(join_code="River-Group-7")
    client.post("/language", data={"locale": "es"})
    client.post("/join/River-Group-7", data=ACCOUNT, headers={"Accept-Language": "en"})
    member = db.session.scalar(select(Member).where(Member.email == ACCOUNT["email"]))
    assert member.locale == "es"


def test_a_known_address_gets_the_same_answer(client, db, make_program, make_member):
    program = make_program(join_code="River-Group-7")
    make_member(program, "sponsor", email="ana@example.test", display_name="Ana Q.")
    res = client.post("/join/River-Group-7", data=ACCOUNT)
    assert res.status_code == 302 and res.headers["Location"] == "/check-your-email"
    assert "We sent a message to ana@example.test" in client.get("/check-your-email").get_data(
        as_text=True
    )
    member = db.session.scalar(select(Member).where(Member.email == ACCOUNT["email"]))
    assert member.display_name == "Ana Q."  # nothing changed


# ---- sending the confirmation email again ------------------------------------------------


def _mails_to(db, email: str) -> list[OutboxMessage]:
    """The emails queued to ``email`` that go out (not held back by notify's rules)."""
    member = db.session.scalar(select(Member).where(Member.email == email))
    return db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.member_id == member.id, OutboxMessage.channel == "email",
               OutboxMessage.status == "pending")
        .order_by(OutboxMessage.id)
    ).all()  # fmt: skip


def _flash(html: str) -> str:
    """The newest flash of the page (a tap without looking at the page leaves its flash)."""
    found = re.findall(r'<p class="flash (\w+)" role="status">([^<]*)</p>', html)
    return ": ".join(found[-1]) if found else ""


def _send_again(client) -> str:
    """Tap "Send the email again" and read the flash the page then shows."""
    client.post("/check-your-email")
    return _flash(client.get("/check-your-email").get_data(as_text=True))


def test_the_confirmation_email_is_sent_again_and_a_second_tap_sends_no_more(
    client, db, make_program
):
    make_program(join_code="River-Group-7")
    client.post("/join/River-Group-7", data=ACCOUNT)
    page = client.get("/check-your-email").get_data(as_text=True)
    assert 'action="/check-your-email"' in page and "Send the email again" in page
    assert 'name="csrf_token"' in page
    assert len(_mails_to(db, ACCOUNT["email"])) == 1

    res = client.post("/check-your-email")
    assert res.status_code == 302 and res.headers["Location"] == "/check-your-email"
    page = client.get("/check-your-email").get_data(as_text=True)
    assert _flash(page) == "ok: We sent it again to ana@example.test."
    mails = _mails_to(db, ACCOUNT["email"])
    assert [m.event for m in mails] == ["account.verify", "account.verify"]
    assert mails[0].payload["body"] == mails[1].payload["body"]  # the same link works

    for _ in range(3):  # tapped again at once: nothing more goes out, and the page says so
        client.post("/check-your-email")
    page = client.get("/check-your-email").get_data(as_text=True)
    assert _flash(page).startswith("info: We sent it again a moment ago")
    assert len(_mails_to(db, ACCOUNT["email"])) == 2
    opened = client.get(f"/verify/{verification_token(ACCOUNT['email'])}")
    assert opened.status_code == 302 and opened.headers["Location"] == "/"


def test_within_the_hour_the_page_stops_sending_where_the_hourly_rule_would(
    client, db, make_program
):
    make_program(join_code="River-Group-7")
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        client.post("/join/River-Group-7", data=ACCOUNT)
        for _ in range(3):
            clock.shift(timedelta(minutes=6))
            client.post("/check-your-email")
        assert len(_mails_to(db, ACCOUNT["email"])) == 4  # notify's MAIL_PER_HOUR
        clock.shift(timedelta(minutes=6))
        assert _send_again(client).startswith("info: We have sent it several times this hour")
        assert len(_mails_to(db, ACCOUNT["email"])) == 4
        clock.shift(timedelta(hours=1))
        assert _send_again(client) == "ok: We sent it again to ana@example.test."
        assert len(_mails_to(db, ACCOUNT["email"])) == 5


def test_sending_again_reads_the_same_for_an_address_with_an_account(
    client, db, make_program, make_member
):
    program = make_program(join_code="River-Group-7")
    make_member(program, "sponsor", email="ana@example.test", display_name="Ana Q.")
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        client.post("/join/River-Group-7", data=ACCOUNT)  # the "you already have one" note
        assert _send_again(client) == "ok: We sent it again to ana@example.test."
        # the note goes at most once an hour; a confirmed account gets no confirmation link
        assert [m.event for m in _mails_to(db, ACCOUNT["email"])] == ["account.exists"]
        clock.shift(timedelta(minutes=6))
        assert _send_again(client) == "ok: We sent it again to ana@example.test."
        assert len(_mails_to(db, ACCOUNT["email"])) == 1


def test_sending_again_needs_a_sign_up_in_this_browser_and_a_fresh_form(
    app, client, db, make_program
):
    res = client.post("/check-your-email")
    assert res.status_code == 302
    page = client.get("/check-your-email").get_data(as_text=True)
    assert "Send the email again" not in page and 'class="flash' not in page
    make_program(join_code="River-Group-7")
    client.post("/join/River-Group-7", data=ACCOUNT)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        res = client.post("/check-your-email", data={"csrf_token": "expired-or-forged"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert res.status_code == 302
    page = client.get("/check-your-email").get_data(as_text=True)
    assert _flash(page) == "error: This form had expired. Please check it and try again."
    assert len(_mails_to(db, ACCOUNT["email"])) == 1


def test_sending_again_reads_in_spanish(client, make_program):
    make_program(join_code="River-Group-7")
    client.post("/language", data={"locale": "es"})
    client.post("/join/River-Group-7", data=ACCOUNT)
    page = client.get("/check-your-email").get_data(as_text=True)
    assert "Enviar el correo otra vez" in page
    assert _send_again(client) == "ok: Te lo enviamos otra vez a ana@example.test."


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("display_name", "Ana Pérez", "Use your first name, one space"),
        ("display_name", "", "Please fill this in."),  # empty: no 40-word rule yet
        ("email", "not-an-address", "Enter an email address like name@example.org."),
        ("password", "short", "Use at least 10 characters."),
        ("roles", "coordinator", "Choose one of the options."),
    ],
)
def test_account_errors_sit_beside_their_field(client, db, make_program, field, value, message):
    make_program(join_code="River-Group-7")
    res = client.post("/join/River-Group-7", data={**ACCOUNT, field: value})
    html = res.get_data(as_text=True)
    assert res.status_code == 422
    assert _field_error(html, field).startswith(message)
    if field != "email":
        assert 'value="ana@example.test"' in html  # re-filled
    assert db.session.scalar(select(Member).where(Member.email == ACCOUNT["email"])) is None


def test_account_errors_read_in_spanish(client, make_program):
    make_program(join_code="River-Group-7")
    res = client.post(
        "/join/River-Group-7",
        data={**ACCOUNT, "password": "short"},
        headers={"Accept-Language": "es"},
    )
    html = res.get_data(as_text=True)
    assert _field_error(html, "password") == "Usa al menos 10 caracteres."
    assert "Crear mi cuenta" in html


def test_a_logged_in_member_joins_another_programme_with_its_code(
    client, db, make_program, make_member
):
    first, second = make_program(), make_program(join_code="Second-Group")
    member = _login(client, make_member(first, "newcomer"))
    page = client.get("/join/second-group")
    assert page.status_code == 200 and 'name="email"' not in page.get_data(as_text=True)
    res = client.post("/join/second-group", data={"roles": "sponsor"})
    assert res.status_code == 302
    db.session.refresh(member)
    joined = {m.program_id: m for m in member.memberships}
    assert joined[second.id].is_sponsor and not joined[second.id].is_newcomer


# ---- profile steps -----------------------------------------------------------------------


@pytest.fixture
def newcomer(make_program, make_member, client):
    program = make_program(fellowships=["AA", "NA"], tags=["veteran", "parent"])
    member = make_member(
        program, "newcomer", fellowships=[], languages=[], contact_modes=[], phone=None
    )
    return _login(client, member)


def test_the_three_steps_save_through_the_profile_service_and_end_at_ask(client, db, newcomer):
    res = client.post(
        "/profile/about-you",
        data={"gender": "woman", "gender_rule": "same", "fellowships": ["NA"],
              "languages": ["es", "en"], "age_band": "25-34", "about": "Mom of two."},
    )  # fmt: skip
    assert res.status_code == 302 and res.headers["Location"] == "/profile/talking"
    res = client.post(
        "/profile/talking",
        data={"contact_modes": ["phone", "video"], "tags": ["parent"],
              "location": "portland, us", "phone": "+1 503 555 0100", "contact_email": ""},
    )  # fmt: skip
    assert res.status_code == 302 and res.headers["Location"] == "/profile/times"
    res = client.post(
        "/profile/times",
        data={"availability": ["0-morning", "0-afternoon", "0-night", "5-evening", "2-early",
                               "3-early", "3-morning"],
              "time_zone": "America/Los_Angeles"},
    )  # fmt: skip
    assert res.status_code == 302 and res.headers["Location"] == "/sponsor"

    db.session.refresh(newcomer)
    assert newcomer.gender == "woman" and newcomer.gender_rule == "same"
    assert newcomer.fellowships == ["NA"] and newcomer.languages == ["es", "en"]
    assert newcomer.age_band == "25-34" and newcomer.about == "Mom of two."
    assert newcomer.contact_modes == ["phone", "video"] and newcomer.tags == ["parent"]
    assert newcomer.city_label == "Portland, US" and newcomer.phone == "+1 503 555 0100"
    assert newcomer.contact_email is None
    assert newcomer.availability == [
        {"day": 0, "start": "06:00", "end": "17:00"},
        {"day": 0, "start": "21:00", "end": "23:59"},
        {"day": 2, "start": "00:00", "end": "06:00"},  # the early hours, for night workers
        {"day": 3, "start": "00:00", "end": "12:00"},  # joined to the morning after them
        {"day": 5, "start": "17:00", "end": "21:00"},
    ]
    assert newcomer.time_zone == "America/Los_Angeles"
    # the saved profile comes back in the forms
    html = client.get("/profile/times").get_data(as_text=True)
    assert re.search(r'value="0-afternoon" checked', html)
    assert not re.search(r'value="1-morning" checked', html)
    assert re.search(r'value="2-early" checked', html) and "Early hours" in html
    assert 'value="Portland, US"' in client.get("/profile/talking").get_data(as_text=True)


def test_steps_offer_only_the_programmes_fellowships_and_tags(client, newcomer):
    html = client.get("/profile/about-you").get_data(as_text=True)
    assert 'name="fellowships" value="AA"' in html and 'name="fellowships" value="NA"' in html
    assert 'name="fellowships" value="CA"' not in html
    talk = client.get("/profile/talking").get_data(as_text=True)
    assert 'name="tags" value="veteran"' in talk and 'name="tags" value="lgbtq"' not in talk
    for asked in ("surname", "address", "photo"):
        assert f'name="{asked}"' not in html + talk


@pytest.mark.parametrize(
    ("path", "data", "field", "message"),
    [
        (
            "/profile/about-you",
            {"fellowships": ["CA"], "languages": ["en"]},
            "fellowships",
            "Not offered",
        ),
        (
            "/profile/about-you",
            {"languages": ["en"]},
            "fellowships",
            "Choose at least one fellowship",
        ),
        (
            "/profile/about-you",
            {"fellowships": ["AA"]},
            "languages",
            "Choose at least one language",
        ),
        ("/profile/about-you", {"about": "x" * 501}, "about", "Use at most 500 characters."),
        ("/profile/talking", {"phone": "555"}, "phone", "Use international format"),
        ("/profile/talking", {"location": "Atlantis, ZZ"}, "location", "We could not find"),
        ("/profile/talking", {"location": "Portland"}, "location", "We could not find"),
        ("/profile/times", {"time_zone": "Mars/Base"}, "time_zone", "Not a time zone we know"),
    ],
)
def test_step_errors_sit_beside_their_field(client, db, newcomer, path, data, field, message):
    res = client.post(path, data=data)
    assert res.status_code == 422
    assert _field_error(res.get_data(as_text=True), field).startswith(message)
    db.session.refresh(newcomer)
    assert newcomer.fellowships == [] and newcomer.phone is None


def test_the_times_step_lists_zones_by_city_starting_at_the_saved_one(client, db, newcomer):
    newcomer.time_zone = "Europe/Madrid"
    db.session.commit()
    html = client.get("/profile/times").get_data(as_text=True)
    options = re.findall(r'<option value="([^"]+)"( selected)?>', html)
    assert options[0] == ("Europe/Madrid", " selected")
    assert [zone for zone, _ in options].count("Europe/Madrid") == 1
    assert '<input id="time_zone"' not in html
    assert "data-guess-zone" not in html  # a zone already chosen is not swapped for a guess
    newcomer.locale = "es"  # a member who reads in Spanish (logging in saved the page's)
    db.session.commit()
    refresh()  # the test shares one app context, where Flask-Babel keeps the locale
    es = client.get("/profile/times").get_data(as_text=True)
    assert '<option value="Europe/Madrid" selected>Madrid (España)</option>' in es
    res = client.post("/profile/times", data={"availability": ["1-evening"],
                                              "time_zone": "America/Bogota"})  # fmt: skip
    assert res.status_code == 302
    db.session.refresh(newcomer)
    assert newcomer.time_zone == "America/Bogota"


def test_the_times_step_lets_the_phone_choose_only_while_the_zone_is_utc(client, db, newcomer):
    newcomer.time_zone = "UTC"
    db.session.commit()
    html = client.get("/profile/times").get_data(as_text=True)
    assert "data-guess-zone" in html and "timezone.js" in html
    assert '<option value="UTC" selected>UTC</option>' in html  # without JavaScript


@pytest.mark.parametrize("posted", ["Mars/Olympus", "Madrid", "x" * 300, "<b>"])
def test_a_zone_on_the_times_step_that_is_no_zone_is_named_beside_the_list(
    client, db, newcomer, posted
):
    res = client.post("/profile/times", data={"availability": ["1-evening"], "time_zone": posted})
    html = res.get_data(as_text=True)
    assert res.status_code == 422
    assert _field_error(html, "time_zone").startswith("Not a time zone we know.")
    assert 'href="#time_zone"' in html  # the summary at the top points to it
    assert re.search(r'<select id="time_zone"[^>]*>\s*<option value="America/New_York"', html)
    assert re.search(r'value="1-evening" checked', html)  # what was ticked stays ticked
    db.session.refresh(newcomer)
    assert newcomer.time_zone == "America/New_York" and newcomer.availability != [
        {"day": 1, "start": "17:00", "end": "21:00"}
    ]


def test_the_grid_never_makes_more_slots_than_the_schema_allows(client, db, newcomer):
    every_box = [f"{d}-{p}" for d in range(7) for p in ("morning", "afternoon", "evening", "night")]
    assert client.post("/profile/times", data={"availability": every_box}).status_code == 302
    db.session.refresh(newcomer)
    assert len(newcomer.availability) == 7
    assert newcomer.availability[0] == {"day": 0, "start": "06:00", "end": "23:59"}


def test_editing_a_step_from_the_account_page_goes_back_there(client, newcomer):
    page = client.get("/profile/talking?from=account").get_data(as_text=True)
    assert "Step 2 of 3" not in page and 'action="/profile/talking?from=account"' in page
    res = client.post("/profile/talking?from=account", data={"contact_modes": ["text"]})
    assert res.status_code == 302 and res.headers["Location"] == "/account"


def test_a_sponsor_with_a_sponsor_profile_goes_home_after_the_last_step(
    client, make_program, make_member
):
    _login(client, make_member(make_program(), "sponsor"))
    res = client.post("/profile/times", data={"availability": ["2-evening"]})
    assert res.status_code == 302 and res.headers["Location"] == "/"


def test_a_new_sponsor_goes_on_to_set_up_sponsoring(client, make_program):
    make_program(join_code="River-Group-7")
    client.post("/join/River-Group-7", data={**ACCOUNT, "roles": "sponsor"})
    client.get(f"/verify/{verification_token(ACCOUNT['email'])}")
    assert client.get("/").headers["Location"] == "/profile/about-you"
    client.post("/profile/about-you", data={"fellowships": ["AA"], "languages": ["en"]})
    client.post("/profile/talking", data={"contact_modes": ["phone"]})
    res = client.post("/profile/times", data={"availability": ["1-morning"]})
    assert res.status_code == 302 and res.headers["Location"] == "/sponsoring"
    home = client.get("/").get_data(as_text=True)
    assert "Set up your sponsor profile" in home and "Ask for a sponsor" not in home


def test_profile_steps_need_a_login(client):
    for path in ("/profile/about-you", "/profile/talking", "/profile/times"):
        res = client.get(path)
        assert res.status_code == 302 and res.headers["Location"].startswith("/login"), path


@pytest.mark.parametrize(
    ("typed", "label"),
    [("Ciudad de México, MX", "Mexico City, MX"), ("nueva york, us", "New York City, US")],
)
def test_a_city_may_be_typed_by_another_of_its_names(client, db, newcomer, typed, label):
    res = client.post("/profile/talking", data={"contact_modes": ["phone"], "location": typed})
    assert res.status_code == 302
    db.session.refresh(newcomer)
    assert newcomer.city_label == label


def test_a_missing_language_is_said_together_with_the_forms_other_problems(client, newcomer):
    res = client.post("/profile/about-you", data={"fellowships": ["AA"], "about": "x" * 501})
    html = res.get_data(as_text=True)
    assert res.status_code == 422
    assert _field_error(html, "about") == "Use at most 500 characters."
    assert _field_error(html, "languages").startswith("Choose at least one language")


@pytest.mark.parametrize("posted", ["Mars/Olympus", "America", "x" * 300, "<b>"])
def test_a_posted_zone_that_is_no_zone_is_named_beside_the_list_not_a_500(
    client, make_program, posted
):
    make_program(join_code="River-Group-7")
    res = client.post("/join/River-Group-7", data={**ACCOUNT, "time_zone": posted})
    assert res.status_code == 422
    assert _field_error(res.get_data(as_text=True), "time_zone").startswith("Not a time zone")


def test_sending_again_is_rate_limited_like_sign_up(app, client, make_program):
    make_program(join_code="River-Group-7")
    client.post("/join/River-Group-7", data=ACCOUNT)
    old = app.config["LOGIN_RATE_LIMIT"]
    app.config["LOGIN_RATE_LIMIT"] = "3/minute"
    try:
        codes = [client.post("/check-your-email").status_code for _ in range(4)]
        assert codes == [302, 302, 302, 429]
    finally:
        app.config["LOGIN_RATE_LIMIT"] = old
        from api.extensions import limiter

        limiter.reset()
