"""The coordinator's console pages through the session login: rounds and members."""

from __future__ import annotations

import html
import io
import re

import pytest
from flask_babel import refresh
from sqlalchemy import select

from api.extensions import db
from api.models import (
    AuditLog,
    MatchingRound,
    Member,
    Notification,
    OutboxMessage,
    Proposal,
    RoundPair,
    Webhook,
)
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


def test_the_console_counts_the_long_waits_it_emails_about(client, w):
    from datetime import timedelta

    from api.models import SponsorRequest, utcnow

    mine = select(SponsorRequest).where(SponsorRequest.program_id == w.program.id)
    first = db.session.scalars(mine.order_by(SponsorRequest.id)).first()
    first.created_at = utcnow() - timedelta(days=8)
    db.session.commit()
    login(client, w.coordinator)
    page = text(client.get(base(w)))
    tile = '<div class="value">1</div><div class="label">of them has waited a week or more'
    assert tile in page


def test_the_menu_leads_a_coordinator_straight_to_their_only_programme(client, w):
    login(client, w.coordinator)
    assert 'href="/coordinator"' in text(client.get(base(w)))
    res = client.get("/coordinator")
    assert res.status_code == 302 and res.headers["Location"] == base(w)
    html = text(client.get(base(w)))
    # The round's count (nobody asked yet), so not the dashboard's words for every open request.
    assert "3</div>" in html and "newcomers waiting with nobody asked yet" in html
    assert "newcomers waiting for a sponsor" not in html
    # The link says what the page it opens is called.
    assert html.count("Pairs that went quiet") >= 2 and "Escalations" not in html
    page = text(client.get(f"/programs/{w.program.uuid}/escalations"))
    assert "<title>Pairs that went quiet" in page and "Escalations" not in page


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
    assert "Take this pair out instead" in text(client.get(f"{round_url}/pairs/{first.uuid}"))
    assert "out of the round?" in text(client.get(f"{round_url}/pairs/{first.uuid}/remove"))
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


def test_a_role_still_in_use_is_refused_with_what_a_coordinator_can_do(client, w):
    """The console cannot end a pair or take back an ask, so the message never asks for that."""
    login(client, w.coordinator)
    sponsor, newcomer = w.sponsors[0], w.newcomers[0]
    sponsor.sponsor_profile.load = 1
    db.session.commit()
    url = f"{base(w)}/members/{sponsor.uuid}/roles"
    page = html.unescape(text(client.post(url, data={"roles": [], "reason": "Moving"})))
    assert "You can pause new asks for them" in page and "end those first" not in page
    url = f"{base(w)}/members/{newcomer.uuid}/roles"
    page = html.unescape(text(client.post(url, data={"roles": ["sponsor"], "reason": "Asked"})))
    assert "The newcomer role can be removed once they have one" in page
    assert "withdraw" not in page
    client.post("/language", data={"locale": "es", "next": "/"})
    refresh()  # the test shares one app context, where Flask-Babel keeps the locale
    page = html.unescape(text(client.post(url, data={"roles": ["sponsor"], "reason": "Asked"})))
    assert "La función de recién llegado se puede quitar" in page


def test_no_role_says_what_it_means_and_the_filters_say_what_they_filter(client, w):
    login(client, w.coordinator)
    url = f"{base(w)}/members/{w.sponsors[1].uuid}"  # no sponsees, no asks waiting
    page = html.unescape(text(client.get(url)))
    assert "With none ticked they stay in the programme" in page
    res = client.post(url + "/roles", data={"reason": "Moved away"}, follow_redirects=True)
    page = html.unescape(text(res))
    assert "They have no role now: they stay in the programme" in page
    assert "Their roles are changed." not in page
    page = html.unescape(text(client.get(base(w) + "/members")))
    assert "Has the role" in page and "Some sponsors are waiting for a sponsor too" in page


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
    ("get", "/invite"),
    ("post", "/invite"),
    ("get", "/import"),
    ("post", "/import/preview"),
    ("post", "/import"),
    ("get", "/import/template.csv"),
    ("get", "/export.csv"),
    ("get", "/poster"),
    ("get", "/webhooks"),
    ("post", "/webhooks"),
    ("get", "/log"),
    ("get", "/log.csv"),
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
    assert "(free, 24/7).." not in page and "(free, 24/7)." in page  # one full stop
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


