"""A member's own pages: the account (language, time zone, each profile step, password), the
notifications with links to what they are about, and the home page's one next thing."""

from __future__ import annotations

import html as entities
import re
from datetime import timedelta

import pytest
from flask import g
from flask_babel import refresh
from sqlalchemy import select

from api.models import Notification, utcnow
from api.services import proposals, sponsor_requests
from tests.factories import PASSWORD


def _login(client, member):
    res = client.post("/login", data={"email": member.email, "password": PASSWORD})
    assert res.status_code == 302
    return member


def _field_error(html: str, name: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="{name}-error">([^<]*)</p>', html)
    return found.group(1) if found else None


@pytest.fixture
def program(make_program):
    return make_program()


@pytest.fixture
def newcomer(program, make_member, client):
    return _login(client, make_member(program, "newcomer", languages=["en", "es"]))


def _note(db, member, title, *, minutes_ago=0, read=False, data=None):
    note = Notification(
        dedupe_key=f"test:{member.id}:{title}",
        member_id=member.id,
        kind="test.kind",
        title=title,
        body=f"Body of {title}",
        data=data or {},
        created_at=utcnow() - timedelta(minutes=minutes_ago),
        read_at=utcnow() if read else None,
    )
    db.session.add(note)
    db.session.commit()
    return note


# ---- account page ------------------------------------------------------------------------


def test_the_account_page_links_each_step_the_language_and_the_password(client, newcomer):
    html = client.get("/account").get_data(as_text=True)
    assert newcomer.display_name in html and newcomer.email in html
    for path in ("/profile/about-you", "/profile/talking", "/profile/times"):
        assert f'href="{path}?from=account"' in html
    assert 'href="/forgot-password"' in html
    assert 'action="/language"' in html and 'name="next" value="/account"' in html
    assert '<select id="time_zone" name="time_zone"' in html


def test_the_time_zone_is_a_list_by_city_that_starts_at_the_saved_zone(client, db, newcomer):
    newcomer.time_zone = "Europe/Madrid"
    db.session.commit()
    html = client.get("/account").get_data(as_text=True)
    options = re.findall(r"<option value=\"([^\"]+)\"( selected)?>", html)
    assert options[0] == ("Europe/Madrid", " selected")  # first, and chosen
    assert [zone for zone, _ in options].count("Europe/Madrid") == 1
    assert not any(chosen for _, chosen in options[1:])
    assert '<input id="time_zone"' not in html
    # no script may swap the saved zone for the phone's guess
    assert "timezone.js" not in html and "data-guess-zone" not in html
    newcomer.locale = "es"
    db.session.commit()
    refresh()  # the test shares one app context, where Flask-Babel keeps the locale
    es = client.get("/account").get_data(as_text=True)
    assert '<option value="Europe/Madrid" selected>Madrid (España)</option>' in es


def test_choosing_spanish_is_saved_on_the_member(client, db, newcomer):
    res = client.post("/language", data={"locale": "es", "next": "/account"})
    assert res.status_code == 302 and res.headers["Location"] == "/account"
    db.session.refresh(newcomer)
    assert newcomer.locale == "es"
    html = client.get("/account").get_data(as_text=True)
    assert '<html lang="es">' in html and "Tu cuenta" in html


def test_the_time_zone_is_saved_after_a_redirect(client, db, newcomer):
    res = client.post("/account/time-zone", data={"time_zone": "America/Bogota"})
    assert res.status_code == 302 and res.headers["Location"] == "/account"
    db.session.refresh(newcomer)
    assert newcomer.time_zone == "America/Bogota"
    assert "Your time zone is saved." in client.get("/account").get_data(as_text=True)


@pytest.mark.parametrize("typed", ["america/bogota", "AMERICA/BOGOTA"])
def test_a_time_zone_in_any_letter_case_is_saved_as_spelled_in_the_zone_data(
    client, db, newcomer, typed
):
    res = client.post("/account/time-zone", data={"time_zone": typed})
    assert res.status_code == 302
    db.session.refresh(newcomer)
    assert newcomer.time_zone == "America/Bogota"


@pytest.mark.parametrize("typed", ["America", "Europe", "x" * 300])
def test_a_region_alone_or_an_overlong_zone_is_said_beside_the_field(client, db, newcomer, typed):
    res = client.post("/account/time-zone", data={"time_zone": typed})
    assert res.status_code == 422
    assert _field_error(res.get_data(as_text=True), "time_zone").startswith("Not a time zone")
    db.session.refresh(newcomer)
    assert newcomer.time_zone == "America/New_York"


def test_a_wrong_time_zone_is_said_beside_the_field_in_the_readers_language(client, db, newcomer):
    res = client.post("/account/time-zone", data={"time_zone": "Mars/Base"})
    html = res.get_data(as_text=True)
    assert res.status_code == 422
    assert _field_error(html, "time_zone").startswith("Not a time zone we know.")
    assert 'value="Mars/Base"' not in html  # not offered: the list starts at the saved zone
    assert re.search(r'<select id="time_zone"[^>]*>\s*<option value="America/New_York"', html)
    assert _summary_links(html) == ["#time_zone"]
    newcomer.locale = "es"
    db.session.commit()
    refresh()  # the test shares one app context, where Flask-Babel keeps the locale
    res = client.post("/account/time-zone", data={"time_zone": "Mars/Base"})
    assert _field_error(res.get_data(as_text=True), "time_zone").startswith(
        "No es una zona horaria que conozcamos."
    )
    db.session.refresh(newcomer)
    assert newcomer.time_zone == "America/New_York"


def _summary_links(html: str) -> list[str]:
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    return re.findall(r'<a href="([^"]+)">', summary.group(0)) if summary else []


@pytest.mark.parametrize("path", ["/account", "/notifications"])
def test_own_pages_need_a_login(client, path):
    res = client.get(path)
    assert res.status_code == 302 and res.headers["Location"].startswith("/login")


# ---- notifications -----------------------------------------------------------------------


def test_notifications_are_newest_first_unread_marked_and_only_ones_own(
    client, db, program, make_member, newcomer
):
    _note(db, newcomer, "Older", minutes_ago=60, read=True)
    _note(db, newcomer, "Newer", minutes_ago=5)
    _note(db, make_member(program, "newcomer"), "Someone else's")
    html = client.get("/notifications").get_data(as_text=True)
    assert html.index("Newer") < html.index("Older")
    assert "Someone else" not in html
    assert html.count('class="card notification unread"') == 1
    assert "Body of Newer" in html
    assert "UTC" not in html and re.search(r"at \d{1,2}:\d\d", html)  # local time, in words
    assert 'action="/notifications/read"' in html  # the one-tap "mark all read"


def test_mark_all_read_in_one_tap(client, db, newcomer):
    for n in range(3):
        _note(db, newcomer, f"Note {n}", minutes_ago=n)
    assert '<span class="badge">3' in client.get("/account").get_data(as_text=True)
    res = client.post("/notifications/read")
    assert res.status_code == 302 and res.headers["Location"] == "/notifications"
    unread = db.session.scalars(select(Notification).where(Notification.read_at.is_(None)))
    assert list(unread) == []
    html = client.get("/notifications").get_data(as_text=True)
    assert 'class="card notification unread"' not in html
    assert 'action="/notifications/read"' not in html


def test_a_notification_links_to_the_page_it_is_about(client, db, program, make_member, newcomer):
    sponsor = make_member(program, "sponsor", languages=["en"])
    request = sponsor_requests.open_request(newcomer, program, {"temporary_ok": True})
    proposals.ask(newcomer, request.uuid, sponsor_uuid=sponsor.uuid)  # tells the sponsor
    _note(db, newcomer, "About my request", data={"request_id": str(request.uuid)})
    _note(db, newcomer, "Junk", data={"proposal_id": "not-a-uuid", "sponsorship": 7})
    html = client.get("/notifications").get_data(as_text=True)
    # the request's page; the junk links nowhere
    assert html.count('<button type="submit" class="secondary">Open</button>') == 1
    client.post("/logout")
    _login(client, sponsor)
    _note(db, sponsor, "Still available?", data={"check": "x"})
    html = client.get("/notifications").get_data(as_text=True)
    notes = {n.title: n for n in db.session.scalars(select(Notification))}
    opened = {
        n.title: client.post(f"/notifications/{n.uuid}/open").headers["Location"]
        for n in notes.values()
        if n.member_id == sponsor.id
    }
    assert opened["Still available?"] == "/still-available"
    assert "/asks" in opened.values()


def test_a_coordinators_notes_open_the_console_pages_their_emails_link(
    client, db, program, make_member, newcomer
):
    """A newcomer with no match or waiting long opens the members pages, not the newcomer's
    own "ask for a sponsor" page (which is where a request used to lead)."""
    from jobs.waiting import alert_long_waits

    coordinator = make_member(program, "coordinator", time_zone="UTC")
    request = sponsor_requests.open_request(newcomer, program, {})
    request.created_at = utcnow() - timedelta(days=8)
    db.session.commit()
    alert_long_waits(utcnow().replace(hour=12))
    _login(client, coordinator)
    (note,) = db.session.scalars(
        select(Notification).where(Notification.member_id == coordinator.id)
    )
    res = client.post(f"/notifications/{note.uuid}/open")
    member_page = f"/coordinator/{program.uuid}/members/{newcomer.uuid}"
    assert res.status_code == 302 and res.headers["Location"] == member_page
    assert client.get(member_page).status_code == 200
    # the newcomer's own note about the same request still opens their own page
    client.post("/logout")
    _login(client, newcomer)
    mine = _note(db, newcomer, "About my request", data={"request_id": str(request.uuid)})
    assert client.post(f"/notifications/{mine.uuid}/open").headers["Location"] == "/sponsor"


def test_a_pair_notification_opens_the_pair_page_for_its_two_members_only(
    client, db, program, make_member, newcomer
):
    from api.services import sponsorships

    sponsor = make_member(program, "sponsor", languages=["en"])
    request = sponsor_requests.open_request(newcomer, program, {"temporary_ok": True})
    proposal = proposals.ask(newcomer, request.uuid, sponsor_uuid=sponsor.uuid)
    pair = sponsorships.accept(sponsor, proposal.uuid)
    note = _note(db, newcomer, "Paired", data={"sponsorship_id": str(pair.uuid)})
    res = client.post(f"/notifications/{note.uuid}/open")
    assert res.status_code == 302 and res.headers["Location"] == f"/pairs/{pair.uuid}"
    db.session.refresh(note)
    assert note.read_at is not None  # opening it read it
    client.post("/logout")
    stranger = _login(client, make_member(program, "newcomer"))
    theirs = _note(db, stranger, "Not yours", data={"sponsorship_id": str(pair.uuid)})
    res = client.post(f"/notifications/{theirs.uuid}/open")
    assert res.status_code == 302 and res.headers["Location"] == "/notifications"
    # another member's notification is not there at all
    assert client.post(f"/notifications/{note.uuid}/open").status_code == 404


# ---- home --------------------------------------------------------------------------------


def test_a_visitor_reads_what_this_is_and_can_log_in_or_join(client):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/join"' in html and "I have a join code" in html
    assert 'href="/login"' in html
    spanish = client.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Tengo un código para unirme" in spanish


def test_a_newcomer_is_offered_the_one_next_thing(client, db, program, make_member, newcomer):
    html = client.get("/").get_data(as_text=True)
    assert newcomer.display_name in html and "Ask for a sponsor" in html
    sponsor = make_member(program, "sponsor", languages=["en"])
    request = sponsor_requests.open_request(newcomer, program, {"temporary_ok": True})
    proposals.ask(newcomer, request.uuid, sponsor_uuid=sponsor.uuid)
    assert "See who you asked" in client.get("/").get_data(as_text=True)


def test_a_sponsor_sees_how_many_asks_wait(client, db, program, make_member):
    sponsor = make_member(program, "sponsor", languages=["en"])
    for _ in range(2):
        seeker = make_member(program, "newcomer", languages=["en"])
        request = sponsor_requests.open_request(seeker, program, {"temporary_ok": True})
        proposals.ask(seeker, request.uuid, sponsor_uuid=sponsor.uuid)
    _login(client, sponsor)
    html = client.get("/").get_data(as_text=True)
    assert "2 asks waiting" in html and 'href="/asks"' in html


def test_a_member_without_a_profile_is_sent_to_the_first_step(client, program, make_member):
    _login(client, make_member(program, "newcomer", fellowships=[], languages=[]))
    res = client.get("/")
    assert res.status_code == 302 and res.headers["Location"] == "/profile/about-you"


def test_a_coordinator_gets_the_dashboard(client, program, make_member):
    _login(client, make_member(program, "coordinator", fellowships=[], languages=[]))
    html = client.get("/").get_data(as_text=True)
    assert f"/programs/{program.uuid}/dashboard" in html and "Coordinator dashboard" in html


# ---- log in and password pages (the form macros, in the reader's language) -------------------


def test_a_wrong_password_is_said_above_the_form_in_spanish(client, program, make_member):
    member = make_member(program, "newcomer")
    res = client.post(
        "/login",
        data={"email": member.email, "password": "not it at all"},
        headers={"Accept-Language": "es"},
    )
    html = res.get_data(as_text=True)
    assert res.status_code == 401
    assert 'id="form-error"' in html and "El correo o la contraseña no son correctos." in html
    assert f'value="{member.email}"' in html  # the address stays typed


def test_the_password_pages_show_errors_beside_their_field(client, db, program, make_member):
    from api.services.passwords import password_link_token

    res = client.post("/forgot-password", data={"email": ""})
    assert res.status_code == 422
    assert _field_error(res.get_data(as_text=True), "email") == "Enter your email."
    mistyped = client.post("/forgot-password", data={"email": "ana at example.org"})
    assert mistyped.status_code == 422  # said now, not after waiting for a mail that never comes
    assert _field_error(mistyped.get_data(as_text=True), "email").startswith("Enter an email")
    member = make_member(program, "newcomer")
    path = f"/reset-password/{password_link_token(member)}"
    short = client.post(path, data={"password": "short", "confirm": "short"})
    assert short.status_code == 422
    assert _field_error(short.get_data(as_text=True), "password") == "Use at least 10 characters."
    differ = client.post(path, data={"password": "a long password", "confirm": "another one!"})
    assert _field_error(differ.get_data(as_text=True), "confirm") == "The two passwords differ."
    done = client.post(path, data={"password": "a long password", "confirm": "a long password"})
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    used = client.get(path)
    assert used.status_code == 404 and "Ask for a new link" in used.get_data(as_text=True)


# ---- sessions, password, emails, shown tags (issue 12 on the pages) ----------------------


@pytest.mark.parametrize(
    "path", ["/account/my-data", "/account/my-data/download", "/account/delete"]
)
def test_my_data_pages_need_a_login(client, path):
    res = client.get(path)
    assert res.status_code == 302 and res.headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    "path",
    [
        "/account/password",
        "/account/emails",
        "/account/tags",
        "/account/logout-everywhere",
        "/account/delete",
    ],
)
def test_account_actions_need_a_login(client, path):
    res = client.post(path, data={"password": PASSWORD})
    assert res.status_code == 302 and res.headers["Location"].startswith("/login")


