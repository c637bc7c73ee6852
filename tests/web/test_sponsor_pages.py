"""The sponsor's pages: profile (pause, resume, relapse), the asks inbox (accept, decline),
"my sponsees" and "still available?" — what the sponsor sees, PRG, errors beside their
field, and 404 for another member's ask or for a member who does not sponsor."""

from __future__ import annotations

import html as entities
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from api.extensions import db
from api.models import AvailabilityCheck, Member, Proposal, SponsorProfile, Sponsorship, utcnow
from api.services import proposals, sponsor_requests
from tests.factories import PASSWORD


def _login(client, member):
    res = client.post("/login", data={"email": member.email, "password": PASSWORD})
    assert res.status_code == 302


def _field_error(html: str, name: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="{name}-error">([^<]*)</p>', html)
    return entities.unescape(found.group(1)) if found else None


@pytest.fixture
def ask(make_program, make_member):
    """A newcomer who asked a sponsor; the proposal is waiting for the sponsor's answer."""
    program = make_program()
    # Tags count as shared only where both chose to show them (when members choose that).
    shown = hasattr(Member, "tags_shown")
    sponsor = make_member(
        program,
        "sponsor",
        display_name="Rita S.",
        tags=["parent"],
        sponsor={"capacity": 3},
        **({"tags_shown": ["parent"]} if shown else {}),
    )
    newcomer = make_member(
        program,
        "newcomer",
        display_name="Ana P.",
        tags=["parent", "veteran"],
        **({"tags_shown": ["parent", "veteran"]} if shown else {}),
        languages=["en", "es"],
        phone="+1 555 0199",
        contact_email="ana.private@example.test",
    )
    request = sponsor_requests.open_request(newcomer, program, {"temporary_ok": True})
    proposal = proposals.ask(newcomer, request.uuid, sponsor_uuid=sponsor.uuid)
    return proposal


# --- sponsor profile ---------------------------------------------------------------------------


def test_the_profile_shows_the_state_and_eligibility_in_words(client, ask):
    _login(client, ask.sponsor)
    html = client.get("/sponsoring").get_data(as_text=True)
    assert "Open to new asks" in html
    assert "Places taken: 1 of 3." in html
    assert f"Newcomers in {ask.request.program.name} can ask you." in html
    assert 'value="3"' in html and 'name="temporary_willing" value="y" checked' in html
    assert "Report a relapse" in html


def test_saving_the_profile_redirects_and_errors_sit_beside_their_field(client, ask):
    _login(client, ask.sponsor)
    sober = (date.today() - timedelta(days=800)).isoformat()
    res = client.post(
        "/sponsoring", data={"sobriety_date": sober, "capacity": "11", "steps_completed": "4"}
    )
    html = res.get_data(as_text=True)
    assert res.status_code == 422
    assert _field_error(html, "capacity") == "Enter a number from 1 to 10."
    assert 'name="steps_completed" type="number" value="4"' in html  # re-filled
    # below the current load (one waiting ask): the database refuses, worded for people
    res = client.post("/sponsoring", data={"sobriety_date": sober, "capacity": "0"})
    assert _field_error(res.get_data(as_text=True), "capacity") == "Enter a number from 1 to 10."
    res = client.post(
        "/sponsoring", data={"sobriety_date": sober, "capacity": "2", "steps_completed": "5"}
    )
    assert res.status_code == 302 and res.headers["Location"] == "/sponsoring"
    profile = db.session.scalar(
        select(SponsorProfile).where(SponsorProfile.member_id == ask.sponsor_id)
    )
    db.session.refresh(profile)
    assert (profile.capacity, profile.steps_completed, profile.temporary_willing) == (2, 5, False)
    assert profile.sobriety_date.isoformat() == sober and profile.accepting  # PATCH kept it
    assert "Your sponsor profile is saved." in client.get("/sponsoring").get_data(as_text=True)


@pytest.mark.parametrize("day", ["0001-01-01", "1919-12-31"])
def test_a_sobriety_date_before_1920_is_refused_as_on_the_milestones_page(client, ask, day):
    _login(client, ask.sponsor)
    kept = ask.sponsor.sponsor_profile.sobriety_date
    res = client.post("/sponsoring", data={"sobriety_date": day, "capacity": "3"})
    assert res.status_code == 422
    assert _field_error(res.get_data(as_text=True), "sobriety_date") == "Enter a date after 1920."
    db.session.expire_all()
    assert ask.sponsor.sponsor_profile.sobriety_date == kept


def test_the_sobriety_date_hint_names_who_sees_it(client, ask):
    _login(client, ask.sponsor)
    html = entities.unescape(client.get("/sponsoring").get_data(as_text=True))
    assert "Newcomers only see a band like “2–5 years”." in html
    assert "Your group's coordinators can see the date." in html and "Kept private" not in html
    assert 'min="1920-01-01"' in html


def test_capacity_below_the_current_load_is_refused_beside_capacity(client, ask, make_member):
    program = ask.request.program
    other = make_member(program, "newcomer")
    request = sponsor_requests.open_request(other, program, {})
    proposals.ask(other, request.uuid, sponsor_uuid=ask.sponsor.uuid)  # load is now 2
    _login(client, ask.sponsor)
    sober = ask.sponsor.sponsor_profile.sobriety_date.isoformat()
    res = client.post("/sponsoring", data={"sobriety_date": sober, "capacity": "1"})
    assert res.status_code == 422
    assert _field_error(res.get_data(as_text=True), "capacity") == (
        "You already have 2 sponsees or waiting asks, so your capacity can't go below that."
    )


def test_a_sponsor_without_a_profile_creates_one(client, make_program, make_member):
    program = make_program()
    member = make_member(program, "newcomer")
    member.memberships[0].is_sponsor = True
    db.session.commit()
    _login(client, member)
    html = client.get("/sponsoring").get_data(as_text=True)
    assert "Become a sponsor here" in html and "Pause new asks" not in html
    res = client.post("/sponsoring", data={"capacity": "2", "temporary_willing": "y"})
    assert res.status_code == 422
    assert _field_error(res.get_data(as_text=True), "sobriety_date") == "Enter a date."
    res = client.post(
        "/sponsoring",
        data={"sobriety_date": "2020-01-31", "capacity": "2", "temporary_willing": "y"},
    )
    assert res.status_code == 302
    profile = db.session.scalar(select(SponsorProfile).where(SponsorProfile.member_id == member.id))
    assert (profile.capacity, profile.accepting, profile.temporary_willing) == (2, True, True)


def test_pause_and_resume_are_one_tap_each(client, ask):
    _login(client, ask.sponsor)
    res = client.post("/sponsoring/pause")
    assert res.status_code == 302 and res.headers["Location"] == "/sponsoring"
    html = client.get("/sponsoring").get_data(as_text=True)
    assert "Paused: no new asks for now" in html and "You have paused new asks." in html
    assert "Resume: I can take new asks" in html
    client.post("/sponsoring/resume")
    html = client.get("/sponsoring").get_data(as_text=True)
    assert "Open to new asks" in html and "Welcome back." in html


def test_reporting_a_relapse_is_kind_and_pauses_only_new_asks(client, ask, make_member):
    _login(client, ask.sponsor)
    pair = Sponsorship(
        program_id=ask.program_id,
        sponsor_id=ask.sponsor_id,
        sponsee_id=make_member(ask.request.program, "newcomer").id,
        started_at=utcnow(),
    )
    db.session.add(pair)
    db.session.commit()
    page = client.get("/sponsoring/relapse")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "It's OK to put your own recovery first" in entities.unescape(html)
    assert "Your sponsees stay with you." in html
    assert html.count('href="tel:988"') >= 3  # top, the page itself, the foot
    # the date newcomers' band comes from stays until the sponsor changes it
    assert "Your sobriety date there stays as it is until you change it." in html
    assert 'href="/sponsoring#sobriety_date">Change my sobriety date</a>' in html
    res = client.post("/sponsoring/relapse")
    assert res.status_code == 302 and res.headers["Location"] == "/sponsoring"
    db.session.expire_all()
    assert ask.sponsor.sponsor_profile.accepting is False
    assert db.session.get(Sponsorship, pair.id).status == "active"
    assert "Thank you for telling us." in client.get("/sponsoring").get_data(as_text=True)


# --- asks inbox ----------------------------------------------------------------------------------


def test_the_inbox_shows_the_newcomers_public_profile_and_a_countdown(client, ask):
    _login(client, ask.sponsor)
    html = client.get("/asks").get_data(as_text=True)
    assert "Ana P." in html
    assert "About 48 hours left" in html
    assert "Please answer by" in html and "UTC" not in html
    assert "English and Spanish" in html  # languages in words
    assert "<dt>You share</dt><dd>Parent</dd>" in html  # only what both chose
    assert "Veteran" not in html
    assert "+1 555 0199" not in html and "ana.private" not in html  # no contact details yet
    assert "Yes, I will sponsor Ana P." in html and "Yes, as a temporary sponsor" in html


def test_accepting_opens_the_new_pairs_page(client, ask):
    _login(client, ask.sponsor)
    res = client.post(f"/asks/{ask.uuid}/accept")
    pair = db.session.scalar(select(Sponsorship).where(Sponsorship.proposal_id == ask.id))
    assert res.status_code == 302 and res.headers["Location"] == f"/pairs/{pair.uuid}"
    assert pair.kind == "permanent"
    html = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "You sponsor Ana P." in html and "+1 555 0199" in html
    assert "Your first call" in html
    assert "You said yes to Ana P. Here is how" in html and "P.." not in html  # one stop
    again = client.post(f"/asks/{ask.uuid}/accept")  # a second tap: no second pair
    assert again.headers["Location"] == "/asks"
    assert db.session.query(Sponsorship).count() == 1


def test_accepting_as_a_temporary_sponsor(client, ask):
    _login(client, ask.sponsor)
    client.post(f"/asks/{ask.uuid}/accept", data={"kind": "temporary"})
    pair = db.session.scalar(select(Sponsorship))
    assert pair.kind == "temporary" and pair.ends_on is not None


def test_declining_asks_for_a_reason_and_the_newcomer_sees_their_next_option(client, ask):
    _login(client, ask.sponsor)
    form = client.get(f"/asks/{ask.uuid}/decline").get_data(as_text=True)
    assert "Ana P. will simply see their next option" in form
    assert 'value="at_capacity"' in form and "I'm not available right now" in entities.unescape(
        form
    )
    res = client.post(f"/asks/{ask.uuid}/decline", data={"note": "busy month"})
    html = res.get_data(as_text=True)
    assert res.status_code == 422
    assert _field_error(html, "reason") == "Choose one of the options."
    assert "busy month</textarea>" in html
    res = client.post(
        f"/asks/{ask.uuid}/decline", data={"reason": "not_a_good_fit", "note": "busy month"}
    )
    assert res.status_code == 302 and res.headers["Location"] == "/asks"
    db.session.expire_all()
    proposal = db.session.get(Proposal, ask.id)
    assert (proposal.status, proposal.decline_reason) == ("declined", "not_a_good_fit")
    html = client.get("/asks").get_data(as_text=True)
    assert "Nobody is waiting for your answer right now." in html
    assert "Ana P.: you couldn't take them on." in entities.unescape(html)
    client.post("/logout")
    _login(client, ask.newcomer)  # the newcomer reads it kindly where they look next
    html = entities.unescape(client.get("/sponsor").get_data(as_text=True))
    assert "The sponsor you asked can't take anyone right now." in html
    assert "not_a_good_fit" not in html and "busy month" not in html


def test_another_sponsors_ask_is_not_found(client, ask, make_member):
    stranger = make_member(ask.request.program, "sponsor")
    _login(client, stranger)
    assert client.post(f"/asks/{ask.uuid}/accept").status_code == 404
    assert client.get(f"/asks/{ask.uuid}/decline").status_code == 404
    res = client.post(f"/asks/{ask.uuid}/decline", data={"reason": "other"})
    assert res.status_code == 404
    assert "Ana P." not in client.get("/asks").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Proposal, ask.id).status == "pending"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/sponsoring"),
        ("post", "/sponsoring/pause"),
        ("get", "/sponsoring/relapse"),
        ("get", "/asks"),
        ("get", "/sponsees"),
        ("get", "/still-available"),
        ("post", "/still-available"),
    ],
)
def test_a_newcomer_opening_sponsor_pages_gets_not_found(client, ask, method, path):
    _login(client, ask.newcomer)
    res = getattr(client, method)(path, data={"available": "y"} if method == "post" else None)
    assert res.status_code == 404
    assert "We could not find that page" in res.get_data(as_text=True)


