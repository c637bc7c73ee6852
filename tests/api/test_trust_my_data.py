"""Issue 12, "my data": a member downloads everything stored about them and deletes their
account. The canary test drives the whole flow with canary strings in every free-text and
contact field, checks logs, email previews and coordinator views on the way, and after both
people delete their accounts scans every column of every table for the canaries."""

from __future__ import annotations

import json
import logging
from datetime import date, timedelta

import pytest
from flask import g
from sqlalchemy import func, select

from api.extensions import db as _db
from api.models import Contact, Member, SponsorRequest, Sponsorship, utcnow
from jobs.checkin_prompts import send_checkin_prompts
from jobs.deliver import deliver_due
from jobs.missed_contact import flag_missed_contacts
from tests.api.workflow_fixture import SLOTS
from tests.factories import PASSWORD
from tests.signup import sign_up_confirmed

PROFILE = {
    "gender": "woman",
    "fellowships": ["AA"],
    "languages": ["en"],
    "contact_modes": ["phone", "text"],
    "availability": SLOTS,
}
NEWCOMER = {
    "email": "n.canary.4471@example.test",
    "display_name": "Qelda R.",
    "phone": "+1 555 4471",
    "about": "N-ABOUT-CANARY-4471",
    "contact_email": "n.contact.4471@example.test",
    "request_note": "N-REQUEST-NOTE-CANARY-4471",
    "contact_note": "N-CONTACT-NOTE-CANARY-4471",
}
SPONSOR = {
    "email": "s.canary.8812@example.test",
    "display_name": "Vorna P.",
    "phone": "+1 555 8812",
    "about": "S-ABOUT-CANARY-8812",
    "contact_email": "s.contact.8812@example.test",
    "sobriety_date": "2016-03-07",
    "contact_note": "S-CONTACT-NOTE-CANARY-8812",
}
# What a coordinator, a log line or an inbox preview must never show.
PRIVATE = [
    *(NEWCOMER[k] for k in ("phone", "about", "contact_email", "request_note", "contact_note")),
    *(SPONSOR[k] for k in ("phone", "about", "contact_email", "sobriety_date", "contact_note")),
]
EVERYTHING = [*NEWCOMER.values(), *SPONSOR.values()]


def _hits(text: str, canaries) -> list[str]:
    return [c for c in canaries if c.lower() in text.lower()]


def _token(client, email: str, password: str = PASSWORD) -> dict:
    res = client.post("/api/v1/auth/tokens", json={"email": email, "password": password})
    assert res.status_code == 201, res.json
    return {"Authorization": f"Bearer {res.json['token']}"}


def _sponsor(client, program) -> dict:
    body = {
        "join_code": program.join_code,
        "email": SPONSOR["email"],
        "password": PASSWORD,
        "display_name": SPONSOR["display_name"],
        "roles": ["sponsor"],
    }
    sign_up_confirmed(client, body)
    headers = _token(client, SPONSOR["email"])
    profile = {**PROFILE, **{k: SPONSOR[k] for k in ("phone", "about", "contact_email")}}
    assert client.patch("/api/v1/me/profile", json=profile, headers=headers).status_code == 200
    res = client.put(
        "/api/v1/me/sponsor-profile",
        json={"sobriety_date": SPONSOR["sobriety_date"], "capacity": 2, "steps_completed": 12},
        headers=headers,
    )
    assert res.status_code in (200, 201), res.json
    confirm = client.post("/api/v1/me/sponsor-profile/confirm-availability", headers=headers)
    assert confirm.status_code in (200, 204), confirm.json
    return headers


def _newcomer(client, program) -> dict:
    body = {
        "join_code": program.join_code,
        "email": NEWCOMER["email"],
        "password": PASSWORD,
        "display_name": NEWCOMER["display_name"],
    }
    sign_up_confirmed(client, body)
    headers = _token(client, NEWCOMER["email"])
    profile = {**PROFILE, **{k: NEWCOMER[k] for k in ("phone", "about", "contact_email")}}
    assert client.patch("/api/v1/me/profile", json=profile, headers=headers).status_code == 200
    return headers