def test_the_account_page_offers_the_new_choices(client, newcomer):
    html = client.get("/account").get_data(as_text=True)
    for action in ("password", "emails", "logout-everywhere"):
        assert f'action="/account/{action}"' in html
    assert 'href="/account/my-data"' in html
    assert html.count('name="minimal_emails"') == 1
    assert html.index("<title>") < html.index("</title>") < html.index('id="emails-heading"')


def test_log_out_everywhere_ends_this_and_every_other_session(app, client, db, newcomer):
    other = app.test_client()
    _login(other, newcomer)
    res = client.post("/account/logout-everywhere")
    assert res.status_code == 302 and res.headers["Location"] == "/login"
    assert "logged out on every phone" in client.get("/login").get_data(as_text=True)
    for browser in (client, other):
        g.pop("_login_user", None)  # a real request starts afresh (the test shares one context)
        res = browser.get("/account")
        assert res.status_code == 302 and res.headers["Location"].startswith("/login")


def test_changing_the_password_keeps_this_phone_and_ends_the_others(app, client, db, newcomer):
    other = app.test_client()
    _login(other, newcomer)
    new = "a-new-long-passphrase-42"
    res = client.post("/account/password", data={"current_password": PASSWORD, "new_password": new})
    assert res.status_code == 302 and res.headers["Location"] == "/account"
    g.pop("_login_user", None)  # a real request starts afresh (the test shares one context)
    assert client.get("/account").status_code == 200  # still logged in here
    g.pop("_login_user", None)
    assert other.get("/account").status_code == 302  # logged out there
    fresh = app.test_client()
    res = fresh.post("/login", data={"email": newcomer.email, "password": new})
    assert res.status_code == 302