def test_the_menu_shows_sponsor_pages_to_sponsors_only(client, ask):
    _login(client, ask.sponsor)
    html = client.get("/asks").get_data(as_text=True)
    assert 'href="/asks" aria-current="page"' in html and 'href="/sponsees"' in html
    _login(client, ask.newcomer)
    assert 'href="/asks"' not in client.get("/sponsor").get_data(as_text=True)


def test_the_inbox_reads_in_spanish(client, ask):
    ask.sponsor.locale = "es"
    db.session.commit()
    _login(client, ask.sponsor)
    html = client.get("/asks").get_data(as_text=True)
    assert "Quedan unas 48 horas" in html
    assert "Sí, apadrinaré a Ana P." in html
    assert "<dt>Habla</dt><dd>Inglés y español</dd>" in html  # Spanish capitals


# --- sponsees --------------------------------------------------------------------------------


def test_my_sponsees_lists_each_pair_with_last_contact_and_next_check_in(client, ask):
    _login(client, ask.sponsor)
    client.post(f"/asks/{ask.uuid}/accept")
    html = client.get("/sponsees").get_data(as_text=True)
    assert "Ana P." in html and "Not yet" in html and "Talk again by" in html
    res = client.post(
        f"/pairs/{db.session.scalar(select(Sponsorship.uuid))}/contacts",
        data={"kind": "call", "back": "sponsees"},
    )
    assert res.status_code == 302 and res.headers["Location"] == "/sponsees"
    assert "Not yet" not in client.get("/sponsees").get_data(as_text=True)


