"""Check-in prompts: each side of a pair whose contact is due is told once per due time,
inside their own waking hours (the programme's quiet hours in that member's own time zone).

The sponsee is prompted and the sponsor nudged independently: a side's in-app notification,
unique by (pair, due time, side), says whether that member has had it; a CheckinPrompt row,
unique by (pair, due time), records that both have, so later runs stop looking at that due
time. A due time that a contact overtook before a side woke up is not announced to that side.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, or_, select

from api.extensions import db
from api.models import CheckinPrompt, Member, Notification, Program, Sponsorship
from api.program_settings import merged
from api.services.accountability import Message, existing_keys, insert_ignore, queue
from jobs.pairs import Pair, pair_query, pairs_from
from jobs.waking import awake_zones, is_waking

__all__ = ["is_waking", "send_checkin_prompts"]


def send_checkin_prompts(now: datetime) -> int:
    """Prompt every member whose pair's contact is due and who is awake; returns how many.

    Safe to run any number of times: each member is told once per due time.
    """
    zones = list(db.session.scalars(select(Member.time_zone).distinct()))
    sent = 0
    for program_id, settings in db.session.execute(select(Program.id, Program.settings)):
        awake = awake_zones(now, zones, merged(settings))
        if awake:
            sent += _prompt_program(program_id, awake, now)
    db.session.commit()
    return sent


def _prompt_program(program_id: int, awake: frozenset[str], now: datetime) -> int:
    query, sponsor, sponsee = pair_query()
    both_told = exists().where(
        CheckinPrompt.sponsorship_id == Sponsorship.id,
        CheckinPrompt.due_at == Sponsorship.contact_due_at,
    )
    pairs = pairs_from(
        query.where(
            Sponsorship.program_id == program_id,
            Sponsorship.status == "active",
            Sponsorship.contact_due_at <= now,
            ~both_told,
            or_(sponsee.time_zone.in_(awake), sponsor.time_zone.in_(awake)),
        )
    )
    if not pairs:
        return 0
    keys = {(p.id, side): _key(p, side) for p in pairs.values() for side, *_ in p.sides()}
    told = existing_keys(Notification.dedupe_key, list(keys.values()))
    messages, finished = [], []
    for pair in pairs.values():
        waiting = False
        for side, member_id, zone, other in pair.sides():
            key = keys[pair.id, side]
            if key in told:
                continue
            if zone not in awake:
                waiting = True  # asleep: told at the first run after their quiet hours end
                continue
            messages.append(_message(pair, side, member_id, other, key))
        if not waiting:
            row = {"sponsorship_id": pair.id, "due_at": pair.contact_due_at, "sent_at": now}
            finished.append(row)
    # Notification keys make a second run (or a racing one) send nothing twice; the rows
    # below only spare later runs from looking at due times both sides have had.
    queue(messages, now)
    insert_ignore(CheckinPrompt, finished)
    return len(messages)


def _key(pair: Pair, side: str) -> str:
    return f"checkin:{pair.uuid}:{pair.contact_due_at.isoformat()}:{side}"


def _message(pair: Pair, side: str, member_id: int, other: str, key: str) -> Message:
    data = {"sponsorship": pair.uuid, "due_at": pair.contact_due_at.isoformat()}
    if side == "sponsee":
        title = "Time to check in"
        body = (
            f"It's a good day to reach {other}. A call, a text or a meeting together all "
            "count. Log it when you have talked."
        )
    else:
        title = "A check-in is due"
        body = f"You and {other} are due to talk. A short call or text counts."
    return Message(member_id, "checkin.due", key, title, body, pair.program_id, data)
