"""Check-in prompts: one per due date per pair, sent inside the sponsee's waking hours."""

from __future__ import annotations

from datetime import datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import exists, select

from api.extensions import db
from api.models import CheckinPrompt, Member, Program, Sponsorship
from api.services.accountability import Message, insert_ignore, queue


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def is_waking(now: datetime, zone_name: str, quiet_start: str, quiet_end: str) -> bool:
    """Whether ``now`` (aware UTC) is outside the quiet hours in ``zone_name``.

    Local time comes from the UTC instant, so a DST change can neither skip nor repeat it.
    """
    zone = _zone(zone_name) or _zone("UTC")
    local = now.astimezone(zone).time()
    start, end = _hhmm(quiet_start), _hhmm(quiet_end)
    if start <= end:  # quiet hours inside one day, e.g. 13:00–15:00
        return not (start <= local < end)
    return end <= local < start  # quiet across midnight, e.g. 21:00–08:00


def send_checkin_prompts(now: datetime) -> int:
    """Prompt every pair whose contact is due, once per due date, in waking hours."""
    zones = list(db.session.scalars(select(Member.time_zone).distinct()))
    sent = 0
    for program in db.session.scalars(select(Program)):
        start, end = program.setting("quiet_hours_start"), program.setting("quiet_hours_end")
        awake = [z for z in zones if is_waking(now, z, start, end)]
        if awake:
            sent += _prompt_program(program, awake, now)
    db.session.commit()
    return sent


def _prompt_program(program: Program, awake: list[str], now: datetime) -> int:
    from jobs.pairs import pair_query, pairs_from

    query, sponsee = pair_query()
    prompted = exists().where(
        CheckinPrompt.sponsorship_id == Sponsorship.id,
        CheckinPrompt.due_at == Sponsorship.contact_due_at,
    )
    pairs = pairs_from(
        query.where(
            Sponsorship.program_id == program.id,
            Sponsorship.status == "active",
            Sponsorship.contact_due_at <= now,
            sponsee.time_zone.in_(awake),
            ~prompted,
        )
    )
    rows = [
        {"sponsorship_id": p.id, "due_at": p.contact_due_at, "sent_at": now} for p in pairs.values()
    ]
    # The unique (sponsorship, due_at) key is what makes a second run send nothing twice.
    inserted = insert_ignore(
        CheckinPrompt, rows, CheckinPrompt.sponsorship_id, CheckinPrompt.due_at
    )
    if not inserted:
        return 0
    messages = []
    for sid, due_at in inserted:
        pair = pairs[sid]
        key = f"checkin:{pair.uuid}:{due_at.isoformat()}"
        data = {"sponsorship": pair.uuid, "due_at": due_at.isoformat()}
        messages.append(
            Message(
                pair.sponsee_id,
                "checkin.due",
                f"{key}:sponsee",
                "Time to check in",
                f"It's a good day to reach {pair.sponsor_name}. A call, a text or a meeting "
                "together all count. Log it when you have talked.",
                program.id,
                data,
            )
        )
        messages.append(
            Message(
                pair.sponsor_id,
                "checkin.due",
                f"{key}:sponsor",
                "A check-in is due",
                f"You and {pair.sponsee_name} are due to talk. A short call or text counts.",
                program.id,
                data,
            )
        )
    queue(messages, now)
    return len(inserted)