def _ids_out(body: bytes) -> bytes:
    """A response without what differs on every request: CSRF tokens and uuids."""
    body = re.sub(rb'name="csrf_token" value="[^"]+"', b"", body)
    return re.sub(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", b"", body)


def test_an_invitation_answers_the_same_for_any_address(client, w, make_program, make_member):
    elsewhere = make_member(make_program(), "sponsor", email="elsewhere@example.test")
    login(client, w.coordinator)
    url = base(w) + "/invite"
    assert "Send the invitation" in text(client.get(url))
    res = client.post(url, data={"email": "nope", "roles": ["newcomer"]})
    assert res.status_code == 422 and 'id="email-error"' in text(res)
    pages = []
    for email in ("elsewhere@example.test", "brand-new@example.test"):
        res = client.post(url, data={"email": email, "roles": ["newcomer"]})
        assert res.status_code == 302
        page = client.get(res.headers["Location"]).get_data()
        pages.append(page.replace(email.encode(), b"EMAIL"))
    assert _ids_out(pages[0]) == _ids_out(pages[1])
    assert b"We sent an invitation to EMAIL." in pages[0]
    mails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.event == "account.invitation")
    ).all()
    assert len(mails) == 2 and all(m.status == "pending" for m in mails)
    assert db.session.get(Member, elsewhere.id).memberships[0].program_id != w.program.id
    from tests.api.test_trust_mail import PREVIEW, RECOVERY_WORDS

    for mail in mails:  # what an inbox preview shows says nothing about recovery
        assert not RECOVERY_WORDS.search(mail.payload["body"][:PREVIEW]), mail.payload["body"]


def test_the_invitee_joins_from_the_link_and_sets_a_password(client, w):
    from api.services.invitations import invitation_link

    link = invitation_link(w.program, "new@example.test", ["newcomer"])
    path = link.split("localhost", 1)[-1] if "localhost" in link else "/" + link.split("/", 3)[3]
    page = text(client.get(path))
    assert "Choose a password" in page and w.program.name in page
    res = client.post(path, data={"display_name": "Lu B.", "password": "short", "time_zone": "UTC"})
    assert res.status_code == 422 and 'id="password-error"' in text(res)
    res = client.post(
        path,
        data={"display_name": "Lu B.", "password": "a long enough pass", "time_zone": "UTC"},
    )
    assert res.status_code == 302
    lu = db.session.scalar(select(Member).where(Member.email == "new@example.test"))
    assert lu.email_verified_at is not None and lu.memberships[0].roles == ["newcomer"]
    client.post("/logout")
    # The same link for an account that now exists just joins; a forged one is refused.
    assert "Join " in text(client.get(path))
    assert client.get(path[:-3] + "xyz").status_code == 400


def test_an_imported_invitee_keeps_the_zone_and_joins_in_the_pages_language(client, w):
    from api.services.invitations import invitation_link

    login(client, w.coordinator)
    csv = b"email,display_name,roles,time_zone\nana@example.test,Ana I.,newcomer,America/Bogota\n"
    res = client.post(
        base(w) + "/import", data={"file": (io.BytesIO(csv), "people.csv"), "confirm": "y"}
    )
    ana = db.session.scalar(select(Member).where(Member.email == "ana@example.test"))
    assert ana is not None and ana.time_zone == "America/Bogota", text(res)[:300]
    client.post("/logout")
    link = invitation_link(w.program, "ana@example.test", ["newcomer"])
    path = "/" + link.split("/", 3)[3]
    page = text(client.get(path, headers={"Accept-Language": "es"}))
    assert '<option value="America/Bogota" selected>' in page  # the list starts at her zone
    res = client.post(
        path,
        data={"display_name": "Ana I.", "password": "a long enough pass"},  # no zone sent
        headers={"Accept-Language": "es"},
    )
    assert res.status_code == 302
    db.session.refresh(ana)
    assert ana.time_zone == "America/Bogota" and ana.locale == "es"