# --- still available? ------------------------------------------------------------------------


def test_still_available_answers_the_open_monthly_check(client, ask):
    check = AvailabilityCheck(member_id=ask.sponsor_id, period="2026-12", asked_at=utcnow())
    db.session.add(check)
    db.session.commit()
    _login(client, ask.sponsor)
    assert "Answer now" in client.get("/sponsoring").get_data(as_text=True)
    html = client.get("/still-available").get_data(as_text=True)
    assert "Are you still available to sponsor?" in html
    res = client.post("/still-available", data={"available": "y"})
    assert res.status_code == 302 and res.headers["Location"] == "/sponsoring"
    db.session.expire_all()
    assert db.session.get(AvailabilityCheck, check.id).answer == "available"
    assert "Answer now" not in client.get("/sponsoring").get_data(as_text=True)


def test_still_available_without_a_check_confirms_or_pauses(client, ask):
    profile = ask.sponsor.sponsor_profile
    profile.availability_confirmed_at = utcnow() - timedelta(days=40)
    db.session.commit()
    _login(client, ask.sponsor)
    client.post("/still-available", data={"available": "y"})
    db.session.expire_all()
    assert utcnow() - profile.availability_confirmed_at < timedelta(minutes=1)
    client.post("/still-available", data={"available": "n"})
    db.session.expire_all()
    assert profile.accepting is False
    res = client.post("/still-available", data={})  # neither answer: nothing changes
    assert res.headers["Location"] == "/still-available"


