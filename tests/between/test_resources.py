"""The programme's resources: a coordinator adds them (http/https only, named errors), members
see the ones that fit them, a sponsor shares one and the sponsee finds it in notifications."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from api.extensions import db
from api.models import AuditLog, Notification, Resource, ResourceShare
from tests.between.conftest import login


def _url(group, tail="") -> str:
    return f"/api/v1/programs/{group.program.uuid}/resources{tail}"


def _add(client, headers, group, **body):
    body = {"title": "Meetings near you", "kind": "meetings", **body}
    return client.post(_url(group), json=body, headers=headers)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "ftp://files.example.org/list.pdf"}, "url"),
        ({"url": "data:text/html,hi"}, "url"),
        ({"url": "https://"}, "url"),
        ({"url": None, "body": None}, "url"),
        ({"url": "https://example.org", "kind": "podcasts"}, "kind"),
        ({"url": "https://example.org", "fellowships": ["OA"]}, "fellowships"),
        ({"url": "https://example.org", "languages": ["english"]}, "languages"),
        ({"url": "https://example.org", "title": ""}, "title"),
        ({"url": "https://example.org", "hits": 3}, "hits"),
    ],
)
def test_a_bad_resource_is_refused_by_field_and_nothing_is_written(
    client, auth, group, body, field
):
    res = _add(client, auth(group.coordinator), group, **body)
    assert res.status_code == 422, res.json
    assert field in res.json["errors"]["json"], res.json
    assert db.session.scalar(select(func.count()).select_from(Resource)) == 0


def test_members_see_what_fits_them_and_only_coordinators_add(client, auth, group):
    coordinator = auth(group.coordinator)
    everyone = _add(client, coordinator, group, url="https://meetings.example.org/list").json
    assert everyone["host"] == "meetings.example.org"
    _add(client, coordinator, group, title="NA en español", url="http://na.example.org/es",
         fellowships=["NA"], languages=["es"])  # fmt: skip
    _add(client, coordinator, group, title="Breathing for cravings", kind="coping",
         body="Breathe in for four, hold for four, out for four.", languages=["en"])  # fmt: skip
    mine = client.get("/api/v1/me/resources", headers=auth(group.sponsee)).json
    assert [r["title"] for r in mine["fitting"]] == ["Meetings near you", "Breathing for cravings"]
    assert mine["shared"] == []
    refused = _add(client, auth(group.sponsee), group, url="https://example.org")
    assert refused.status_code == 404
    listed = client.get(_url(group), headers=auth(group.sponsor)).json
    assert len(listed) == 3
    gone = client.delete(_url(group, f"/{everyone['id']}"), headers=coordinator)
    assert gone.status_code == 204
    assert len(client.get(_url(group), headers=coordinator).json) == 2
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action.like("resource.%"))
        )
        == 4
    )


def test_a_sponsor_shares_once_and_the_sponsee_is_told(client, auth, group):
    resource = _add(client, auth(group.coordinator), group, url="https://example.org/big").json
    url = f"/api/v1/sponsorships/{group.pair.uuid}/resources"
    sponsor = auth(group.sponsor)
    assert (
        client.post(url, json={"resource_id": resource["id"]}, headers=sponsor).status_code == 200
    )
    assert (
        client.post(url, json={"resource_id": resource["id"]}, headers=sponsor).status_code == 200
    )
    assert db.session.scalar(select(func.count()).select_from(ResourceShare)) == 1
    notes = db.session.scalars(
        select(Notification).where(Notification.member_id == group.sponsee.id)
    ).all()
    assert [n.kind for n in notes] == ["resource.shared"]
    # The sponsee cannot share on the sponsor's behalf; a resource of another programme is
    # named as a bad field.
    sponsee = auth(group.sponsee)
    assert (
        client.post(url, json={"resource_id": resource["id"]}, headers=sponsee).status_code == 404
    )
    other = client.post(url, json={"resource_id": str(group.pair.uuid)}, headers=sponsor)
    assert other.status_code == 422 and "resource_id" in other.json["errors"]["json"]

    login(client, group.sponsee)
    page = client.get("/notifications").get_data(as_text=True)
    assert "Sol S. shared something with you" in page and "example.org" in page
    shared = client.get("/resources").get_data(as_text=True)
    assert "From your sponsor" in shared and 'href="https://example.org/big"' in shared
    assert "Shared by Sol S." in shared


def test_the_console_adds_a_resource_and_the_pair_page_shares_it(client, group):
    login(client, group.coordinator)
    base = f"/coordinator/{group.program.uuid}/resources"
    assert client.get(base).status_code == 200
    bad = client.post(base, data={"title": "List", "kind": "meetings", "url": "mailto:a@b.c"})
    assert bad.status_code == 422
    assert "http://" in bad.get_data(as_text=True)
    res = client.post(
        base,
        data={"title": "Step study", "kind": "literature", "url": "https://lit.example.org",
              "fellowships": "AA", "languages": "en"},
    )  # fmt: skip
    assert res.status_code == 302
    resource = db.session.scalar(select(Resource))
    client.post("/logout")
    login(client, group.sponsor)
    pair_page = client.get(f"/pairs/{group.pair.uuid}").get_data(as_text=True)
    assert "Share something helpful" in pair_page and "Step study" in pair_page
    shared = client.post(
        f"/pairs/{group.pair.uuid}/share", data={"resource_id": str(resource.uuid)}
    )
    assert shared.status_code == 302
    missing = client.post(f"/pairs/{group.pair.uuid}/share", data={"resource_id": ""})
    assert missing.status_code == 422
    client.post("/logout")
    login(client, group.sponsee)
    home = client.get("/").get_data(as_text=True)
    assert "Step study" in home and "lit.example.org" in home


def test_the_pair_page_offers_what_fits_the_sponsee_as_their_resources_page_does(
    client, auth, group
):
    coordinator = auth(group.coordinator)
    _add(client, coordinator, group, title="Meetings near you", url="https://m.example.org")
    _add(client, coordinator, group, title="NA en español", url="http://na.example.org/es",
         fellowships=["NA"], languages=["es"])  # fmt: skip
    _add(client, coordinator, group, title="Guía en español", url="https://g.example.org",
         languages=["es"])  # fmt: skip
    login(client, group.sponsee)
    fitting = client.get("/resources").get_data(as_text=True)
    login(client, group.sponsor)
    page = client.get(f"/pairs/{group.pair.uuid}").get_data(as_text=True)
    for title in ("Meetings near you", "NA en español", "Guía en español"):
        assert (title in page) == (title in fitting)
    assert "Meetings near you" in page and "Guía en español" not in page
    assert "Only what fits the fellowships and languages of" in page


def test_the_demo_ships_fictional_resources_in_english_and_spanish(db):
    import re

    from api.seed import seed_demo
    from api.seed_resources import DEMO_RESOURCES

    program = seed_demo().program
    seed_demo()  # idempotent: nothing doubled
    listed = db.session.scalars(select(Resource).where(Resource.program_id == program.id)).all()
    assert len(listed) == len(DEMO_RESOURCES)
    assert {lang for r in listed for lang in r.languages} == {"en", "es"}
    for r in listed:
        assert r.url is None or re.match(r"https://[a-z.]+\.example\.org/", r.url)
        assert not re.search(r"\d{3}[ .-]?\d{4}", r.body or "")  # no phone numbers