def test_an_invitation_speaks_the_one_language_the_invitee_lists(client, w):
    login(client, w.coordinator)  # the coordinator's pages speak English
    csv = b"email,display_name,roles,languages\nbea@example.test,Bea R.,newcomer,es\n"
    csv += b"cy@example.test,Cy R.,newcomer,en;es\n"
    client.post(base(w) + "/import", data={"file": (io.BytesIO(csv), "p.csv"), "confirm": "y"})
    mails = {
        m.member_id: m.payload
        for m in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.event == "account.invitation")
        )
    }
    bea, cy = (
        db.session.scalar(select(Member).where(Member.email == email))
        for email in ("bea@example.test", "cy@example.test")
    )
    assert bea.locale == "es" and mails[bea.id]["title"] == "Tienes una invitación"
    assert "Abre este enlace" in mails[bea.id]["body"]
    assert (
        cy.locale == "en" and mails[cy.id]["title"] == "You are invited"
    )  # both: the coordinator's


def test_an_existing_account_joins_with_one_tap(client, w, make_program, make_member):
    from api.services.invitations import invitation_link

    other = make_member(make_program(), "newcomer")
    link = invitation_link(w.program, other.email, ["sponsor"])
    path = "/" + link.split("/", 3)[3]
    assert "You already have an account here" in text(client.get(path))
    res = client.post(path + "/join")
    assert res.status_code == 302 and "/login" in res.headers["Location"]
    db.session.expire_all()
    assert {m.program_id for m in db.session.get(Member, other.id).memberships} >= {w.program.id}


BAD_CSV = b"email,display_name,roles\nzoe@example.test,Zoe A.,newcomer\nbad-address,Yan B.,pilot\n"
GOOD_CSV = (
    b"email,display_name,roles\nzoe@example.test,Zoe A.,newcomer\nyan@example.test,Yan B.,sponsor\n"
)


def test_import_preview_shows_row_errors_then_imports_the_fixed_file(client, w):
    login(client, w.coordinator)
    url = base(w) + "/import"
    assert "Download the template" in text(client.get(url))
    res = client.post(url + "/preview", data={"file": (io.BytesIO(BAD_CSV), "m.csv")})
    page = text(res)
    assert res.status_code == 200 and "2 problems need fixing" in page
    assert "Gets an email inviting them to join" in page and 'class="row-error"' in page
    res = client.post(url + "/preview", data={"file": (io.BytesIO(GOOD_CSV + b"x"), "m.csv")})
    fixed = GOOD_CSV.replace(b"Yan B.,sponsor", b"Yan B.,newcomer")
    res = client.post(url + "/preview", data={"file": (io.BytesIO(fixed), "m.csv")})
    page = text(res)
    assert res.status_code == 200 and "All 2 rows are ready" in page
    carried = html.unescape(re.search(r'<textarea name="csv"[^>]*>(.*?)</textarea>', page, re.S)[1])
    res = client.post(url, data={"csv": carried})
    assert res.status_code == 302
    assert "2 people were invited." in text(client.get(url))
    assert db.session.scalar(select(Member).where(Member.email == "zoe@example.test")) is not None
    assert client.get(base(w) + "/import/template.csv").mimetype == "text/csv"
    export = client.get(base(w) + "/export.csv")
    assert export.mimetype == "text/csv" and b"email" in export.get_data()


