"""Missed-contact flags: open at level 1 past grace, climb to 2 and 3, announce each level once.

With ``overdue = now - contact_due_at`` and ``cadence = contact_due_at - last contact`` (the
interval that produced the due time), a flag is at
level 1 when overdue > grace (both sides told),
level 2 when overdue > cadence + grace, i.e. twice the cadence since the last contact
(the sponsor told firmly),
level 3 when overdue > min(2 × cadence, 14 days) + grace, i.e. three times the cadence since
the last contact or 14 days overdue (the coordinators' escalation queue).
Levels only climb one at a time, and a logged contact closes the flag (services.contacts).

Levels change whatever the hour, and coordinators and webhooks hear of them at once. A member
in their quiet hours is told at the first run after those end (if the flag is still open):
their in-app notification, unique by (flag, level, member), records that they were told.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, and_, case, cast, exists, func, literal, or_, select, update
from sqlalchemy.orm import aliased

from api.extensions import db
from api.models import Member, MissedContactFlag, Notification, Program, Sponsorship
from api.program_settings import merged
from api.services.accountability import (
    Message,
    coordinators,
    epoch,
    insert_ignore,
    queue,
    queue_webhooks,
    uuid_text,
)
from api.services.escalations import after_resolution
from jobs.pairs import PAIR_COLUMNS, Pair, pair_of, pair_query, pairs_by_id, pairs_from
from jobs.waking import awake_zones

FOURTEEN_DAYS_S = 14 * 86400.0


def flag_missed_contacts(now: datetime) -> dict[str, int]:
    """Open, escalate and close flags for every pair; safe to run any number of times.

    Returns counts of flags closed and raised to each level, and of members' messages that
    waited for their waking hours and went out now (``after_quiet_hours``)."""
    counts = {"resolved": _close_stale(now), "level1": 0, "level2": 0, "level3": 0}
    zones = list(db.session.scalars(select(Member.time_zone).distinct()))
    opened, raised2, raised3, known, awake = [], [], [], {}, {}
    for program_id, settings in db.session.execute(select(Program.id, Program.settings)):
        settings = merged(settings)
        grace_s = float(settings["grace_hours"]) * 3600.0
        awake[program_id] = awake_zones(now, zones, settings)
        opened += _open(program_id, now, grace_s, known)
        raised2 += _raise(program_id, now, grace_s, 2)
        raised3 += _raise(program_id, now, grace_s, 3)
    counts.update(level1=len(opened), level2=len(raised2), level3=len(raised3))
    _announce(opened, raised2, raised3, known, awake, now)
    counts["after_quiet_hours"] = sum(_tell_woken(pid, up, now) for pid, up in awake.items())
    db.session.commit()
    return counts


def _close_stale(now: datetime) -> int:
    """Close flags of pairs that ended, or that are back in touch (e.g. a racing contact)."""
    ended = select(Sponsorship.id).where(Sponsorship.status != "active")
    closed = db.session.scalars(
        update(MissedContactFlag)
        .where(MissedContactFlag.resolved_at.is_(None), MissedContactFlag.sponsorship_id.in_(ended))
        .values(resolved_at=now, resolution="ended")
        .returning(MissedContactFlag.id)
        .execution_options(synchronize_session=False)
    ).all()
    current = select(Sponsorship.id).where(Sponsorship.contact_due_at > now)
    closed += db.session.scalars(
        update(MissedContactFlag)
        .where(
            MissedContactFlag.resolved_at.is_(None), MissedContactFlag.sponsorship_id.in_(current)
        )
        .values(resolved_at=now, resolution="contact")
        .returning(MissedContactFlag.id)
        .execution_options(synchronize_session=False)
    ).all()
    after_resolution(closed, now)
    return len(closed)


def _open(program_id: int, now: datetime, grace_s: float, known: dict) -> list[tuple]:
    # An open flag, or one a coordinator already closed for this same missed due time (a new
    # episode starts only after the pair's due time moves on).
    flagged = exists().where(
        MissedContactFlag.sponsorship_id == Sponsorship.id,
        or_(
            MissedContactFlag.resolved_at.is_(None),
            MissedContactFlag.due_at == Sponsorship.contact_due_at,
        ),
    )
    query, _, _ = pair_query()
    quiet = pairs_from(
        query.where(
            Sponsorship.program_id == program_id,
            Sponsorship.status == "active",
            Sponsorship.contact_due_at < now - timedelta(seconds=grace_s),
            ~flagged,
        )
    )
    known.update(quiet)
    rows = [
        {
            "sponsorship_id": pair.id,
            "program_id": program_id,
            "level": 1,
            "due_at": pair.contact_due_at,
            "opened_at": now,
        }
        for pair in quiet.values()
    ]
    # The partial unique index (one open flag per pair) turns a racing duplicate into a no-op.
    return insert_ignore(
        MissedContactFlag,
        rows,
        MissedContactFlag.uuid,
        MissedContactFlag.sponsorship_id,
        MissedContactFlag.program_id,
    )


def _raise(program_id: int, now: datetime, grace_s: float, level: int) -> list[tuple]:
    due = epoch(Sponsorship.contact_due_at)
    overdue = now.timestamp() - due
    cadence = due - epoch(func.coalesce(Sponsorship.last_contact_at, Sponsorship.started_at))
    if level == 2:
        reached = overdue > cadence + grace_s
    else:
        reached = (
            overdue
            > case((2 * cadence < FOURTEEN_DAYS_S, 2 * cadence), else_=FOURTEEN_DAYS_S) + grace_s
        )
    candidates = (
        select(MissedContactFlag.id)
        .join(Sponsorship, Sponsorship.id == MissedContactFlag.sponsorship_id)
        .where(
            and_(
                MissedContactFlag.program_id == program_id,
                MissedContactFlag.resolved_at.is_(None),
                MissedContactFlag.level == level - 1,
                reached,
            )
        )
    )
    stamp = {"level2_at": now} if level == 2 else {"level3_at": now}
    # Conditional on the previous level, so each level is reached (and announced) once.
    return db.session.execute(
        update(MissedContactFlag)
        .where(MissedContactFlag.id.in_(candidates), MissedContactFlag.level == level - 1)
        .values(level=level, **stamp)
        .returning(
            MissedContactFlag.uuid, MissedContactFlag.sponsorship_id, MissedContactFlag.program_id
        )
        .execution_options(synchronize_session=False)
    ).all()


def _announce(
    opened: list, raised2: list, raised3: list, known: dict, awake: dict, now: datetime
) -> None:
    # Newly opened flags come with their pair from the opening query; look up only the rest.
    pairs = dict(known)
    pairs.update(pairs_by_id({sid for _, sid, _ in raised2 + raised3} - set(known)))
    coords = coordinators({pid for _, _, pid in raised3})
    messages: list[Message] = []
    hooks1, hooks3 = [], []
    for flag_uuid, sid, pid in opened:
        p = pairs[sid]
        messages += _member_messages(str(flag_uuid), 1, p, awake[pid])
        data = {"sponsorship": p.uuid, "flag": str(flag_uuid), "level": 1}
        hooks1.append((pid, f"flag:{flag_uuid}:1", data))
    for flag_uuid, sid, pid in raised2:
        messages += _member_messages(str(flag_uuid), 2, pairs[sid], awake[pid])
    for flag_uuid, sid, pid in raised3:
        p = pairs[sid]
        data = {"sponsorship": p.uuid, "flag": str(flag_uuid), "level": 3}
        for coordinator_id in coords.get(pid, ()):
            messages.append(
                Message(
                    coordinator_id,
                    "contact.escalated",
                    f"flag:{flag_uuid}:3:{coordinator_id}",
                    "A pair needs your attention",
                    f"{p.sponsor_name} and {p.sponsee_name} have been out of touch for a long "
                    "time. The pair is in your escalation queue.",
                    pid,
                    data,
                )
            )
        hooks3.append((pid, f"flag:{flag_uuid}:3", data))
    queue(messages, now)
    queue_webhooks("contact.overdue", hooks1, now)
    queue_webhooks("contact.escalated", hooks3, now)


def _tell_woken(program_id: int, awake: frozenset[str], now: datetime) -> int:
    """Tell members now awake what their open flags announced while they slept (or while the
    worker was down). Flags opened by this very run were announced by ``_announce``."""
    if not awake:
        return 0
    query, sponsor, sponsee = pair_query()
    flag = MissedContactFlag
    # Each member message the flag's levels call for, if it exists (dedupe keys are unique).
    told = {key: aliased(Notification) for key in ((1, "sponsee"), (1, "sponsor"), (2, "sponsor"))}
    owed = {
        (1, "sponsee"): and_(sponsee.time_zone.in_(awake), told[1, "sponsee"].id.is_(None)),
        (1, "sponsor"): and_(sponsor.time_zone.in_(awake), told[1, "sponsor"].id.is_(None)),
        (2, "sponsor"): and_(
            flag.level >= 2, sponsor.time_zone.in_(awake), told[2, "sponsor"].id.is_(None)
        ),
    }
    query = query.add_columns(flag.uuid, *owed.values()).join(
        flag, flag.sponsorship_id == Sponsorship.id
    )
    for (level, side), note in told.items():
        member = sponsee if side == "sponsee" else sponsor
        query = query.outerjoin(note, note.dedupe_key == _key_sql(level, member))
    rows = db.session.execute(
        query.where(
            flag.program_id == program_id,
            flag.resolved_at.is_(None),
            flag.opened_at != now,
            or_(*owed.values()),
        )
    ).all()
    messages = []
    for row in rows:
        pair = pair_of(row)
        flag_uuid = str(row[PAIR_COLUMNS])
        owing = dict(zip(owed, row[PAIR_COLUMNS + 1 :], strict=True))
        for message in _member_messages(flag_uuid, 1, pair, awake):
            side = "sponsee" if message.member_id == pair.sponsee_id else "sponsor"
            if owing[1, side]:
                messages.append(message)
        if owing[2, "sponsor"]:
            messages += _member_messages(flag_uuid, 2, pair, awake)
    queue(messages, now)
    return len(messages)


def _key_sql(level: int, member) -> object:
    """``flag:{uuid}:{level}:{member id}``, the key ``_member_messages`` gives, in SQL."""
    return (
        literal("flag:", String)
        .concat(uuid_text(MissedContactFlag.uuid))
        .concat(f":{level}:")
        .concat(cast(member.id, String))
    )


def _member_messages(flag_uuid: str, level: int, p: Pair, awake: frozenset[str]) -> list:
    """The level's messages to those of the pair who are awake: both sides at level 1, the
    sponsor (firmly) at level 2."""
    data = {"sponsorship": p.uuid, "flag": flag_uuid, "level": level}
    messages = []
    if level == 1:
        for _side, member_id, zone, other in p.sides():
            if zone in awake:
                messages.append(
                    Message(
                        member_id,
                        "contact.overdue",
                        f"flag:{flag_uuid}:1:{member_id}",
                        "Time to reconnect",
                        f"You and {other} have not logged a check-in for a while. A short call "
                        "or text counts; log it when you have talked.",
                        p.program_id,
                        data,
                    )
                )
    elif p.sponsor_zone in awake:
        messages.append(
            Message(
                p.sponsor_id,
                "contact.overdue",
                f"flag:{flag_uuid}:2:{p.sponsor_id}",
                f"Please reach {p.sponsee_name} today",
                f"You and {p.sponsee_name} have gone twice your agreed check-in time without "
                "contact. Please reach out today. If something is in the way, tell your "
                "coordinator.",
                p.program_id,
                data,
            )
        )
    return messages
