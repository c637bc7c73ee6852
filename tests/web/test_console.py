"""The coordinator's console pages through the session login: rounds and members."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from api.extensions import db
from api.models import AuditLog, MatchingRound, Notification, Proposal, RoundPair
from tests.api.workflow_fixture import open_request, world_fixture  # noqa: F401
from tests.factories import PASSWORD


def login(client, member):
    res = client.post("/login", data={"email": member.email, "password": PASSWORD})
    assert res.status_code == 302


def text(res) -> str:
    return res.get_data(as_text=True)


@pytest.fixture
def w(world):
    w = world(n_sponsors=4, n_newcomers=3, capacity=1)
    for newcomer in w.newcomers:
        open_request(newcomer, w.program)
    return w


def base(w) -> str:
    return f"/coordinator/{w.program.uuid}"


def test_the_menu_leads_a_coordinator_straight_to_their_only_programme(client, w):
    login(client, w.coordinator)
    assert 'href="/coordinator"' in text(client.get(base(w)))
    res = client.get("/coordinator")
    assert res.status_code == 302 and res.headers["Location"] == base(w)
    html = text(client.get(base(w)))
    assert "3</div>" in html and "newcomers waiting for a sponsor" in html


def test_a_round_is_drafted_changed_and_published_with_a_count(client, w):
    login(client, w.coordinator)
    assert "3 newcomers are waiting" in text(client.get(base(w) + "/rounds"))
    res = client.post(base(w) + "/rounds")
    assert res.status_code == 302
    page = text(client.get(res.headers["Location"]))
    assert "Review the round" in page and "Nobody has been told anything yet" in page
    assert "Both are in AA" in page and page.count("Change or remove") == 3
    assert "Publish 3 proposals…" in page

    rnd = db.session.scalar(select(MatchingRound))
    first, second = sorted(rnd.pairs, key=lambda p: p.id)[:2]
    round_url = f"{base(w)}/rounds/{rnd.uuid}"
    # Remove one pair: the reason is required and named beside its field.
    res = client.post(f"{round_url}/pairs/{first.uuid}/remove", data={"reason": ""})
    assert res.status_code == 422 and 'id="reason-error"' in text(res)
    res = client.post(
        f"{round_url}/pairs/{first.uuid}/remove", data={"reason": "They know each other"}
    )
    assert res.status_code == 302
    # Replace the sponsor of another from the eligible alternatives offered on its page.
    change = text(client.get(f"{round_url}/pairs/{second.uuid}"))
    offered = re.findall(r'name="sponsor_id" value="([^"]+)"', change)
    assert offered and str(second.sponsor.uuid) not in offered
    res = client.post(
        f"{round_url}/pairs/{second.uuid}/replace",
        data={"sponsor_id": offered[0], "reason": "Closer to home"},
    )
    assert res.status_code == 302
    db.session.expire_all()
    assert str(db.session.get(RoundPair, second.id).sponsor.uuid) == offered[0]

    confirm = text(client.get(f"{round_url}/publish"))
    assert "Send 2 proposals?" in confirm and "48 hours to answer" in confirm
    res = client.post(f"{round_url}/publish")
    assert res.status_code == 302
    done = text(client.get(res.headers["Location"]))
    assert "2 proposals went out." in done and "Published round" in done
    proposals = db.session.scalars(select(Proposal)).all()
    assert len(proposals) == 2 and {p.source for p in proposals} == {"round"}
    asked = {n.member_id for n in db.session.scalars(select(Notification))}
    assert {p.sponsor_id for p in proposals} <= asked
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"round.pair_removed", "round.pair_replaced", "round.published"} <= actions


def test_a_round_page_works_in_spanish(client, w):
    login(client, w.coordinator)
    client.post("/language", data={"locale": "es", "next": "/"})
    res = client.post(base(w) + "/rounds")
    page = text(client.get(res.headers["Location"]))
    assert "Revisa la ronda" in page


def test_members_filter_and_same_names_are_told_apart(client, w, make_member):
    twin = make_member(w.program, "newcomer", display_name=w.newcomers[0].display_name)
    twin.fellowships = ["NA"]
    db.session.commit()
    login(client, w.coordinator)
    page = text(client.get(base(w) + "/members?role=newcomer"))
    assert "4 members" in page
    name = w.newcomers[0].display_name
    assert f"{name} (joined " in page and ", AA)" in page and ", NA)" in page
    assert "3 members" in text(client.get(base(w) + "/members?waiting=yes"))
    res = client.get(base(w) + "/members?role=pilot")
    assert res.status_code == 422 and 'id="role-error"' in text(res)


def test_a_member_page_pauses_unpauses_and_changes_roles(client, w):
    login(client, w.coordinator)
    sponsor = w.sponsors[0]
    url = f"{base(w)}/members/{sponsor.uuid}"
    page = text(client.get(url))
    assert "Open to new asks" in page and "0 of 1 places taken" in page
    res = client.post(url + "/pause", data={"reason": "x"})
    assert res.status_code == 422 and 'id="reason-error"' in text(res)
    assert client.post(url + "/pause", data={"reason": "Moving house"}).status_code == 302
    page = text(client.get(url))
    assert "Paused: no new asks" in page and "Unpause" in page
    assert client.post(url + "/unpause", data={"reason": "Back"}).status_code == 302
    res = client.post(url + "/roles", data={"roles": ["sponsor", "newcomer"], "reason": "Asked"})
    assert res.status_code == 302
    assert "Newcomer and Sponsor" in text(client.get(url))
    mine = f"{base(w)}/members/{w.coordinator.uuid}/roles"
    res = client.post(mine, data={"roles": ["sponsor"], "reason": "oops"})
    assert res.status_code == 422 and "your own coordinator role" in text(res)


ROUTES = [
    ("get", ""),
    ("get", "/rounds"),
    ("post", "/rounds"),
    ("get", "/members"),
    ("get", "/members/{member}"),
    ("post", "/members/{member}/pause"),
    ("post", "/members/{member}/roles"),
    ("get", "/settings"),
    ("post", "/settings"),
]


@pytest.mark.parametrize("who", ["other coordinator", "sponsor"])
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_everyone_but_this_programmes_coordinator_gets_404(client, w, world, who, method, path):
    other = world(n_sponsors=0, n_newcomers=0)
    login(client, other.coordinator if who == "other coordinator" else w.sponsors[1])
    url = base(w) + path.format(member=w.sponsors[0].uuid)
    res = getattr(client, method)(url, data={"reason": "Because", "roles": ["sponsor"]})
    assert res.status_code == 404
    assert db.session.scalar(select(MatchingRound)) is None


def test_a_round_of_another_programme_is_404(client, w, world):
    other = world(n_sponsors=1, n_newcomers=1)
    open_request(other.newcomers[0], other.program)
    login(client, other.coordinator)
    client.post(f"/coordinator/{other.program.uuid}/rounds")
    rnd = db.session.scalar(select(MatchingRound))
    client.post("/logout")
    login(client, w.coordinator)
    assert client.get(f"{base(w)}/rounds/{rnd.uuid}").status_code == 404
    assert client.post(f"{base(w)}/rounds/{rnd.uuid}/publish").status_code == 404


def test_settings_show_every_setting_with_its_default_and_changes_are_audited(client, w):
    from api.program_settings import DEFAULTS

    login(client, w.coordinator)
    url = base(w) + "/settings"
    page = text(client.get(url))
    for name in DEFAULTS:
        if name != "match_weights":
            assert f'name="{name}"' in page, name
    assert 'name="weight_language"' in page
    assert "Default: 48." in page and "Default: 365." in page and "Default: 1.5." in page
    form = dict(
        re.findall(
            r'<input id="([a-z_]+)" name="\1" type="(?:number|time|text)" value="([^"]*)"', page
        )
    )
    form["crisis_line"] = html.unescape(
        re.search(r'<textarea id="crisis_line"[^>]*>([^<]*)<', page).group(1)
    )
    form["same_gender_default"] = "y"
    res = client.post(url, data={**form, "proposal_deadline_hours": "0"})
    assert res.status_code == 422 and 'id="proposal_deadline_hours-error"' in text(res)
    res = client.post(url, data={**form, "proposal_deadline_hours": "72", "weight_language": "3"})
    assert res.status_code == 302
    db.session.expire_all()
    assert w.program.setting("proposal_deadline_hours") == 72
    assert w.program.setting("match_weights")["language"] == 3.0
    assert set(w.program.settings) == {"proposal_deadline_hours", "match_weights"}
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "program.update")).one()
    assert row.details["settings"]["proposal_deadline_hours"] == {"from": 48, "to": 72}
    assert "Saved. The change is in the log." in text(client.get(url))
