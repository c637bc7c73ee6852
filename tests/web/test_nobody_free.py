"""The "nobody is free yet" page names a way out that is the newcomer's own to take, with a
link to the profile step that takes it and back; the shortlist and the ask that follow it."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD


@pytest.fixture
def programme(make_program, make_member):
    program = make_program()
    # the only sponsor: open to anyone's gender, in NA, speaks English
    make_member(program, "sponsor", gender="man", gender_rule="any", fellowships=["NA"])
    return program


def _asked(client, make_member, programme, **fields):
    member = make_member(programme, "newcomer", **fields)
    assert client.post("/login", data={"email": member.email, "password": PASSWORD}).status_code
    assert client.post("/sponsor/request", data={}).status_code == 302
    return client.get("/sponsor").get_data(as_text=True)


LINK = '<a href="/profile/about-you?from=sponsor">Change my profile</a>'


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"fellowships": []}, "You have not chosen a fellowship yet."),
        ({"gender": None, "fellowships": ["NA"]}, "needs to know your gender"),
        ({"gender": "woman", "fellowships": ["NA"]}, "If a sponsor of any gender is fine"),
        ({"gender": "man", "fellowships": ["AA"]}, "If a sponsor from another fellowship is fine"),
    ],
)
def test_nobody_free_names_what_the_newcomer_can_change(
    client, make_member, programme, fields, said
):
    page = _asked(client, make_member, programme, **fields)
    assert "Nobody is free to ask yet" in page
    assert said in page and LINK in page


def test_no_way_out_is_offered_where_there_is_none(client, make_member, programme):
    page = _asked(
        client, make_member, programme, gender="man", fellowships=["NA"], languages=["es"]
    )
    assert "Nobody is free to ask yet" in page and "Change my profile" not in page


def test_the_step_opened_from_there_saves_and_returns_to_the_request(
    client, db, make_member, programme
):
    member = make_member(programme, "newcomer", gender="woman", fellowships=["NA"])
    client.post("/login", data={"email": member.email, "password": PASSWORD})
    client.post("/sponsor/request", data={})
    step = client.get("/profile/about-you?from=sponsor").get_data(as_text=True)
    assert 'href="/sponsor">Cancel</a>' in step
    res = client.post(
        "/profile/about-you?from=sponsor",
        data={"gender": "woman", "gender_rule": "any", "fellowships": "NA", "languages": "en"},
    )
    assert res.status_code == 302 and res.headers["Location"] == "/sponsor"
    db.session.refresh(member)
    assert member.gender_rule == "any"
    assert "Ask the best for me" in client.get("/sponsor").get_data(as_text=True)


def test_ask_someone_else_keeps_the_ask_when_nobody_else_fits(client, db, make_member, programme):
    from api.models import Proposal

    member = make_member(programme, "newcomer", gender="man", fellowships=["NA"])
    client.post("/login", data={"email": member.email, "password": PASSWORD})
    client.post("/sponsor/request", data={})
    client.post("/sponsor/ask", data={"best": "y"})
    res = client.post("/sponsor/ask-someone-else")
    assert res.status_code == 302
    page = client.get("/sponsor").get_data(as_text=True)
    assert "is the only sponsor who fits you right now, so your ask stays with them." in page
    assert db.session.query(Proposal).one().status == "pending"


def test_ask_someone_else_takes_back_only_the_waiting_ask(client, db, make_member, programme):
    # a second sponsor who fits, so there is someone else to ask
    make_member(programme, "sponsor", gender="man", gender_rule="any", fellowships=["NA"])
    from api.models import Proposal, SponsorRequest

    member = make_member(programme, "newcomer", gender="man", fellowships=["NA"])
    client.post("/login", data={"email": member.email, "password": PASSWORD})
    client.post("/sponsor/request", data={"note": "evenings are best"})
    res = client.post("/sponsor/ask", data={"best": "y"})
    waiting = client.get("/sponsor").get_data(as_text=True)
    assert "Ask someone else" in waiting and "Withdraw my request" in waiting

    res = client.post("/sponsor/ask-someone-else")
    assert res.status_code == 302 and res.headers["Location"] == "/sponsor"
    page = client.get("/sponsor").get_data(as_text=True)
    assert "that no answer is needed. Here are your options." in page
    proposal = db.session.query(Proposal).one()
    assert proposal.status == "withdrawn"
    request = db.session.query(SponsorRequest).one()
    assert request.status == "open" and request.note == "evenings are best"  # kept


def test_asking_one_by_name_is_worded_as_the_newcomers_own_choice(
    client, db, make_member, programme
):
    from api.models import SponsorProfile

    member = make_member(programme, "newcomer", gender="man", fellowships=["NA"])
    client.post("/login", data={"email": member.email, "password": PASSWORD})
    client.post("/sponsor/request", data={})
    sponsor = db.session.query(SponsorProfile).one().member
    client.post("/sponsor/ask", data={"sponsor_id": str(sponsor.uuid)})
    page = client.get("/sponsor").get_data(as_text=True)
    assert "know you would like them as your sponsor." in page


def test_the_shortlist_says_the_sobriety_band_once(client, make_program, make_member):
    from datetime import date, timedelta

    program = make_program()
    sober = {"sobriety_date": date.today() - timedelta(days=20 * 366)}
    make_member(program, "sponsor", gender="man", gender_rule="any", sponsor=sober)
    member = make_member(program, "newcomer", gender="man", contact_modes=[])
    client.post("/login", data={"email": member.email, "password": PASSWORD})
    client.post("/sponsor/request", data={})
    page = client.get("/sponsor").get_data(as_text=True)
    assert "Sober 10+ years" in page  # beside the name
    assert "of continuous sobriety" not in page  # not again, more precisely, as a reason
    assert "You are both in" in page  # the other reasons stay


def test_nobody_near_enough_says_how_to_look_farther(client, make_member, programme):
    member = make_member(programme, "newcomer", gender="man", fellowships=["NA"])
    client.post("/login", data={"email": member.email, "password": PASSWORD})
    member.lat, member.lon = 45.52, -122.68  # Portland; the sponsor has no place at all
    from api.extensions import db

    db.session.commit()
    res = client.post("/sponsor/request", data={"in_person_needed": "y", "max_distance_km": "5"})
    assert res.status_code == 302
    page = client.get("/sponsor").get_data(as_text=True)
    assert "Nobody is free to ask yet" in page
    assert "To look farther, or for someone to talk with by phone" in page


def test_a_second_ask_from_a_stale_page_is_said_in_the_readers_language(
    client, db, make_member, programme
):
    make_member(programme, "sponsor", gender="man", gender_rule="any", fellowships=["NA"])
    member = make_member(programme, "newcomer", gender="man", fellowships=["NA"], locale="es")
    client.post("/login", data={"email": member.email, "password": PASSWORD})
    client.post("/sponsor/request", data={})
    client.post("/sponsor/ask", data={"best": "y"})
    client.post("/sponsor/ask", data={"best": "y"})  # the stale page's button, tapped again
    page = client.get("/sponsor").get_data(as_text=True)
    assert "Ya le pediste a alguien y estás esperando su respuesta." in page