def _scan_database() -> dict[str, list[str]]:
    """Every value of every column of every table, as text, mapped to the canaries it holds."""
    found = {}
    for table in _db.metadata.sorted_tables:
        for row in _db.session.execute(table.select()).mappings():
            for column, value in row.items():
                text = (
                    json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)
                )
                hits = _hits(text, EVERYTHING)
                if hits:
                    found[f"{table.name}.{column}"] = hits
    return found


@pytest.fixture
def flow(client, db, smtp, make_program, make_member):
    """Sign-up → request → ask → accept → contacts with notes → prompts → flags, over HTTP."""
    program = make_program(fellowships=["AA"])
    coordinator = make_member(program, "coordinator", display_name="Cora D.")
    s_headers = _sponsor(client, program)
    n_headers = _newcomer(client, program)
    request = client.post(
        f"/api/v1/programs/{program.uuid}/requests",
        json={"note": NEWCOMER["request_note"]},
        headers=n_headers,
    )
    assert request.status_code == 201, request.json
    sponsor = db.session.scalar(select(Member).where(Member.email == SPONSOR["email"]))
    ask = client.post(
        f"/api/v1/requests/{request.json['id']}/proposals",
        json={"sponsor_id": str(sponsor.uuid)},
        headers=n_headers,
    )
    assert ask.status_code == 201, ask.json
    accept = client.post(f"/api/v1/proposals/{ask.json['id']}/accept", headers=s_headers)
    assert accept.status_code in (200, 201), accept.json
    pair_id = db.session.scalar(select(Sponsorship.uuid))
    for headers, note in (
        (n_headers, NEWCOMER["contact_note"]),
        (s_headers, SPONSOR["contact_note"]),
    ):
        res = client.post(
            f"/api/v1/sponsorships/{pair_id}/contacts",
            json={
                "kind": "call",
                "occurred_at": utcnow().isoformat(),
                "note": note,
            },
            headers=headers,
        )
        assert res.status_code == 201, res.json
    later = utcnow()
    for days in (4, 8, 16, 30):
        send_checkin_prompts(later + timedelta(days=days))
        flag_missed_contacts(later + timedelta(days=days))
    deliver_due(later + timedelta(days=31))
    return program, coordinator, request.json["id"], n_headers, s_headers


def test_export_holds_your_data_and_your_notes_only(client, db, flow):
    _, _, _, n_headers, _ = flow
    res = client.get("/api/v1/me/data", headers=n_headers)
    assert res.status_code == 200
    text = json.dumps(res.json)
    for key in ("email", "phone", "about", "contact_email", "request_note", "contact_note"):
        assert NEWCOMER[key] in text, key
    assert SPONSOR["contact_note"] not in text and SPONSOR["sobriety_date"] not in text
    assert res.json["sponsorships"][0]["other"] == SPONSOR["display_name"]
    assert "password" not in text.lower().replace("account.password", "")


