"""The coordinator dashboard pages through the session login (server-rendered, no browser)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from api.models import AuditLog, MissedContactFlag, Notification
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
    # the daily check-in's one share needs no chart; "Who waits longest" is HTML bars
    assert html.count("<svg ") == 7
    assert html.count('class="card report"') == 9
    assert html.count("Download these figures (CSV)") == 9
    assert "Newe N." in html and "hidden (fewer than 5 people)" in html
    assert "988" in html  # the crisis line, on every page
    scripts = re.findall(r"<script[^>]*>", html)
    assert all('src="/static/' in tag for tag in scripts)  # our own files only, no CDN
    assert "kozea.github.io" not in html
    for secret in SECRETS:
        assert secret not in html


def test_every_figure_is_in_plain_words_and_charts_keep_phone_sized_text(client, programme):
    login(client, programme.coordinator)
    html = client.get(page(programme, "dashboard?start=2026-01-01&end=2026-12-31")).get_data(
        as_text=True
    )
    words = re.sub(r"<[^>]+>", " ", re.sub(r"<svg.*?</svg>", " ", html, flags=re.S))
    for jargon in ("Gini", "p90", "censored", "Kaplan", "program_default", "percentile"):
        assert jargon not in words and jargon not in html, jargon
    assert "How evenly asks are spread across sponsors: 0 is perfectly even" in html
    assert html.count('class="means"') >= 14  # every figure says what it means
    # Survival in percent against days; every chart drawn 360 units wide with >= 14-unit text,
    # so a 320-390 px phone shows it at >= 12 px.
    assert "days since the pair started" in html and "percent still together" in html
    for svg in re.findall(r"<svg .*?</svg>", html, flags=re.S):
        assert re.search(r'viewBox="0 0 360 300"', svg)
    styles = "".join(re.findall(r"<style.*?</style>", html, flags=re.S))
    sizes = [float(x) for x in re.findall(r"font-size:\s*([\d.]+)px", styles)]
    assert sizes and min(sizes) >= 14
    assert html.count("<style") == 1  # one stylesheet for all the charts
    assert len(html.encode()) < 60_000
    # Tables scroll inside their card, never the page.
    assert html.count('<div class="scroll"') == 12
    assert not re.search(r"\([0-9a-f]{8}\)", html)  # no id fragments to tell people apart


def test_who_waits_longest_is_a_list_of_bars_with_whole_names_longest_first(client, programme):
    login(client, programme.coordinator)
    html = client.get(page(programme, "dashboard?start=2026-01-01&end=2026-12-31")).get_data(
        as_text=True
    )
    section = html[html.index('id="breakdowns"') : html.index('id="milestones"')]
    assert "<svg" not in section
    rows = re.findall(
        r'<span class="bar-label">([^<]+)</span>.*?style="width: ([\d.]+)%".*?'
        r'<span class="bar-value">([^<]+)</span>',
        section,
        flags=re.S,
    )
    assert rows and float(rows[0][1]) == 100.0  # the longest wait has the full bar
    widths = [float(w) for _, w, _ in rows]
    assert widths == sorted(widths, reverse=True)
    assert all(": " in label and "…" not in label for label, _, _ in rows)  # never cut
    assert all(value.strip().endswith(("day", "days")) for _, _, value in rows)


def test_the_dashboard_reads_in_spanish(client, programme):
    login(client, programme.coordinator)
    client.post("/language", data={"locale": "es", "next": "/"})
    html = client.get(page(programme, "dashboard?start=2026-01-01&end=2026-12-31")).get_data(
        as_text=True
    )
    assert "Qué tan parejo se reparten las solicitudes" in html
    assert "días desde que empezó la" in html


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
    assert res.status_code == 422
    assert "Choose a fellowship this programme has: " in res.get_data(as_text=True)


def test_filter_errors_read_in_the_readers_language(client, db, programme):
    programme.coordinator.locale = "es"
    db.session.commit()
    login(client, programme.coordinator)
    html = client.get(page(programme, "dashboard?start=abc")).get_data(as_text=True)
    assert "Desde: Escribe una fecha." in html
    html = client.get(page(programme, "dashboard?start=2026-06-01&end=2026-05-01")).get_data(
        as_text=True
    )
    assert "La fecha de inicio tiene que ser igual o anterior a la fecha final." in html
    html = client.get(page(programme, "dashboard?fellowship=ZZ")).get_data(as_text=True)
    assert "Elige una comunidad de este programa: " in html


@pytest.mark.parametrize("who", ["N1", "S1", "other"])
def test_others_get_404_on_every_page(client, programme, who):
    member = programme.other_coordinator if who == "other" else programme.people[who]
    login(client, member)
    for path in ("dashboard", "dashboard/queue.csv", "escalations"):
        assert client.get(page(programme, path)).status_code == 404, path
    flag = programme.flags["F2"].uuid
    for action in ("acknowledge", "resolve", "check-in"):
        url = page(programme, f"escalations/{flag}/{action}")
        assert client.get(url).status_code == 404
        res = client.post(url, data={"action_taken": "x", "message": "x"})
        assert res.status_code == 404


def test_pages_need_a_login(client, programme):
    res = client.get(page(programme, "dashboard"))
    assert res.status_code == 302 and "/login" in res.headers["Location"]


def test_acknowledge_check_in_and_resolve_each_ask_for_a_note_and_confirm(client, programme, db):
    login(client, programme.coordinator)
    html = client.get(page(programme, "escalations")).get_data(as_text=True)
    assert "Sponb S. (sponsor) and Newb N." in html and "days without a logged talk" in html
    flag = programme.flags["F2"]
    sponsorship = flag.sponsorship
    assert f"/coordinator/{programme.program.uuid}/members/{sponsorship.sponsor.uuid}" in html
    # Each action is a page that says what will happen, with its note; nothing happens on GET.
    ack = page(programme, f"escalations/{flag.uuid}/acknowledge")
    assert "other coordinators know" in client.get(ack).get_data(as_text=True)
    res = client.post(ack, data={"action_taken": ""})
    assert res.status_code == 422 and 'id="action_taken-error"' in res.get_data(as_text=True)
    res = client.post(ack, data={"action_taken": "Texted the sponsor"}, follow_redirects=True)
    assert res.status_code == 200 and "Texted the sponsor" in res.get_data(as_text=True)
    # A second note keeps the first one on the page, each with who wrote it and when.
    res = client.post(ack, data={"action_taken": "Sponsor called back"}, follow_redirects=True)
    card = res.get_data(as_text=True).split(f'id="flag-{flag.uuid}"')[1].split("</section>")[0]
    shown = re.findall(r'<p class="acknowledged">(.*?)</p>', card, re.S)
    by = programme.coordinator.display_name
    assert len(shown) == 2 and all(f"Acknowledged by {by} on " in p for p in shown)
    assert shown[0].endswith("Texted the sponsor") and shown[1].endswith("Sponsor called back")

    check_in = page(programme, f"escalations/{flag.uuid}/check-in")
    assert "A short call or text is enough" in client.get(check_in).get_data(as_text=True)
    res = client.post(check_in, data={"message": "Hi both, how are things?"})
    assert res.status_code == 302
    notes = db.session.scalars(
        select(Notification).where(Notification.kind == "contact.coordinator_message")
    ).all()
    assert {n.member_id for n in notes} == {sponsorship.sponsor_id, sponsorship.sponsee_id}
    assert {n.body for n in notes} == {"Hi both, how are things?"}
    assert "Check-in message sent" in client.get(page(programme, "escalations")).get_data(
        as_text=True
    )

    resolve = page(programme, f"escalations/{flag.uuid}/resolve")
    assert "The pair leaves the queue" in client.get(resolve).get_data(as_text=True)
    res = client.post(resolve, data={"action_taken": "They talked on Sunday"})
    assert res.status_code == 302
    db.session.expire_all()
    resolved = db.session.get(MissedContactFlag, flag.id)
    assert resolved.resolution == "coordinator" and resolved.action_taken == "They talked on Sunday"
    actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions == [
        "escalation.acknowledge",
        "escalation.acknowledge",
        "escalation.check_in",
        "escalation.resolve",
    ]
    assert client.get(resolve).status_code == 404  # no longer in the queue


def test_home_page_links_coordinators_to_the_dashboard(client, programme):
    login(client, programme.coordinator)
    html = client.get("/").get_data(as_text=True)
    assert f"/programs/{programme.program.uuid}/dashboard" in html


def test_the_waiting_newcomers_link_to_their_page_and_wait_in_words(client, programme):
    login(client, programme.coordinator)
    html = client.get(page(programme, "dashboard?start=2026-01-01&end=2026-12-31")).get_data(
        as_text=True
    )
    caption = "<caption>Newcomers waiting, longest first</caption>"
    table = html.split(caption)[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td>", table, re.S)
    assert rows
    base = f"/coordinator/{programme.program.uuid}/members/"
    for name, wait in rows:
        assert f'<a href="{base}' in name
        assert re.fullmatch(
            r"less than a day|\d+ (days?|weeks?|months?|years?)(, \d+ months?)?", wait
        )