def test_an_ask_past_its_deadline_cannot_be_accepted_from_the_inbox(client, ask):
    ask.deadline_at = utcnow() - timedelta(minutes=1)  # the expiry job has not run yet
    db.session.commit()
    _login(client, ask.sponsor)
    page = entities.unescape(client.get("/asks").get_data(as_text=True))
    assert "Nobody is waiting for your answer right now." in page
    assert "Ana P.: the time to answer ran out." in page
    assert client.post(f"/asks/{ask.uuid}/accept").headers["Location"] == "/asks"
    assert client.get(f"/asks/{ask.uuid}/decline").headers["Location"] == "/asks"
    assert db.session.query(Sponsorship).count() == 0


def test_a_sponsor_who_is_not_eligible_is_not_told_newcomers_can_ask(client, ask):
    """Sober for 100 days in a programme that asks for 365: neither the headline nor the
    "welcome back" says newcomers can ask."""
    profile = ask.sponsor.sponsor_profile
    profile.sobriety_date = date.today() - timedelta(days=100)
    db.session.commit()
    _login(client, ask.sponsor)
    html = entities.unescape(client.get("/sponsoring").get_data(as_text=True))
    assert "Open to new asks" not in html and "Not open to new asks yet" in html
    assert f"Newcomers in {ask.request.program.name} can't ask you right now:" in html
    client.post("/sponsoring/pause")
    client.post("/sponsoring/resume")
    html = entities.unescape(client.get("/sponsoring").get_data(as_text=True))
    assert "Welcome back. Newcomers can ask you again." not in html
    assert "Welcome back. Newcomers can't ask you right now; this page says why." in html
    assert "Not open to new asks yet" in html


