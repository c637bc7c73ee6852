"""Temporary sponsorships: a convert-or-close prompt to both sides a week before the end."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from api.extensions import db
from api.models import Sponsorship
from api.services.accountability import Message, queue, queue_webhooks
from api.services.sponsorships import TERM_NOTICE

NOTICE = TERM_NOTICE


def prompt_term_endings(now: datetime) -> int:
    """Prompt every temporary pair ending within a week; the message key makes it once."""
    today = now.date()
    rows = db.session.execute(
        select(Sponsorship.id, Sponsorship.ends_on).where(
            Sponsorship.kind == "temporary",
            Sponsorship.status == "active",
            Sponsorship.ends_on.is_not(None),
            Sponsorship.ends_on >= today,
            Sponsorship.ends_on <= today + NOTICE,
        )
    ).all()
    if not rows:
        return 0
    from jobs.pairs import pairs_by_id

    pairs = pairs_by_id({sid for sid, _ in rows})
    messages, hooks = [], []
    for sid, ends_on in rows:
        p = pairs[sid]
        key = f"term:{p.uuid}:{ends_on.isoformat()}"
        data = {"sponsorship": p.uuid, "ends_on": ends_on.isoformat()}
        for member_id, other in ((p.sponsee_id, p.sponsor_name), (p.sponsor_id, p.sponsee_name)):
            messages.append(
                Message(
                    member_id,
                    "pair.term_ending",
                    f"{key}:{member_id}",
                    "Your temporary pairing ends soon",
                    f"Your temporary pairing with {other} ends on {ends_on:%d %B}. Talk it "
                    "over: continue together as a permanent pair, or close it and find a "
                    "permanent match.",
                    p.program_id,
                    data,
                )
            )
        hooks.append((p.program_id, key, data))
    queue(messages, now)
    queue_webhooks("pair.term_ending", hooks, now)
    db.session.commit()
    return len(rows)
