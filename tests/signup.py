"""Sign up through the API and open the emailed confirmation link, as a person would."""

from __future__ import annotations

import re

from sqlalchemy import select

from api.extensions import db
from api.models import Member, OutboxMessage

LINK = re.compile(r"/verify/(\S+)")


def verification_token(email: str) -> str:
    """The token of the newest confirmation link queued for ``email``."""
    member = db.session.scalar(select(Member).where(Member.email == email.strip().lower()))
    row = db.session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.member_id == member.id, OutboxMessage.event == "account.verify")
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    return LINK.search(row.payload["body"]).group(1)


def sign_up_confirmed(client, body: dict) -> None:
    """POST /api/v1/auth/signup with ``body``, then confirm the address by the API twin of the
    emailed link. Fails the test if either step does not succeed."""
    res = client.post("/api/v1/auth/signup", json=body)
    assert res.status_code == 202, res.json
    token = verification_token(body["email"])
    res = client.post("/api/v1/auth/verify", json={"token": token})
    assert res.status_code == 204, res.json