def test_the_import_preview_never_reveals_an_account_elsewhere(
    client, w, make_program, make_member
):
    make_member(make_program(), "sponsor", email="elsewhere@example.test")
    login(client, w.coordinator)
    pages = []
    for email in (b"elsewhere@example.test", b"brand-new@example.test"):
        body = b"email,display_name,roles\n" + email + b",Zoe A.,newcomer\n"
        for path in ("/import/preview", "/import"):
            res = client.post(base(w) + path, data={"file": (io.BytesIO(body), "m.csv")})
            if res.status_code == 302:
                res = client.get(res.headers["Location"])
            pages.append(_ids_out(res.get_data().replace(email, b"EMAIL")))
    assert pages[0] == pages[2] and pages[1] == pages[3]
    assert b"Gets an email inviting them to join" in pages[0]
    assert b"1 person was invited." in pages[1]


def qr_modules(svg: str):
    """The dark modules of a segno SVG, read back from its path (each "h" draws a run)."""
    import numpy as np

    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg)[1])
    grid = np.full((size, size), 255, dtype=np.uint8)
    x = y = 0.0
    for op, a, b in re.findall(
        r"([MmHh])\s*(-?[\d.]+)(?:[ ,](-?[\d.]+))?",
        re.search(r'class="qrline"[^>]* d="([^"]+)"', svg)[1],
    ):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            end = x + float(a)
            grid[int(y), int(x) : int(end)] = 0
            x = end
    return grid


def test_the_poster_has_the_join_link_as_a_qr_code_that_decodes(client, w):
    import zxingcpp

    login(client, w.coordinator)
    page = text(client.get(base(w) + "/poster"))
    link = f"{client.application.config['BASE_URL'].rstrip('/')}/join/{w.program.join_code}"
    assert link in page and "988" in page and "A sponsor is someone further along" in page
    svg = re.search(r"<svg .*?</svg>", page, re.S)[0]
    assert 'role="img"' in svg
    image = qr_modules(svg).repeat(8, 0).repeat(8, 1)  # 8 px a module, as a printer would
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [link]