def test_a_wrong_current_password_is_said_beside_its_field(client, db, newcomer):
    res = client.post(
        "/account/password",
        data={"current_password": "not-it-at-all", "new_password": "a-new-long-passphrase-42"},
    )
    html = res.get_data(as_text=True)
    assert res.status_code == 422
    assert _field_error(html, "current_password") == "This is not your current password."
    assert _field_error(html, "new_password") is None
    res = client.post("/account/password", data={"current_password": PASSWORD})
    html = res.get_data(as_text=True)
    assert res.status_code == 422 and _field_error(html, "new_password")
    assert client.get("/account").status_code == 200  # nothing ended


def test_minimal_emails_is_a_checkbox_saved_after_a_redirect(client, db, newcomer):
    res = client.post("/account/emails", data={"minimal_emails": "y"})
    assert res.status_code == 302 and res.headers["Location"] == "/account"
    db.session.refresh(newcomer)
    assert newcomer.minimal_emails is True
    html = client.get("/account").get_data(as_text=True)
    assert re.search(r'name="minimal_emails" value="y" checked', html)
    client.post("/account/emails", data={})
    db.session.refresh(newcomer)
    assert newcomer.minimal_emails is False


def test_tags_shown_are_chosen_among_ones_own_tags(client, db, program, make_member):
    member = _login(client, make_member(program, "newcomer", tags=["veteran", "parent"]))
    html = client.get("/account").get_data(as_text=True)
    assert 'name="tags_shown" value="veteran"' in html
    assert 'name="tags_shown" value="lgbtq"' not in html  # not one of theirs
    assert "only what you both chose to show" in html.lower()
    res = client.post("/account/tags", data={"tags_shown": ["veteran"]})
    assert res.status_code == 302
    db.session.refresh(member)
    assert member.tags_shown == ["veteran"]
    res = client.post("/account/tags", data={"tags_shown": ["lgbtq"]})
    assert res.status_code == 422
    assert _field_error(res.get_data(as_text=True), "tags_shown")
    db.session.refresh(member)
    assert member.tags_shown == ["veteran"]


