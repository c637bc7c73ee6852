"""Check-in prompts: each side of a pair whose contact is due is told once per due time,
inside their own waking hours (the programme's quiet hours in that member's own time zone).

The sponsee is prompted and the sponsor nudged independently: a side's in-app notification,
unique by (pair, due time, side), says whether that member has had it; a CheckinPrompt row,
unique by (pair, due time), records that both have, so later runs stop looking at that due
time. A due time that a contact overtook before a side woke up is not announced to that side.
The job's one query skips pairs with nothing to do (e.g. one side told, the other asleep).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import String, and_, cast, exists, literal, or_, select
from sqlalchemy.orm import aliased

from api.extensions import db
from api.models import CheckinPrompt, Member, Notification, Program, Sponsorship
from api.program_settings import merged
from api.services.accountability import Message, insert_ignore, queue, seconds_text
from jobs.pairs import Pair, pair_of, pair_query
from jobs.waking import awake_zones


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
    due = query.where(
        Sponsorship.program_id == program_id,
        Sponsorship.status == "active",
        Sponsorship.contact_due_at <= now,
        ~both_told,
        or_(sponsee.time_zone.in_(awake), sponsor.time_zone.in_(awake)),
    ).cte("due_pairs")
    if db.session.get_bind().dialect.name == "postgresql":
        # Materialised first, so the notification look-ups below run only for these pairs.
        due = due.prefix_with("MATERIALIZED")
    # Each side's message about this due time, if it exists (dedupe keys are unique).
    told = {side: aliased(Notification) for side in ("sponsee", "sponsor")}
    query = select(due, *(n.id.is_not(None) for n in told.values()))
    for side, note in told.items():
        query = query.outerjoin(note, note.dedupe_key == _key_sql(due, side))
    rows = db.session.execute(
        query.where(
            # Someone awake to tell, or both told already (only the CheckinPrompt row is due).
            or_(
                and_(due.c.sponsee_zone.in_(awake), told["sponsee"].id.is_(None)),
                and_(due.c.sponsor_zone.in_(awake), told["sponsor"].id.is_(None)),
                and_(told["sponsee"].id.is_not(None), told["sponsor"].id.is_not(None)),
            )
        )
    )
    messages, finished = [], []
    for row in rows:
        pair = pair_of(row)
        already = {"sponsee": row[-2], "sponsor": row[-1]}
        waiting = False
        for side, member_id, zone, other in pair.sides():
            if already[side]:
                continue
            if zone not in awake:
                waiting = True  # asleep: told at the first run after their quiet hours end
                continue
            messages.append(_message(pair, side, member_id, other))
        if not waiting:
            row = {"sponsorship_id": pair.id, "due_at": pair.contact_due_at, "sent_at": now}
            finished.append(row)
    # Notification keys make a second run (or a racing one) send nothing twice; the rows
    # below only spare later runs from looking at due times both sides have had.
    queue(messages, now)
    insert_ignore(CheckinPrompt, finished)
    return len(messages)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _key(pair: Pair, side: str) -> str:
    """The dedupe key of one side's message about one due time (whole seconds suffice: due
    times of a pair are a cadence apart). ``_key_sql`` computes the same in the query."""
    seconds = (pair.contact_due_at - EPOCH) // timedelta(seconds=1)
    return f"checkin:{pair.id}:{seconds}:{side}"


def _key_sql(pairs, side: str):
    return (
        literal("checkin:", String)
        .concat(cast(pairs.c.id, String))
        .concat(":")
        .concat(seconds_text(pairs.c.contact_due_at))
        .concat(f":{side}")
    )


def _message(pair: Pair, side: str, member_id: int, other: str) -> Message:
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
    key = _key(pair, side)
    return Message(member_id, "checkin.due", key, title, body, pair.program_id, data)