def test_webhooks_are_added_with_the_checks_tested_and_deleted(client, w):
    login(client, w.coordinator)
    url = base(w) + "/webhooks"
    assert "None yet." in text(client.get(url))
    res = client.post(url, data={"url": "http://10.1.2.3/hook"})
    assert res.status_code == 422 and 'id="url-error"' in text(res)
    res = client.post(url, data={"url": "http://127.0.0.1:9/hook"})
    page = text(res)
    assert res.status_code == 200 and "Copy the signing secret now" in page
    hook = db.session.scalar(select(Webhook))
    assert hook.secret in page
    assert hook.secret not in text(client.get(url))  # shown once
    res = client.post(f"{url}/{hook.uuid}/test")
    assert res.status_code == 302
    sent = db.session.scalars(select(OutboxMessage).where(OutboxMessage.event == "webhook.test"))
    assert [m.webhook_id for m in sent] == [hook.id]
    assert "The last notice is waiting to be sent." in text(client.get(url))
    assert "Delete this webhook?" in text(client.get(f"{url}/{hook.uuid}/delete"))
    assert client.post(f"{url}/{hook.uuid}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(Webhook, hook.id).active is False
    assert client.post(f"{url}/{hook.uuid}/test").status_code == 404


def test_settings_say_when_learned_weights_rank_sponsors_instead(client, w):
    from api.models import MatchModel

    login(client, w.coordinator)
    url = base(w) + "/settings"
    assert "Learned weights (version" not in text(client.get(url))
    db.session.add(
        MatchModel(
            program_id=w.program.id,
            version=3,
            status="active",
            weights={"language": 2.0},
            fixed_weights={"language": 1.5},
            figures={},
            summary={},
            reason="adopted",
            reason_args={},
            trigger="worker",
        )
    )
    db.session.commit()
    page = text(client.get(url))
    assert "Learned weights (version 3) rank sponsors now." in page
    assert f'href="/coordinator/{w.program.uuid}/model"' in page


def test_the_smallest_group_setting_starts_at_five(client, w):
    w.program.settings = {"small_cell_min": 1}  # stored before the floor existed
    db.session.commit()
    login(client, w.coordinator)
    url = base(w) + "/settings"
    page = text(client.get(url))
    assert 'name="small_cell_min" type="number" value="5"' in page
    assert "It is never below 5." in page
    res = client.post(url, data={"small_cell_min": "3"})
    assert res.status_code == 422 and 'id="small_cell_min-error"' in text(res)
    assert "Enter a number from 5 to 100." in text(res)


def test_starting_a_round_while_a_draft_waits_goes_to_that_draft(client, w):
    login(client, w.coordinator)
    first = client.post(base(w) + "/rounds")
    again = client.post(base(w) + "/rounds")
    assert again.status_code == 302 and again.headers["Location"] == first.headers["Location"]
    assert len(db.session.scalars(select(MatchingRound)).all()) == 1
    page = text(client.get(again.headers["Location"]))
    assert "A draft round is already waiting: here it is." in page
    home = text(client.get(base(w) + "/rounds"))
    assert "Review the draft of" in home and "Start a round" not in home


def test_a_stale_draft_counts_what_can_really_be_sent_and_says_who_was_not_asked(client, w):
    from api.services import rounds

    stale = rounds.run_round(w.program, w.coordinator)  # two drafts made through the API
    fresh = rounds.run_round(w.program, w.coordinator)
    rounds.publish(fresh, w.coordinator)
    before = (
        len(db.session.scalars(select(Proposal)).all()),
        len(db.session.scalars(select(OutboxMessage)).all()),
    )
    login(client, w.coordinator)
    round_url = f"{base(w)}/rounds/{stale.uuid}"
    confirm = text(client.get(round_url + "/publish"))
    assert "Nothing in this draft can be sent now" in confirm and "Close this draft" in confirm
    assert "3 pairs can no longer be asked" in confirm
    assert confirm.count("The sponsor has no room, is paused, or stopped accepting.") == 3
    after = (
        len(db.session.scalars(select(Proposal)).all()),
        len(db.session.scalars(select(OutboxMessage)).all()),
    )
    assert after == before  # looking wrote nothing and told nobody
    client.post(round_url + "/publish")
    page = text(client.get(round_url))
    assert "Each sponsor below was asked" not in page
    assert "0 sponsors below were asked." in page
    assert "3 pairs could not be asked: the reason is beside each." in page
    client.post("/language", data={"locale": "es", "next": "/"})
    refresh()  # the test shares one app context, where Flask-Babel keeps the locale
    page = text(client.get(round_url))
    assert "El padrino no tiene lugar, está en pausa o dejó de aceptar." in page
    assert "has no room" not in page
    # A published round's pairs can no longer be changed or taken out.
    pair = db.session.scalars(select(RoundPair).where(RoundPair.round_id == stale.id)).first()
    for path in ("", "/remove"):
        res = client.get(f"{round_url}/pairs/{pair.uuid}{path}")
        assert res.status_code == 302 and res.headers["Location"].endswith(round_url)
    res = client.post(f"{round_url}/pairs/{pair.uuid}/remove", data={"reason": "Too late now"})
    assert res.status_code == 302 and res.headers["Location"].endswith(round_url)


def test_a_round_where_some_pairs_went_out_counts_both(client, w):
    from api.services import rounds

    rnd = rounds.run_round(w.program, w.coordinator)
    pairs = sorted(rnd.pairs, key=lambda p: p.id)
    profile = pairs[0].sponsor.sponsor_profile
    profile.accepting = False  # this sponsor stopped accepting after the draft
    db.session.commit()
    login(client, w.coordinator)
    round_url = f"{base(w)}/rounds/{rnd.uuid}"
    confirm = text(client.get(round_url + "/publish"))
    assert "Send 2 proposals?" in confirm and "1 pair can no longer be asked" in confirm
    assert "The sponsor has no room, is paused, or stopped accepting." in confirm
    res = client.post(round_url + "/publish")
    done = text(client.get(res.headers["Location"]))
    assert "2 proposals went out." in done
    assert "2 sponsors below were asked." in done and "1 pair could not be asked" in done


def test_a_member_page_shows_the_note_a_newcomer_shared_and_how_their_asks_stand(
    client, world, make_member
):
    w = world(n_sponsors=2, n_newcomers=0)
    shared = make_member(w.program, "newcomer", display_name="Olga F.")
    private = make_member(w.program, "newcomer", display_name="Pia G.")
    open_request(shared, w.program, note="I work nights <b>only</b>.", note_for_coordinator=True)
    open_request(private, w.program, note="Only for me.", note_for_coordinator=False)
    login(client, w.coordinator)
    page = text(client.get(f"{base(w)}/members/{shared.uuid}"))
    assert "Their note for coordinators" in page
    assert "I work nights &lt;b&gt;only&lt;/b&gt;." in page
    assert "Nobody has been asked yet." in page
    page = text(client.get(f"{base(w)}/members/{private.uuid}"))
    assert "Only for me." not in page and "Their note for coordinators" not in page
    # An ask made for Olga: the page says it waits for an answer.
    from api.services import rounds

    rounds.publish(rounds.run_round(w.program, w.coordinator), w.coordinator)
    page = text(client.get(f"{base(w)}/members/{shared.uuid}"))
    assert "A sponsor has been asked and has not answered yet." in page


def test_the_log_shows_who_did_what_in_words_newest_first_and_pages(client, w):
    login(client, w.coordinator)
    sponsor = w.sponsors[0]
    url = f"{base(w)}/members/{sponsor.uuid}"
    client.post(url + "/pause", data={"reason": "Moving house"})
    client.post(url + "/roles", data={"roles": ["sponsor", "newcomer"], "reason": "Asked for it"})
    client.post(f"{base(w)}/settings", data={"proposal_deadline_hours": "72"})
    home = text(client.get(base(w)))
    assert f'href="{base(w)}/log"' in home
    assert f'href="{base(w)}/log?target_id={sponsor.uuid}"' in text(client.get(url))
    page = text(client.get(base(w) + "/log"))
    settings_at = page.index("Changed the programme&#39;s settings")
    roles_at = page.index(f"Changed the roles of {sponsor.display_name}")
    pause_at = page.index(f"Paused new asks for {sponsor.display_name}")
    assert settings_at < roles_at < pause_at  # newest first
    assert "Hours a sponsor has to answer" in page and "48 → 72" in page
    assert "Sponsor → Newcomer and Sponsor" in page
    assert "Moving house" in page and "Asked for it" in page
    assert "Cora D." in page and f'href="{base(w)}/log.csv"' in page
    only = text(client.get(f"{base(w)}/log?target_id={sponsor.uuid}"))
    assert "Changed the programme" not in only and "Show the whole log" in only
    assert client.get(f"{base(w)}/log?target_id=nope").status_code == 400
    res = client.get(base(w) + "/log.csv")
    assert res.status_code == 200 and res.mimetype == "text/csv"
    assert "sponsor.pause" in res.get_data(as_text=True)
    assert "Downloaded this log" in text(client.get(base(w) + "/log"))


def test_the_log_pages_fifty_at_a_time(client, w):
    from api.services.audit import audit

    for _ in range(55):
        audit("webhook.test", w.program, program_id=w.program.id, actor=w.coordinator)
    db.session.commit()
    login(client, w.coordinator)
    first = text(client.get(base(w) + "/log"))
    assert first.count("Tested a webhook") == 50 and "Older entries" in first
    assert "Newer entries" not in first
    second = text(client.get(base(w) + "/log?page=2"))
    assert second.count("Tested a webhook") == 5 and "Newer entries" in second
    assert "Older entries" not in second


def _import(client, w, body: bytes) -> tuple[str, str]:
    """The preview of ``body`` and the page after confirming it."""
    url = base(w) + "/import"
    preview = text(client.post(url + "/preview", data={"file": (io.BytesIO(body), "m.csv")}))
    res = client.post(url, data={"csv": body.decode()})
    assert res.status_code == 302
    return preview, text(client.get(res.headers["Location"]))


def test_a_corrected_row_for_someone_not_joined_yet_updates_what_they_start_with(client, w):
    login(client, w.coordinator)
    head = b"email,display_name,roles,capacity,sobriety_date\n"
    first = head + b"zoe@example.test,Zoe A.,newcomer,,\n"
    first += b"yan@example.test,Yan B.,sponsor,2,2020-01-02\n"
    _preview, done = _import(client, w, first)
    assert "2 people were invited." in done
    fixed = first.replace(b"Yan B.,sponsor,2", b"Yan C.,sponsor,4")
    preview, done = _import(client, w, fixed)
    assert preview.count("Invited less than an hour ago: their details are updated") == 2
    assert "2 people were invited less than an hour ago: their details were updated" in done
    assert "people were invited." not in done
    yan = db.session.scalar(select(Member).where(Member.email == "yan@example.test"))
    assert yan.display_name == "Yan C." and yan.sponsor_profile.capacity == 4
    actions = list(db.session.scalars(select(AuditLog.action)))
    assert actions.count("invitation.updated") == 2
    # Other roles make another link, so a fresh email goes out at once.
    _preview, done = _import(client, w, first.replace(b"Zoe A.,newcomer", b"Zoe A.,sponsor"))
    assert "Import" in done and "1 person was invited." not in done  # Zoe needs a sobriety date
    both = fixed.replace(b"Zoe A.,newcomer,,", b"Zoe A.,sponsor,,2019-03-04")
    _preview, done = _import(client, w, both)
    assert "1 person was invited." in done and "1 person was invited less than an hour" in done
    mails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.event == "account.invitation")
    ).all()
    assert sorted(db.session.get(Member, m.member_id).email for m in mails) == [
        "yan@example.test",
        "zoe@example.test",
        "zoe@example.test",
    ]