# ---- my data -----------------------------------------------------------------------------


def test_the_export_downloads_the_members_own_data_only(client, db, program, make_member):
    stranger = make_member(program, "newcomer", display_name="Zed Q.")
    member = _login(client, make_member(program, "newcomer"))
    sponsor_requests.open_request(member, program, {"temporary_ok": True, "note": "mine-42"})
    assert 'href="/account/my-data/download"' in client.get("/account/my-data").get_data(
        as_text=True
    )
    res = client.get("/account/my-data/download")
    assert res.status_code == 200 and res.mimetype == "application/json"
    assert res.headers["Content-Disposition"].startswith("attachment;")
    body = res.get_data(as_text=True)
    data = res.get_json()
    assert member.email in body and "mine-42" in body
    assert stranger.email not in body and "Zed Q." not in body
    assert data  # the same export as the API's GET /me/data


def test_deleting_asks_for_the_password_and_says_what_happens(client, db, newcomer):
    html = client.get("/account/delete").get_data(as_text=True)
    assert "cannot be undone" in html and "notes you wrote are destroyed" in html
    res = client.post("/account/delete", data={"password": "not-it-at-all"})
    assert res.status_code == 422
    assert _field_error(res.get_data(as_text=True), "password")
    db.session.refresh(newcomer)
    assert client.get("/account").status_code == 200  # nothing happened


