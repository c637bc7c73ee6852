"""The coordinator dashboard pages through the session login (server-rendered, no browser)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from api.models import AuditLog, MissedContactFlag
from tests.api.reports_fixture import SECRETS, programme_fixture  # noqa: F401
from tests.factories import PASSWORD


def login(client, member):
    res = client.post("/login", data={"email": member.email, "password": PASSWORD})
    assert res.status_code == 302


def page(fx, path=""):
    return f"/programs/{fx.program.uuid}/{path}"


def test_dashboard_shows_a_chart_and_a_table_for_every_report(client, programme):
    login(client, programme.coordinator)
    res = client.get(page(programme, "dashboard?start=2026-01-01&end=2026-12-31"))
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert html.count("<svg ") == 7
    assert html.count('class="card report"') == 7
    assert html.count("Download CSV") == 7
    assert "Newe N." in html and "suppressed" in html
    assert "988" in html  # the crisis line, on every page
    assert "<script" not in html and "kozea.github.io" not in html  # no JS, no CDN
    for secret in SECRETS:
        assert secret not in html


def test_csv_link_keeps_the_filters_and_downloads(client, programme):
    login(client, programme.coordinator)
    html = client.get(page(programme, "dashboard?fellowship=AA")).get_data(as_text=True)
    link = re.search(r'href="([^"]*/dashboard/queue\.csv[^"]*)"', html).group(1)
    assert "fellowship=AA" in link
    res = client.get(link.replace("&amp;", "&"))
    assert res.status_code == 200 and res.mimetype == "text/csv"
    assert res.get_data(as_text=True).startswith("request,display_name,waiting_days")


def test_bad_filter_is_422_with_the_field_named(client, programme):
    login(client, programme.coordinator)
    res = client.get(page(programme, "dashboard?start=2026-06-01&end=2026-05-01"))
    assert res.status_code == 422
    assert "start" in res.get_data(as_text=True)
    res = client.get(page(programme, "dashboard?fellowship=XA"))
    assert res.status_code == 422 and "Unknown fellowship" in res.get_data(as_text=True)


@pytest.mark.parametrize("who", ["N1", "S1", "other"])
def test_others_get_404_on_every_page(client, programme, who):
    member = programme.other_coordinator if who == "other" else programme.people[who]
    login(client, member)
    for path in ("dashboard", "dashboard/queue.csv", "escalations"):
        assert client.get(page(programme, path)).status_code == 404, path
    flag = programme.flags["F2"].uuid
    res = client.post(
        page(programme, f"escalations/{flag}/acknowledge"), data={"action_taken": "x"}
    )
    assert res.status_code == 404


def test_pages_need_a_login(client, programme):
    res = client.get(page(programme, "dashboard"))
    assert res.status_code == 302 and "/login" in res.headers["Location"]


def test_acknowledge_and_resolve_from_the_escalation_page(client, programme, db):
    login(client, programme.coordinator)
    html = client.get(page(programme, "escalations")).get_data(as_text=True)
    assert "Sponb S." in html and "Newb N." in html and "days without logged contact" in html
    flag = programme.flags["F2"]
    res = client.post(
        page(programme, f"escalations/{flag.uuid}/acknowledge"),
        data={"action_taken": "Texted the sponsor"},
        follow_redirects=True,
    )
    assert res.status_code == 200 and "Texted the sponsor" in res.get_data(as_text=True)
    res = client.post(page(programme, f"escalations/{flag.uuid}/acknowledge"), data={})
    assert res.status_code == 422 and "Say what you did" in res.get_data(as_text=True)
    res = client.post(page(programme, f"escalations/{flag.uuid}/resolve"), follow_redirects=True)
    assert res.status_code == 200
    db.session.expire_all()
    assert db.session.get(MissedContactFlag, flag.id).resolution == "coordinator"
    actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions == ["escalation.acknowledge", "escalation.resolve"]


def test_home_page_links_coordinators_to_the_dashboard(client, programme):
    login(client, programme.coordinator)
    html = client.get("/").get_data(as_text=True)
    assert f"/programs/{programme.program.uuid}/dashboard" in html