def test_canaries_stay_out_of_logs_previews_and_coordinator_views(
    client, db, smtp, auth, flow, caplog
):
    program, coordinator, request_id, _, _ = flow
    headers = auth(coordinator)
    base = f"/api/v1/programs/{program.uuid}"
    member_ids = [str(u) for u in db.session.scalars(select(Member.uuid))]
    views = [
        f"{base}/members",
        *(f"{base}/members/{m}" for m in member_ids),
        f"{base}/export.csv",
        f"{base}/escalations",
        f"/api/v1/requests/{request_id}",
        *(f"{base}/reports/{n}" for n in ("queue", "timings", "proposals", "survival", "pool")),
        *(f"{base}/reports/{n}" for n in ("flags", "breakdowns")),
    ]
    with caplog.at_level(logging.DEBUG):
        for path in views:
            res = client.get(path, headers=headers)
            assert res.status_code in (200, 404), (path, res.status_code)
            private = PRIVATE
            if path.endswith("export.csv"):  # a re-import needs a sponsor's sobriety date
                private = [c for c in PRIVATE if c != SPONSOR["sobriety_date"]]
            assert _hits(res.get_data(as_text=True), private) == [], path
        pages = [
            f"/coordinator/{program.uuid}/members",
            *(f"/coordinator/{program.uuid}/members/{m}" for m in member_ids),
            f"/coordinator/{program.uuid}/export.csv",
            f"/programs/{program.uuid}/dashboard",
            f"/programs/{program.uuid}/escalations",
        ]
        browser = client.application.test_client()
        with browser.session_transaction() as session:
            session["_user_id"] = coordinator.get_id()
        for path in pages:
            g.pop("_login_user", None)  # the test shares one app context; requests do not
            res = browser.get(path)
            assert res.status_code == 200, (path, res.status_code)
            private = PRIVATE
            if path.endswith("export.csv"):
                private = [c for c in PRIVATE if c != SPONSOR["sobriety_date"]]
            assert _hits(res.get_data(as_text=True), private) == [], path
        deliver_due(utcnow() + timedelta(days=40))
    assert len(smtp.messages) >= 6
    for msg in smtp.messages:
        preview = msg["Subject"] + " " + msg.get_content()[:140]
        assert _hits(preview, EVERYTHING) == [], preview
    assert _hits(caplog.text, PRIVATE + [NEWCOMER["email"], SPONSOR["email"]]) == []


def test_after_both_delete_their_accounts_no_column_holds_a_canary(client, db, auth, flow):
    program, coordinator, _, n_headers, s_headers = flow
    counts = {
        model: db.session.scalar(select(func.count()).select_from(model))
        for model in (SponsorRequest, Sponsorship, Contact)
    }
    assert _scan_database()  # the canaries are there before
    wrong = client.delete("/api/v1/me/account", json={"password": "nope"}, headers=n_headers)
    assert wrong.status_code == 422 and "password" in wrong.json["errors"]["json"]
    for headers in (n_headers, s_headers):
        assert (
            client.delete(
                "/api/v1/me/account", json={"password": PASSWORD}, headers=headers
            ).status_code
            == 204
        )
    db.session.expire_all()
    assert _scan_database() == {}
    pair = db.session.scalar(select(Sponsorship))
    assert (pair.status, pair.end_reason) == ("ended", "account_closed")
    after = {
        model: db.session.scalar(select(func.count()).select_from(model))
        for model in (SponsorRequest, Sponsorship, Contact)
    }
    assert after == counts  # report counts keep their anonymous rows
    survival = client.get(
        f"/api/v1/programs/{program.uuid}/reports/survival", headers=auth(coordinator)
    ).json
    ended = {r["reason"]: r["count"] for r in survival["end_reasons"]}
    assert ended["account_closed"] == 1 and survival["ended"] == 1
    assert (
        db.session.scalar(
            select(func.count(Contact.id)).where(Contact.note_ciphertext.is_not(None))
        )
        == 0
    )
    login = {"email": NEWCOMER["email"], "password": PASSWORD}
    assert client.post("/api/v1/auth/tokens", json=login).status_code == 401
    assert client.get("/api/v1/me", headers=n_headers).status_code == 401


def test_the_other_side_is_told_without_the_name(client, db, flow):
    _, _, _, n_headers, s_headers = flow
    assert (
        client.delete(
            "/api/v1/me/account", json={"password": PASSWORD}, headers=n_headers
        ).status_code
        == 204
    )
    notes = client.get("/api/v1/me/notifications", headers=s_headers).json
    ended = [n for n in notes if n["kind"] == "pair.ended"]
    assert len(ended) == 1 and NEWCOMER["display_name"] not in json.dumps(notes)
    assert date.today()  # the sponsor keeps their own account
    assert client.get("/api/v1/me", headers=s_headers).status_code == 200