def test_deleting_really_deletes_ends_the_pair_and_logs_out(
    client, db, program, make_member, newcomer
):
    from api.models import Sponsorship
    from api.services import sponsorships

    email = newcomer.email
    sponsor = make_member(program, "sponsor", languages=["en"])
    request = sponsor_requests.open_request(newcomer, program, {"temporary_ok": True})
    proposal = proposals.ask(newcomer, request.uuid, sponsor_uuid=sponsor.uuid)
    pair = sponsorships.accept(sponsor, proposal.uuid)
    res = client.post("/account/delete", data={"password": PASSWORD})
    assert res.status_code == 302 and res.headers["Location"] == "/goodbye"
    html = client.get("/goodbye").get_data(as_text=True)
    assert "Your account is deleted" in html and "tel:" in html  # the crisis line
    g.pop("_login_user", None)
    assert client.get("/account").status_code == 302  # logged out
    pair = db.session.scalar(select(Sponsorship).where(Sponsorship.uuid == pair.uuid))
    assert pair.status == "ended" and pair.end_reason == "account_closed"
    db.session.expire_all()
    from api.models import Member

    assert db.session.scalar(select(Member).where(Member.email == email)) is None
    res = client.post("/login", data={"email": email, "password": PASSWORD})
    assert res.status_code == 401