def test_reinviting_sends_a_fresh_link_for_other_roles_and_says_when_the_first_stands(
    client, w, make_program, make_member
):
    make_member(make_program(), "sponsor", email="elsewhere@example.test")
    login(client, w.coordinator)
    url = base(w) + "/invite"

    def invite(email, roles):
        res = client.post(url, data={"email": email, "roles": roles})
        assert res.status_code == 302
        return res, client.get(res.headers["Location"]).get_data()

    pages = []
    for email in ("elsewhere@example.test", "brand-new@example.test"):
        _res, first = invite(email, ["newcomer", "sponsor"])
        _res, other_roles = invite(email, ["newcomer"])
        _res, again = invite(email, ["newcomer"])
        assert b"We sent an invitation to" in first and b"We sent an invitation to" in other_roles
        assert b"less than an hour ago. That invitation stands" in again
        pages.append([_ids_out(p.replace(email.encode(), b"EMAIL")) for p in (first, again)])
    assert pages[0] == pages[1]  # nothing says which address has an account elsewhere
    mails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.event == "account.invitation")
    ).all()
    assert len(mails) == 4
    # Someone already in the programme: nothing is sent, their member page says so.
    member = w.sponsors[0]
    res, page = invite(member.email.upper(), ["sponsor"])
    assert res.headers["Location"].endswith(f"/members/{member.uuid}")
    assert b"is already a member of this programme, so nothing was sent." in page
    assert (
        db.session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.event == "account.invitation",
                OutboxMessage.member_id == member.id,
            )
        )
        is None
    )