def test_pausing_until_a_day_ends_by_itself(client, ask):
    _login(client, ask.sponsor)
    html = client.get("/sponsoring").get_data(as_text=True)
    assert 'name="paused_until"' in html and "Until (optional)" in html
    res = client.post("/sponsoring/pause", data={"paused_until": "2001-01-01"})
    assert res.status_code == 422
    assert _field_error(res.get_data(as_text=True), "paused_until") == "Cannot be in the past."
    assert 'value="2001-01-01"' in res.get_data(as_text=True)
    until = date.today() + timedelta(days=10)
    res = client.post("/sponsoring/pause", data={"paused_until": until.isoformat()})
    assert res.status_code == 302
    profile = db.session.scalar(select(SponsorProfile))
    db.session.refresh(profile)
    assert (profile.accepting, profile.paused_until) == (True, until)
    html = entities.unescape(client.get("/sponsoring").get_data(as_text=True))
    assert "You are paused until" in html and "Paused: no new asks for now" in html
    assert "Your pause ends by itself after" in html and "Resume: I can take new asks" in html
    client.post("/sponsoring/resume")
    db.session.refresh(profile)
    assert (profile.accepting, profile.paused_until) == (True, None)


def test_the_decline_hint_quotes_the_options_and_the_flash_says_what_changed(client, ask):
    _login(client, ask.sponsor)
    form = entities.unescape(client.get(f"/asks/{ask.uuid}/decline").get_data(as_text=True))
    assert "“I have as many sponsees as I can take right now” lowers your capacity" in form
    assert "“I'm not available right now” pauses new asks" in form
    client.post(f"/asks/{ask.uuid}/decline", data={"reason": "at_capacity"})
    html = entities.unescape(client.get("/asks").get_data(as_text=True))
    # no sponsee yet: "at capacity" pauses, and the sponsor is told so
    assert "Thank you for answering. Ana P. will simply see their next option." in html
    assert "New asks are paused until you resume them on your Sponsoring page." in html
    profile = db.session.scalar(select(SponsorProfile))
    db.session.refresh(profile)
    assert profile.accepting is False


def test_declining_at_capacity_with_sponsees_says_the_new_capacity(client, ask, make_member):
    from api.services import sponsorships

    other = make_member(ask.request.program, "newcomer", display_name="Jon T.")
    request = sponsor_requests.open_request(other, ask.request.program, {"temporary_ok": True})
    second = proposals.ask(other, request.uuid, sponsor_uuid=ask.sponsor.uuid)
    sponsorships.accept(ask.sponsor, second.uuid)
    _login(client, ask.sponsor)
    client.post(f"/asks/{ask.uuid}/decline", data={"reason": "at_capacity"})
    html = entities.unescape(client.get("/asks").get_data(as_text=True))
    assert "Your capacity is now 1 sponsee." in html and "paused" not in html.lower()


def test_the_share_sentence_keeps_one_full_stop_after_a_name(client, ask):
    from api.models import Resource
    from api.services import sponsorships

    pair = sponsorships.accept(ask.sponsor, ask.uuid)
    db.session.add(
        Resource(
            program_id=pair.program_id,
            title="Meeting list",
            kind="meetings",
            url="https://example.org",
        )
    )
    db.session.commit()
    _login(client, ask.sponsor)
    html = entities.unescape(client.get(f"/pairs/{pair.uuid}").get_data(as_text=True))
    assert "Share something helpful" in html
    assert "Pick one to send to Ana P." in html and "Ana P.." not in html
    assert "Only what fits the fellowships and languages of Ana P." in html


def test_past_sponsees_are_listed_by_when_they_ended(client, ask, make_member):
    from datetime import timedelta

    _login(client, ask.sponsor)
    now = utcnow()
    for name, started, ended in (("Ola B.", 400, 10), ("Pia C.", 100, 90)):
        db.session.add(
            Sponsorship(
                program_id=ask.program_id,
                sponsor_id=ask.sponsor_id,
                sponsee_id=make_member(ask.request.program, "newcomer", display_name=name).id,
                started_at=now - timedelta(days=started),
                status="ended",
                ended_at=now - timedelta(days=ended),
            )
        )
    db.session.commit()
    html = client.get("/sponsees").get_data(as_text=True)
    assert html.index("Ola B.") < html.index("Pia C.")  # ended 10 days ago, before 90
