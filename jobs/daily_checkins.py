"""Daily check-ins: the reminder a member turned on, and reaching their sponsor when it matters.

``send_daily_reminders``: once a day, at the first run at or after REMIND_AT in the member's own
zone and inside their waking hours, each member who turned the reminder on and has not checked
in yet that day is asked "How is today?". The conditional UPDATE of ``reminded_on`` is the
claim: a second run, or a racing one, finds nothing to claim (and the message keys are unique).

``nudge_sponsors``: only for members who share their check-ins with their sponsor, and only the
sponsor of an active pair is told (never a coordinator). Within the sponsor's waking hours:
- a hard day (strong cravings, or the lowest mood) checked in within the last day;
- two low days in a row (mood 2 or under): once per run of low days;
- a week without a check-in after daily use (5 of the 7 days before): once per silence.
Each message has a key naming its episode, so running twice sends nothing twice.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_, select, update

from api.extensions import db
from api.models import (
    CheckInChoice,
    DailyCheckIn,
    Member,
    Membership,
    Notification,
    Program,
    Sponsorship,
)
from api.program_settings import merged
from api.services.accountability import Message, queue
from api.services.checkins import LOW_MOOD, REACH_BODY, REACH_TITLE, reach_key
from jobs.pairs import Pair, pair_query
from jobs.waking import _zone, is_waking

REMIND_AT = time(18, 0)  # the member's own evening; never inside the quiet hours
HARD_WITHIN = timedelta(hours=24)
QUIET_DAYS = 7  # a week without a check-in ...
DAILY_USE = 5  # ... after checking in on at least 5 of the 7 days before
QUIET_LOOKBACK = 14  # silences longer than this are not announced any more


def _local(now: datetime, zone_name: str) -> datetime:
    return now.astimezone(_zone(zone_name) or ZoneInfo("UTC"))


def _programs() -> dict[int, dict]:
    return {pid: merged(s) for pid, s in db.session.execute(select(Program.id, Program.settings))}


# ---- the member's daily reminder -------------------------------------------------------------


def send_daily_reminders(now: datetime) -> int:
    """Remind every member due now (see the module's docstring); returns how many."""
    zones = list(
        db.session.scalars(
            select(Member.time_zone)
            .join(CheckInChoice, CheckInChoice.member_id == Member.id)
            .where(CheckInChoice.reminders.is_(True))
            .distinct()
        )
    )
    sent = 0
    if zones:
        for program_id, settings in _programs().items():
            start, end = settings["quiet_hours_start"], settings["quiet_hours_end"]
            by_day: dict[date, list[str]] = defaultdict(list)
            for zone in zones:
                local = _local(now, zone)
                if local.time() >= REMIND_AT and is_waking(now, zone, start, end):
                    by_day[local.date()].append(zone)
            for day, due_zones in by_day.items():
                sent += _remind(program_id, day, due_zones, now)
    db.session.commit()
    return sent


def _remind(program_id: int, day: date, zones: list[str], now: datetime) -> int:
    members = (
        select(Member.id)
        .join(Membership, Membership.member_id == Member.id)
        .where(
            Membership.program_id == program_id,
            Member.time_zone.in_(zones),
            Member.closed_at.is_(None),
        )
    )
    checked_in = (
        exists()
        .where(DailyCheckIn.member_id == CheckInChoice.member_id, DailyCheckIn.day == day)
        .correlate(CheckInChoice)
    )
    # Who checked in already stays unclaimed (and is looked at again by later runs that day,
    # a cheap indexed look-up): the reminder is for a day not told yet.
    claimed = db.session.scalars(
        update(CheckInChoice)
        .where(
            CheckInChoice.reminders.is_(True),
            or_(CheckInChoice.reminded_on.is_(None), CheckInChoice.reminded_on < day),
            CheckInChoice.member_id.in_(members),
            ~checked_in,
        )
        .values(reminded_on=day)
        .returning(CheckInChoice.member_id)
        .execution_options(synchronize_session=False)
    ).all()
    messages = [
        Message(
            member_id,
            "checkin.daily",
            f"daily:{member_id}:{day.isoformat()}",
            "How is today?",
            "Three taps tell how today is going. It takes a few seconds.",
            program_id,
            {"day": day.isoformat()},
        )
        for member_id in claimed
    ]
    queue(messages, now)
    return len(messages)


# ---- the sponsor -----------------------------------------------------------------------------


def nudge_sponsors(now: datetime) -> int:
    """Ask sponsors to reach out where a sharing sponsee's check-ins call for it; returns how
    many messages were queued."""
    programs = _programs()
    messages: list[Message] = []
    told: list[int] = []
    for checkin_id, checkin_uuid, pairs in _hard_days(now):
        waiting = False
        for pair in pairs:
            if _awake(pair, now, programs):
                messages.append(_message(pair, "hard", reach_key(checkin_uuid, pair.id)))
            else:
                waiting = True
        if not waiting:
            told.append(checkin_id)
    for _member, key, pairs in _low_runs(now) + _silences(now):
        for pair in pairs:
            if _awake(pair, now, programs):
                messages.append(_message(pair, key[0], f"{key[1]}:{pair.id}"))
    if messages:  # only what was not sent before (keys name each episode)
        sent = set(
            db.session.scalars(
                select(Notification.dedupe_key).where(
                    Notification.dedupe_key.in_([m.key for m in messages])
                )
            )
        )
        messages = [m for m in messages if m.key not in sent]
    queue(messages, now)
    if told:
        db.session.execute(
            update(DailyCheckIn)
            .where(DailyCheckIn.id.in_(told), DailyCheckIn.sponsor_told_at.is_(None))
            .values(sponsor_told_at=now)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return len(messages)


def _awake(pair: Pair, now: datetime, programs: dict[int, dict]) -> bool:
    settings = programs[pair.program_id]
    return is_waking(
        now, pair.sponsor_zone, settings["quiet_hours_start"], settings["quiet_hours_end"]
    )


def _message(pair: Pair, reason: str, key: str) -> Message:
    name = pair.sponsee_name
    return Message(
        pair.sponsor_id,
        "checkin.reach_out",
        key,
        REACH_TITLE.format(name=name),
        REACH_BODY.format(name=name),
        pair.program_id,
        {"sponsorship": pair.uuid, "reason": reason},
    )


def _sharing(member_ids) -> set[int]:
    """Those of ``member_ids`` who share their check-ins (the default) with an active sponsor."""
    if not member_ids:
        return set()
    hidden = set(
        db.session.scalars(
            select(CheckInChoice.member_id).where(
                CheckInChoice.member_id.in_(member_ids), CheckInChoice.shared.is_(False)
            )
        )
    )
    return set(member_ids) - hidden


def _pairs_of(member_ids: set[int]) -> dict[int, list[Pair]]:
    found: dict[int, list[Pair]] = defaultdict(list)
    if member_ids:
        query, _, _ = pair_query()
        for row in db.session.execute(
            query.where(Sponsorship.sponsee_id.in_(member_ids), Sponsorship.status == "active")
        ):
            pair = Pair(row[0], str(row[1]), *row[2:10])
            found[pair.sponsee_id].append(pair)
    return found


def _hard_days(now: datetime) -> list[tuple[int, object, list[Pair]]]:
    rows = db.session.execute(
        select(DailyCheckIn.id, DailyCheckIn.uuid, DailyCheckIn.member_id).where(
            DailyCheckIn.sponsor_told_at.is_(None),
            DailyCheckIn.updated_at >= now - HARD_WITHIN,
            or_(DailyCheckIn.mood == 1, DailyCheckIn.cravings == "strong"),
        )
    ).all()
    sharing = _sharing({r.member_id for r in rows})
    pairs = _pairs_of(sharing)
    return [(r.id, r.uuid, pairs[r.member_id]) for r in rows if pairs.get(r.member_id)]


def _recent(member_ids: set[int], since: date) -> dict[int, list]:
    """Each member's check-ins since ``since``, newest day first."""
    found: dict[int, list] = defaultdict(list)
    if member_ids:
        for row in db.session.execute(
            select(
                DailyCheckIn.member_id,
                DailyCheckIn.day,
                DailyCheckIn.mood,
                DailyCheckIn.sponsor_told_at,
            )
            .where(DailyCheckIn.member_id.in_(member_ids), DailyCheckIn.day >= since)
            .order_by(DailyCheckIn.member_id, DailyCheckIn.day.desc())
        ):
            found[row.member_id].append(row)
    return found


def _today_of(member_ids: set[int], now: datetime) -> dict[int, date]:
    zones = db.session.execute(select(Member.id, Member.time_zone).where(Member.id.in_(member_ids)))
    return {member_id: _local(now, zone).date() for member_id, zone in zones}


def _low_runs(now: datetime) -> list[tuple[int, tuple[str, str], list[Pair]]]:
    """Members whose newest check-ins (yesterday's or today's) are two or more low days in a
    row: one key per run of low days, named by the run's first day."""
    horizon = now.date() - timedelta(days=2)
    candidates = set(
        db.session.scalars(
            select(DailyCheckIn.member_id)
            .where(DailyCheckIn.day >= horizon, DailyCheckIn.mood <= LOW_MOOD)
            .distinct()
        )
    )
    sharing = _sharing(candidates)
    pairs = _pairs_of(sharing)
    members = {m for m in sharing if pairs.get(m)}
    if not members:
        return []
    today = _today_of(members, now)
    recent = _recent(members, horizon - timedelta(days=60))
    found = []
    for member_id in members:
        rows = recent.get(member_id, [])
        if not rows or rows[0].mood > LOW_MOOD or rows[0].day < today[member_id] - timedelta(1):
            continue
        run = [rows[0]]
        for row in rows[1:]:
            if row.mood > LOW_MOOD or row.day != run[-1].day - timedelta(days=1):
                break
            run.append(row)
        if len(run) < 2 or rows[0].sponsor_told_at is not None:
            continue  # one low day; or today's hard day already reached the sponsor
        key = ("low", f"reach-low:{member_id}:{run[-1].day.isoformat()}")
        found.append((member_id, key, pairs[member_id]))
    return found


def _silences(now: datetime) -> list[tuple[int, tuple[str, str], list[Pair]]]:
    """Members who checked in daily (5 of 7 days) and then not for a week: one key per
    silence, named by the last day they checked in."""
    newest = func.max(DailyCheckIn.day)
    utc_today = now.date()
    rows = db.session.execute(
        select(DailyCheckIn.member_id, newest)
        .where(DailyCheckIn.day >= utc_today - timedelta(days=QUIET_LOOKBACK + 2))  # zones
        .group_by(DailyCheckIn.member_id)
        .having(
            and_(
                newest <= utc_today - timedelta(days=QUIET_DAYS - 1),
                newest >= utc_today - timedelta(days=QUIET_LOOKBACK + 2),
            )
        )
    ).all()
    sharing = _sharing({member_id for member_id, _ in rows})
    pairs = _pairs_of(sharing)
    members = {m for m in sharing if pairs.get(m)}
    if not members:
        return []
    today = _today_of(members, now)
    last_of = {member_id: last for member_id, last in rows}
    recent = _recent(members, utc_today - timedelta(days=QUIET_LOOKBACK + QUIET_DAYS + 2))
    found = []
    for member_id in members:
        last = last_of[member_id]
        silent = (today[member_id] - last).days - 1  # whole days without a check-in
        if not QUIET_DAYS <= silent <= QUIET_LOOKBACK:
            continue
        week = [r for r in recent.get(member_id, []) if last - r.day < timedelta(days=7)]
        if len(week) < DAILY_USE:
            continue
        key = ("quiet", f"reach-quiet:{member_id}:{last.isoformat()}")
        found.append((member_id, key, pairs[member_id]))
    return found