def test_the_import_preview_lists_every_problem_in_words_for_the_coordinator(client, w):
    login(client, w.coordinator)
    url = base(w) + "/import/preview"
    body = (
        b"email,display_name,roles,city,country,fellowships,tags\n"
        b"ana@example.test,Ana Bellamy,newcomer;sponsor,Atlantis,ZZ,XX;AA,astronaut\n"
        b"bo@example.test,Bo C.,newcomer;sponsor,,,,\n"
    )
    page = html.unescape(text(client.post(url, data={"file": (io.BytesIO(body), "m.csv")})))
    # Every problem of the row at once, even though its profile part already failed.
    assert "Fellowships (column fellowships): Not offered by this programme: XX." in page
    assert "Background (column tags): Not offered by this programme: astronaut." in page
    assert "City (column city):" in page
    assert (
        "Name (column display_name): Write a first name, one space and the first letter of " in page
    )
    assert "Use your first name" not in page
    assert "Sobriety date (column sobriety_date): Needed for a new sponsor." in page
    assert '<td data-label="Roles">Newcomer and Sponsor</td>' in page

    empty = client.post(url, data={"file": (io.BytesIO(b""), "empty.csv")})
    assert empty.status_code == 422 and "This file is empty." in text(empty)
    nothing = client.post(url, data={})
    assert nothing.status_code == 422 and "Choose a CSV file first." in text(nothing)
    headings = client.post(url, data={"file": (io.BytesIO(b"email,display_name,roles\n"), "h.csv")})
    page = text(headings)
    assert headings.status_code == 422 and "This file has only the headings." in page
    assert "Import 0 rows" not in page
    latin1 = "email,display_name,roles\nl@example.test,Lía B.,newcomer\n".encode("latin-1")
    page = text(client.post(url, data={"file": (io.BytesIO(latin1), "l.csv")}))
    assert "The file is not UTF-8 text. Save it again as CSV UTF-8" in html.unescape(page)

    client.post("/language", data={"locale": "es", "next": "/"})
    refresh()
    page = html.unescape(text(client.post(url, data={"file": (io.BytesIO(body), "m.csv")})))
    assert "Comunidades (columna fellowships): Este programa no lo ofrece: XX." in page
    assert "Nombre (columna display_name): Escribe un nombre" in page
    assert "Este archivo" not in page


