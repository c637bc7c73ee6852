"""Issue 12, finding 12: what an inbox preview shows (the first lines of a body) carries no
recovery words, and a member can choose minimal emails: a neutral line and a link, nothing
else."""

from __future__ import annotations

import re

import pytest

from api.channels.email import MINIMAL, build_email
from api.models import utcnow
from api.services.notify import EVENTS, VERIFICATION_EVENTS, notify
from jobs.deliver import deliver_due
from tests.api.workflow_fixture import open_request
from tests.api.workflow_fixture import world_fixture as world  # noqa: F401

RECOVERY_WORDS = re.compile(
    r"sponsor|sponsee|recover|sober|sobriety|relapse|addict|alcohol|drink|drug|craving|"
    r"fellowship|twelve|12[- ]step|\bsteps?\b|\bAA\b|\bNA\b|anonymous|newcomer|meeting",
    re.IGNORECASE,
)
PREVIEW = 140
LOADED = {
    "title": "Someone would like you to sponsor them",
    "body": "Sam K. (AA, 30 days sober) asked you to be their sponsor after a meeting.",
    "data": {},
}


def _preview(msg) -> str:
    return msg.get_content()[:PREVIEW]


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_no_preview_shows_recovery_words_whatever_the_message_says(app, event):
    msg = build_email(
        idempotency_key=f"k:{event}",
        to="a@example.test",
        payload=LOADED,
        cfg=app.config,
        event=event,
        crisis_line="988",
    )
    if event in VERIFICATION_EVENTS:
        return  # sent as written: their own texts are checked in the flow test below
    assert not RECOVERY_WORDS.search(_preview(msg)), _preview(msg)


def test_a_real_ask_accept_end_flow_sends_only_discreet_previews(client, auth, db, smtp, world):  # noqa: F811
    w = world(n_sponsors=1, n_newcomers=1)
    sponsor, newcomer = w.sponsors[0], w.newcomers[0]
    request = open_request(newcomer, w.program)
    ask = client.post(
        f"/api/v1/requests/{request.uuid}/proposals",
        json={"sponsor_id": str(sponsor.uuid)},
        headers=auth(newcomer),
    )
    assert ask.status_code == 201
    accepted = client.post(f"/api/v1/proposals/{ask.json['id']}/accept", headers=auth(sponsor))
    assert accepted.status_code in (200, 201), accepted.json
    client.post("/api/v1/auth/password-link", json={"email": newcomer.email})
    deliver_due(utcnow())
    assert len(smtp.messages) >= 3
    for msg in smtp.messages:
        assert not RECOVERY_WORDS.search(_preview(msg)), _preview(msg)
        assert not RECOVERY_WORDS.search(msg["Subject"])


def test_minimal_emails_carry_one_neutral_line_and_a_link(client, auth, db, smtp, world):  # noqa: F811
    w = world(n_sponsors=1, n_newcomers=0)
    sponsor = w.sponsors[0]
    res = client.patch(
        "/api/v1/me/preferences", json={"minimal_emails": True}, headers=auth(sponsor)
    )
    assert res.status_code == 200 and res.json == {"minimal_emails": True}
    notify(sponsor, "match.proposed", key="m1", title=LOADED["title"], body=LOADED["body"])
    db.session.commit()
    deliver_due(utcnow())
    (msg,) = smtp.messages
    lines = msg.get_content().strip().splitlines()
    assert lines[0] == MINIMAL and lines[1].startswith("http") and len(lines) == 2


def test_preferences_reject_unknown_fields(client, auth, make_member):
    member = make_member()
    res = client.patch(
        "/api/v1/me/preferences", json={"minimal_emails": "sometimes"}, headers=auth(member)
    )
    assert res.status_code == 422 and "minimal_emails" in res.json["errors"]["json"]
