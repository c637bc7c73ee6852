"""Every page a person can open shows a crisis line (the programme's own where the page is
about one programme, else the member's, else the default) and sends security headers."""

from __future__ import annotations

import re

from markupsafe import escape
from sqlalchemy import select

from api.models import Sponsorship
from api.program_settings import DEFAULT_CRISIS_LINE
from tests.api.reports_fixture import programme_fixture  # noqa: F401
from tests.factories import PASSWORD

OWN_LINE = "Call the Riverside helpline on 555-0100, any hour."


def _login(client, member):
    res = client.post("/login", data={"email": member.email, "password": PASSWORD})
    assert res.status_code == 302


def _crisis_twice(html: str, line: str) -> bool:
    """Its numbers as tel: links at the top of the page, the whole line at the foot."""
    top = re.search(r'<aside class="crisis".*?</aside>', html, re.S)
    numbers = re.findall(r'href="tel:([^"]+)"', top.group(0)) if top else []
    found = re.findall(r"\+?\d[\d\-. ()]*\d", line)
    wanted = {re.sub(r"[^\d+]", "", n) for n in found if len(re.sub(r"\D", "", n)) >= 3}
    text = re.sub(r'<a href="tel:[^"]*">([^<]*)</a>', r"\1", html)
    return bool(numbers) and wanted <= set(numbers) and str(escape(line)) in text


def test_public_pages_show_the_default_crisis_line(client):
    for path in ["/", "/login", "/no-such-page"]:
        res = client.get(path, headers={"Accept": "text/html"})
        html = res.get_data(as_text=True)
        assert _crisis_twice(html, DEFAULT_CRISIS_LINE), path
    docs = client.get("/docs").get_data(as_text=True)
    assert str(escape(DEFAULT_CRISIS_LINE)) in docs and 'aria-label="Crisis line"' in docs


def test_coordinator_pages_show_their_programmes_own_line(client, db, programme):
    programme.program.settings = {"crisis_line": OWN_LINE}
    db.session.commit()
    _login(client, programme.coordinator)
    for path in ["", "dashboard", "escalations"]:
        url = f"/programs/{programme.program.uuid}/{path}" if path else "/"
        html = client.get(url).get_data(as_text=True)
        assert _crisis_twice(html, OWN_LINE), url


def test_the_email_link_page_shows_the_pairs_programme_line(client, db, programme):
    from api.services.contacts import contact_link_token

    programme.program.settings = {"crisis_line": OWN_LINE}
    db.session.commit()
    pair = db.session.scalars(
        select(Sponsorship)
        .where(Sponsorship.program_id == programme.program.id)
        .order_by(Sponsorship.id)
    ).first()
    token = contact_link_token(pair.uuid, pair.sponsee.uuid, "email:checkin:crisis")
    assert _crisis_twice(client.get(f"/contact-link/{token}").get_data(as_text=True), OWN_LINE)
    bad = client.get("/contact-link/forged.token")
    assert bad.status_code == 404
    assert _crisis_twice(bad.get_data(as_text=True), DEFAULT_CRISIS_LINE)


def test_pages_and_api_send_security_headers(client):
    for path in ["/", "/login", "/healthz", "/api/openapi.json"]:
        res = client.get(path)
        assert res.headers["X-Content-Type-Options"] == "nosniff", path
        assert res.headers["X-Frame-Options"] == "DENY", path
        assert res.headers["Referrer-Policy"] == "no-referrer", path
        assert "frame-ancestors 'none'" in res.headers["Content-Security-Policy"], path
    assert "Content-Security-Policy" not in client.get("/docs").headers


def test_coordinators_see_when_reminders_are_paused_and_nobody_else_does(client, db, programme):
    from datetime import timedelta

    from api.models import WorkerHeartbeat, utcnow

    _login(client, programme.coordinator)
    assert "Reminders are paused: the scheduler has not reported yet" in client.get("/").text
    now = utcnow()
    beat = WorkerHeartbeat(
        name="scheduler", pid=1, host="h", started_at=now, beat_at=now - timedelta(minutes=6)
    )
    db.session.add(beat)
    db.session.commit()
    assert "the scheduler last reported 6 minutes ago" in client.get("/").text
    beat.beat_at = utcnow()
    db.session.commit()
    assert "Reminders are paused" not in client.get("/").text
    beat.beat_at = now - timedelta(hours=1)
    db.session.commit()
    client.post("/logout")
    _login(client, programme.people["S1"])
    assert "Reminders are paused" not in client.get("/").text
