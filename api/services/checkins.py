"""Daily check-ins: today's three answers and private line, the member's choices, what their
sponsor may see, and reaching the sponsor the same day when a day is hard.

Who sees what (DESIGN.md §6): the private line is encrypted and read by its author only; the
sponsor of an active pair sees the three answers while the sponsee shares (the default), and
nothing once they stop; coordinators see counts only (api/reports/checkins.py), never a
member's answers. A hard day reaches the sponsor, never the coordinator.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update

from api.errors import Conflict, NotFound
from api.extensions import db
from api.i18n import N_
from api.models import CheckInChoice, DailyCheckIn, Member, Sponsorship, utcnow
from api.services.notes import encrypt_note
from api.services.notify import notify

SHOWN_DAYS = 14  # how far back a sponsor sees shared check-ins
LOW_MOOD = 2  # two days in a row at or under this nudge the sponsor
REASONS = ("asked", "hard", "low", "quiet")


def local_day(zone_name: str | None, now: datetime) -> date:
    """The member's own calendar day at ``now`` (UTC when the zone is unknown)."""
    try:
        zone = ZoneInfo(zone_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return now.astimezone(zone).date()


def is_hard(checkin: DailyCheckIn) -> bool:
    """A day that should reach a human: strong cravings, or the lowest mood."""
    return checkin.mood == 1 or checkin.cravings == "strong"


# ---- choices ---------------------------------------------------------------------------------


def choices(member_id: int) -> CheckInChoice:
    """The member's choices; the defaults (reminder off, sponsor sees) when never set."""
    row = db.session.get(CheckInChoice, member_id)
    return row or CheckInChoice(member_id=member_id, reminders=False, shared=True)


def set_choices(member: Member, data: dict, now: datetime | None = None) -> CheckInChoice:
    """Change the reminder and/or the sharing (absent keys stay as they are)."""
    now = now or utcnow()
    row = db.session.get(CheckInChoice, member.id)
    if row is None:
        row = CheckInChoice(member_id=member.id, reminders=False, shared=True)
        db.session.add(row)
    for key in ("reminders", "shared"):
        if key in data:
            setattr(row, key, bool(data[key]))
    row.updated_at = now
    db.session.commit()
    return row


# ---- the member's own check-ins --------------------------------------------------------------


def _insert():
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def record(member: Member, data: dict, now: datetime | None = None) -> DailyCheckIn:
    """Today's check-in (the member's own day); a second one the same day replaces the
    answers and the private line. One row per member and day is the database's rule."""
    now = now or utcnow()
    note = (data.get("note") or "").strip()
    values = {
        "mood": int(data["mood"]),
        "cravings": data["cravings"],
        "meeting": bool(data["meeting"]),
        "note_ciphertext": encrypt_note(note) if note else None,
        "updated_at": now,
    }
    day = local_day(member.time_zone, now)
    stmt = _insert()(DailyCheckIn).values(
        uuid=uuid.uuid4(), member_id=member.id, day=day, created_at=now, **values
    )
    db.session.execute(stmt.on_conflict_do_update(index_elements=["member_id", "day"], set_=values))
    db.session.commit()
    return db.session.scalar(
        select(DailyCheckIn)
        .where(DailyCheckIn.member_id == member.id, DailyCheckIn.day == day)
        .execution_options(populate_existing=True)
    )


def today(member: Member, now: datetime | None = None) -> DailyCheckIn | None:
    day = local_day(member.time_zone, now or utcnow())
    return db.session.scalar(
        select(DailyCheckIn).where(DailyCheckIn.member_id == member.id, DailyCheckIn.day == day)
    )


def mine(member: Member, limit: int = 30) -> list[DailyCheckIn]:
    """The member's own check-ins, newest day first."""
    return list(
        db.session.scalars(
            select(DailyCheckIn)
            .where(DailyCheckIn.member_id == member.id)
            .order_by(DailyCheckIn.day.desc())
            .limit(limit)
        )
    )


def own(member: Member, checkin_uuid) -> DailyCheckIn:
    """One of the member's check-ins. Raises NotFound for anyone else's."""
    row = db.session.scalar(select(DailyCheckIn).where(DailyCheckIn.uuid == checkin_uuid))
    if row is None or row.member_id != member.id:
        raise NotFound("No such check-in.")
    return row


# ---- the sponsor -----------------------------------------------------------------------------


def sponsors_of(member_id: int) -> list[Sponsorship]:
    """The member's active pairs in which they are the sponsee."""
    return list(
        db.session.scalars(
            select(Sponsorship)
            .where(Sponsorship.sponsee_id == member_id, Sponsorship.status == "active")
            .order_by(Sponsorship.id)
        )
    )


def shared_with(viewer: Member, pair: Sponsorship, now: datetime | None = None) -> list:
    """The sponsee's check-ins of the last SHOWN_DAYS days since the pair began, as ``viewer``
    (a side of ``pair``, checked by the caller) may see them: the sponsor only while the pair
    is active and the sponsee shares; the sponsee always sees their own."""
    now = now or utcnow()
    sponsee = pair.sponsee
    if viewer.id == pair.sponsor_id and viewer.id != pair.sponsee_id:
        if pair.status != "active" or not choices(sponsee.id).shared:
            return []
    elif viewer.id != pair.sponsee_id:
        raise NotFound("No such sponsorship.")
    since = max(
        local_day(sponsee.time_zone, now) - timedelta(days=SHOWN_DAYS - 1),
        local_day(sponsee.time_zone, pair.started_at),
    )
    return list(
        db.session.scalars(
            select(DailyCheckIn)
            .where(DailyCheckIn.member_id == sponsee.id, DailyCheckIn.day >= since)
            .order_by(DailyCheckIn.day.desc())
        )
    )


REACH_TITLE = "Please reach out to {name} today"
REACH_BODY = "{name} would be glad to hear from you today. A short call or text is enough."


def reach_key(checkin_uuid, pair_id: int) -> str:
    """One message per hard day and pair, whether the sponsee asked or the job sent it."""
    return f"reach:{checkin_uuid}:{pair_id}"


def tell_sponsor(member: Member, checkin_uuid, now: datetime | None = None) -> list[Sponsorship]:
    """ "Let my sponsor know now": each active sponsor of the member is asked, at once and
    whatever their waking hours, to reach out today. The message carries no answers and never
    the private line; it goes even when the member does not share check-ins, since they asked.
    Raises NotFound (not their check-in), Conflict (no sponsor right now)."""
    now = now or utcnow()
    checkin = own(member, checkin_uuid)
    pairs = sponsors_of(member.id)
    if not pairs:
        raise Conflict(N_("You have no sponsor right now."))
    name = member.display_name
    for pair in pairs:
        notify(
            pair.sponsor,
            "checkin.reach_out",
            key=reach_key(checkin.uuid, pair.id),
            title=REACH_TITLE.format(name=name),
            body=REACH_BODY.format(name=name),
            program=pair.program,
            data={"sponsorship": str(pair.uuid), "reason": "asked"},
        )
    db.session.execute(
        update(DailyCheckIn)
        .where(DailyCheckIn.id == checkin.id, DailyCheckIn.sponsor_told_at.is_(None))
        .values(sponsor_told_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return pairs
