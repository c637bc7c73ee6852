"""The private sobriety date, as a canary: it never reaches the coordinator (pages, API,
export, reports, dashboard, audit), the sponsor (pair page, notifications, email), or any log;
the member's own "my data" carries it. A fresh start is told to nobody."""

from __future__ import annotations

import logging
from datetime import timedelta

from babel.dates import format_date
from sqlalchemy import func, select

from api.extensions import db
from api.milestone_dates import add_months, local_today
from api.models import Notification, OutboxMessage, utcnow
from api.reports import REPORTS
from jobs.deliver import deliver_due
from jobs.milestones import record_milestones
from tests.between.conftest import login


def _canaries(day) -> list[str]:
    """The date as any page, email or log could write it."""
    forms = [day.isoformat(), day.strftime("%d/%m/%Y"), day.strftime("%m/%d/%Y")]
    for locale in ("en", "es"):
        for width in ("short", "medium", "long", "full"):
            forms.append(format_date(day, width, locale=locale))
    return forms


def _leaks(text: str, canaries: list[str]) -> list[str]:
    return [c for c in canaries if c in text]


def test_the_sobriety_date_reaches_nobody_but_its_owner(
    app, client, auth, group, smtp, caplog, capsys
):
    caplog.set_level(logging.DEBUG)
    sponsee = group.sponsee
    today = local_today(utcnow(), sponsee.time_zone)
    start = add_months(today, -12 * 7)  # seven years today: a milestone the job announces
    assert group.sponsor.sponsor_profile.sobriety_date != start
    canaries = _canaries(start)
    seen: list[str] = []

    body = {"sobriety_date": start.isoformat(), "milestones_shared": True}
    own = client.put("/api/v1/me/milestones", json=body, headers=auth(sponsee))
    assert own.json["current"]["milestone"] == "7y"
    group.sponsor.time_zone = sponsee.time_zone = "UTC"  # awake at noon for certain
    db.session.commit()
    noon = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    if noon.date() != today:
        noon = noon + timedelta(days=(today - noon.date()).days)
    assert record_milestones(noon) == 1
    # the prompt is queued at the job's noon, which may be later today than the real clock
    deliver_due(max(utcnow(), noon) + timedelta(minutes=1))
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    seen.append(str(mail))
    assert "7 years" in mail.get_body(preferencelist=("plain",)).get_content()
    seen += [str(o.payload) for o in db.session.scalars(select(OutboxMessage))]
    seen += [n.title + n.body + str(n.data) for n in db.session.scalars(select(Notification))]

    # The coordinator's pages, API, export, reports and dashboard.
    coordinator = auth(group.coordinator)
    program = f"/api/v1/programs/{group.program.uuid}"
    for path in (
        f"{program}/members",
        f"{program}/members/{sponsee.uuid}",
        f"{program}/export.csv",
        f"{program}/audit",
        f"{program}/audit.csv",
        *(f"{program}/reports/{name}" for name in REPORTS),
        *(f"{program}/reports/{name}.csv" for name in REPORTS),
    ):
        res = client.get(path, headers=coordinator)
        assert res.status_code == 200, path
        seen.append(res.get_data(as_text=True))
    login(client, group.coordinator)
    for path in (
        f"/coordinator/{group.program.uuid}/members",
        f"/coordinator/{group.program.uuid}/members/{sponsee.uuid}",
        f"/programs/{group.program.uuid}/dashboard",
    ):
        seen.append(client.get(path).get_data(as_text=True))
    client.post("/logout")

    # The sponsor's pages and API.
    login(client, group.sponsor)
    for path in (f"/pairs/{group.pair.uuid}", "/notifications", "/sponsees", "/"):
        seen.append(client.get(path).get_data(as_text=True))
    client.post("/logout")
    sponsor = auth(group.sponsor)
    for path in ("/api/v1/me/notifications", f"/api/v1/sponsorships/{group.pair.uuid}"):
        seen.append(client.get(path, headers=sponsor).get_data(as_text=True))

    # A fresh start: told to nobody, by any channel.
    notes = db.session.scalar(select(func.count()).select_from(Notification))
    fresh = today - timedelta(days=3)  # not today: today's date is on every page anyway
    body = {"sobriety_date": fresh.isoformat(), "milestones_shared": True}
    assert client.put("/api/v1/me/milestones", json=body, headers=auth(sponsee)).json["fresh_start"]
    assert record_milestones(noon + timedelta(days=1)) == 0  # "24 hours" is recorded, not told
    deliver_due(utcnow() + timedelta(days=2))
    assert db.session.scalar(select(func.count()).select_from(Notification)) == notes
    assert len(smtp.messages) == 1
    canaries += _canaries(fresh)

    seen += [r.getMessage() for r in caplog.records]
    captured = capsys.readouterr()
    seen += [captured.out, captured.err]
    for text in seen:
        assert _leaks(text, canaries) == [], text[:2000]

    # Its owner's download has it.
    export = client.get("/api/v1/me/data", headers=auth(sponsee)).json
    assert export["milestones"]["sobriety_date"] == fresh.isoformat()
    assert {m["milestone"] for m in export["milestones"]["reached"]} == {"7y", "1d"}