# ---- the ask form's note ------------------------------------------------------------------


def test_the_ask_form_offers_the_coordinator_tick_under_the_note(client, db, program, newcomer):
    html = client.get("/sponsor").get_data(as_text=True)
    assert html.index('name="note"') < html.index('name="note_for_coordinator"')
    assert "My coordinator may read this" in html
    data = {"temporary_ok": "y", "note": "call me after work", "note_for_coordinator": "y"}
    assert client.post("/sponsor/request", data=data).status_code == 302
    (request,) = sponsor_requests.my_requests(newcomer)
    assert request.note_for_coordinator is True and request.note == "call me after work"


def test_the_city_is_not_one_of_the_ways_to_talk(client, db, newcomer):
    newcomer.contact_modes, newcomer.city_label = ["phone", "text"], "Denver, US"
    db.session.commit()
    html = entities.unescape(client.get("/account").get_data(as_text=True))
    assert "Phone calls and text messages; near Denver, US" in html
    newcomer.locale = "es"
    db.session.commit()
    refresh()  # the test shares one app context, where Flask-Babel keeps the locale
    html = entities.unescape(client.get("/account").get_data(as_text=True))
    assert "Llamadas y mensajes de texto; cerca de Denver, US" in html


# ---- empty boxes are named, never taken as a save or a wrong password ----------------------


def test_an_empty_time_zone_is_not_saved_and_says_it_is_needed(client, db, newcomer):
    res = client.post("/account/time-zone", data={"time_zone": ""}, follow_redirects=True)
    html = res.get_data(as_text=True)
    assert res.status_code == 422
    assert _field_error(html, "time_zone") == "Choose your time zone from the list."
    assert "Your time zone is saved." not in html
    db.session.refresh(newcomer)
    assert newcomer.time_zone == "America/New_York"


def test_an_empty_password_on_delete_asks_for_it(client, db, newcomer):
    res = client.post("/account/delete", data={"password": ""})
    assert res.status_code == 422
    assert _field_error(res.get_data(as_text=True), "password") == "Enter your password."
    assert client.get("/account").status_code == 200  # nothing happened


def test_an_empty_current_password_is_named_beside_its_field(client, db, newcomer):
    res = client.post("/account/password", data={"current_password": "", "new_password": ""})
    html = res.get_data(as_text=True)
    assert res.status_code == 422
    assert _field_error(html, "current_password") == "Enter your current password."
    assert _field_error(html, "new_password")
    newcomer.locale = "es"
    db.session.commit()
    refresh()  # the test's app context keeps the locale the first request chose
    res = client.post("/account/password", data={"current_password": ""})
    assert _field_error(res.get_data(as_text=True), "current_password") == (
        "Escribe tu contraseña actual."
    )


def test_the_profile_summary_names_languages_as_running_text(client, db, newcomer):
    newcomer.gender, newcomer.fellowships, newcomer.languages = "woman", ["AA"], ["es", "en"]
    db.session.commit()
    assert "Woman, AA, Spanish, and English" in client.get("/account").get_data(as_text=True)
    newcomer.locale = "es"
    db.session.commit()
    refresh()  # the test's app context keeps the locale the first request chose
    assert "Mujer, AA, español e inglés" in client.get("/account").get_data(as_text=True)