def test_a_new_join_code_stops_the_old_poster_and_is_in_the_log(client, w):
    old = w.program.join_code
    login(client, w.coordinator)
    poster = text(client.get(base(w) + "/poster"))
    assert f"/join/{old}" in poster and "Make a new join code" in poster
    confirm = text(client.get(base(w) + "/join-code"))
    assert f"The join code now is {old}." in confirm
    assert "the old code stops working, and so does every poster" in confirm
    res = client.post(base(w) + "/join-code")
    assert res.status_code == 302 and res.headers["Location"].endswith("/poster")
    db.session.expire_all()
    new = w.program.join_code
    assert new != old and re.fullmatch(
        r"[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}", new
    )
    poster = text(client.get(res.headers["Location"]))
    assert f"The new join code is {new}." in poster and f"/join/{new}" in poster
    assert f"/join/{old}" not in poster
    from api.services.accounts import find_program_by_code

    assert find_program_by_code(old) is None and find_program_by_code(new.lower()) == w.program
    log = text(client.get(base(w) + "/log"))
    assert "Made a new join code (the old code and posters stopped working)" in log
    assert old not in log and new not in log


def test_the_api_makes_a_new_join_code(client, w, auth):
    old = w.program.join_code
    url = f"/api/v1/programs/{w.program.uuid}/join-code"
    res = client.post(url, headers=auth(w.coordinator))
    assert res.status_code == 200 and res.json["join_code"] not in (old, None)
    assert client.post(url, headers=auth(w.sponsors[0])).status_code == 404
    actions = list(db.session.scalars(select(AuditLog.action)))
    assert actions.count("program.join_code") == 1


def test_a_weight_may_be_written_with_a_decimal_comma(client, w):
    login(client, w.coordinator)
    url = base(w) + "/settings"
    res = client.post(url, data={"weight_language": "2,5"})
    assert res.status_code == 302, text(res)[:500]
    db.session.refresh(w.program)
    assert w.program.setting("match_weights")["language"] == 2.5
