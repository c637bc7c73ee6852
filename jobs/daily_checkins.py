"""Daily check-ins: the reminder a member turned on, and reaching their sponsor when it matters.

``send_daily_reminders``: once a day, at the first run at or after their own minute of the hour
after REMIND_AT (18:00-18:59 in the member's own zone, the same minute every day) and inside
their waking hours, each member who turned the reminder on and has not checked in yet that day
is emailed "How is today?". The conditional UPDATE of ``reminded_on`` is the claim: a second
run, or a racing one, finds nothing to claim (and the message keys are unique).

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
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import and_, case, exists, func, or_, select, text, update
from sqlalchemy.orm import aliased

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
from jobs.pairs import PAIR_COLUMNS, Pair, pair_query
from jobs.waking import _zone, is_waking

REMIND_AT = time(18, 0)  # the member's own evening; never inside the quiet hours
# Each member has their own minute in the hour after REMIND_AT (member id modulo 60), the same
# every day: a zone's reminders are spread over an hour instead of all leaving at once.
SPREAD_MINUTES = 60
HARD_WITHIN = timedelta(hours=24)
QUIET_DAYS = 7  # a week without a check-in ...
DAILY_USE = 5  # ... after checking in on at least 5 of the 7 days before
QUIET_LOOKBACK = 14  # silences longer than this are not announced any more


def _local(now: datetime, zone_name: str) -> datetime:
    return now.astimezone(_zone(zone_name) or ZoneInfo("UTC"))


def _without_jit() -> None:
    """PostgreSQL, this transaction only: no JIT compilation. These queries touch many rows
    but run for milliseconds; their cost estimates still cross ``jit_above_cost``, and
    compiling them took longer (0.6-0.8 s at 100k members) than running them."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))


def _programs() -> dict[int, dict]:
    return {pid: merged(s) for pid, s in db.session.execute(select(Program.id, Program.settings))}


# ---- the member's daily reminder -------------------------------------------------------------


def send_daily_reminders(now: datetime) -> int:
    """Remind every member due now (see the module's docstring); returns how many."""
    _without_jit()
    sent = 0
    for program_id, settings in _programs().items():
        start, end = settings["quiet_hours_start"], settings["quiet_hours_end"]
        due: dict[tuple[date, int], list[str]] = defaultdict(list)
        for zone in _all_zones():
            local = _local(now, zone)
            elapsed = (local.hour - REMIND_AT.hour) * 60 + local.minute - REMIND_AT.minute
            if elapsed >= 0 and is_waking(now, zone, start, end):
                due[local.date(), min(elapsed, SPREAD_MINUTES - 1)].append(zone)
        if due:
            sent += _remind(program_id, due, now)
    db.session.commit()
    return sent


@cache
def _all_zones() -> tuple[str, ...]:
    """Every IANA zone name a member can have chosen (profiles accept only these)."""
    return tuple(sorted(available_timezones()))


def _remind(program_id: int, due: dict[tuple[date, int], list[str]], now: datetime) -> int:
    """Claim, in one conditional UPDATE, every member of the programme whose reminder is due:
    turned on, not reminded yet that day (their own), not checked in yet, their minute of the
    spread reached, a verified address and an open account. The claim is the send-once."""
    groups = []
    for (day, reached), zones in due.items():
        checked_in = (
            exists()
            .where(DailyCheckIn.member_id == CheckInChoice.member_id, DailyCheckIn.day == day)
            .correlate(CheckInChoice)
        )
        condition = and_(
            Member.time_zone.in_(zones),
            or_(CheckInChoice.reminded_on.is_(None), CheckInChoice.reminded_on < day),
            ~checked_in,
        )
        if reached < SPREAD_MINUTES - 1:
            condition = and_(condition, CheckInChoice.member_id % SPREAD_MINUTES <= reached)
        groups.append((condition, day))
    member_here = exists().where(
        Membership.member_id == CheckInChoice.member_id, Membership.program_id == program_id
    )
    claimed = db.session.execute(
        update(CheckInChoice)
        .where(
            CheckInChoice.member_id == Member.id,
            CheckInChoice.reminders.is_(True),
            Member.closed_at.is_(None),
            Member.email_verified_at.is_not(None),  # no mail to an unverified address
            member_here,
            or_(*(condition for condition, _ in groups)),
        )
        .values(reminded_on=case(*groups))
        .returning(CheckInChoice.member_id, CheckInChoice.reminded_on)
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
            in_app=False,  # an email: thirty a month would bury the notifications that matter
        )
        for member_id, day in claimed
    ]
    queue(messages, now)
    return len(messages)


# ---- the sponsor -----------------------------------------------------------------------------


def nudge_sponsors(now: datetime) -> int:
    """Ask sponsors to reach out where a sharing sponsee's check-ins call for it; returns how
    many messages were queued."""
    _without_jit()
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


def _sharing_pairs(*columns):
    """The pair query (jobs.pairs) narrowed to active pairs whose sponsee shares check-ins (no
    choice made means the default: shared), with ``columns`` after the pair's own."""
    query, _, _ = pair_query()
    return (
        query.add_columns(*columns)
        .outerjoin(CheckInChoice, CheckInChoice.member_id == Sponsorship.sponsee_id)
        .where(
            Sponsorship.status == "active",
            or_(CheckInChoice.shared.is_(None), CheckInChoice.shared.is_(True)),
        )
    )


def _pair(row) -> Pair:
    return Pair(row[0], str(row[1]), *row[2:PAIR_COLUMNS])


def _hard_days(now: datetime) -> list[tuple[int, object, list[Pair]]]:
    found: dict[int, tuple[object, list[Pair]]] = {}
    for row in db.session.execute(
        _sharing_pairs(DailyCheckIn.id, DailyCheckIn.uuid)
        .join(DailyCheckIn, DailyCheckIn.member_id == Sponsorship.sponsee_id)
        .where(
            DailyCheckIn.day >= now.date() - timedelta(days=2),  # the index; then exactly:
            DailyCheckIn.updated_at >= now - HARD_WITHIN,
            DailyCheckIn.sponsor_told_at.is_(None),
            or_(DailyCheckIn.mood == 1, DailyCheckIn.cravings == "strong"),
        )
    ):
        checkin_id, checkin_uuid = row[PAIR_COLUMNS:]
        found.setdefault(checkin_id, (checkin_uuid, []))[1].append(_pair(row))
    return [(checkin_id, found_uuid, pairs) for checkin_id, (found_uuid, pairs) in found.items()]


def _day_before(column):
    if db.session.get_bind().dialect.name == "postgresql":
        return column - 1
    return func.date(column, "-1 day")


def _recent(member_ids: set[int], since: date) -> dict[int, list]:
    """Each member's check-ins since ``since``, newest day first."""
    found: dict[int, list] = defaultdict(list)
    if member_ids:
        for row in db.session.execute(
            select(DailyCheckIn.member_id, DailyCheckIn.day, DailyCheckIn.mood)
            .where(DailyCheckIn.member_id.in_(member_ids), DailyCheckIn.day >= since)
            .order_by(DailyCheckIn.member_id, DailyCheckIn.day.desc())
        ):
            found[row.member_id].append(row)
    return found


def _low_runs(now: datetime) -> list[tuple[int, tuple[str, str], list[Pair]]]:
    """Members whose newest check-in (today's or yesterday's, their own days) ends two or more
    low days in a row: one key per run of low days, named by the run's first day. Where the
    newest day was a hard day that already reached the sponsor, that message stands for it."""
    newest, before = aliased(DailyCheckIn), aliased(DailyCheckIn)
    later = aliased(DailyCheckIn)
    rows = db.session.execute(
        _sharing_pairs(newest.day, newest.sponsor_told_at)
        .join(newest, newest.member_id == Sponsorship.sponsee_id)
        .join(
            before,
            and_(
                before.member_id == newest.member_id,
                before.day == _day_before(newest.day),
                before.mood <= LOW_MOOD,
            ),
        )
        .where(
            newest.day >= now.date() - timedelta(days=2),
            newest.mood <= LOW_MOOD,
            ~exists().where(later.member_id == newest.member_id, later.day > newest.day),
        )
    ).all()
    pairs: dict[int, list[Pair]] = defaultdict(list)
    ends: dict[int, tuple[date, object]] = {}
    for row in rows:
        pair = _pair(row)
        day, told = row[PAIR_COLUMNS:]
        if day >= _local(now, pair.sponsee_zone).date() - timedelta(days=1) and told is None:
            pairs[pair.sponsee_id].append(pair)
            ends[pair.sponsee_id] = (day, told)
    recent = _recent(set(ends), now.date() - timedelta(days=62))
    found = []
    for member_id, (day, _) in ends.items():
        run = [r for r in recent.get(member_id, []) if r.day <= day]
        start = run[0].day
        for row in run[1:]:
            if row.mood > LOW_MOOD or row.day != start - timedelta(days=1):
                break
            start = row.day
        found.append(
            (member_id, ("low", f"reach-low:{member_id}:{start.isoformat()}"), pairs[member_id])
        )
    return found


def _silences(now: datetime) -> list[tuple[int, tuple[str, str], list[Pair]]]:
    """Members who checked in daily (5 of 7 days) and then not for a whole week: one key per
    silence, named by the last day they checked in."""
    newest = func.max(DailyCheckIn.day)
    utc_today = now.date()
    window = utc_today - timedelta(days=QUIET_LOOKBACK + 2)  # + a day each way for the zones
    lasts = (
        select(DailyCheckIn.member_id.label("member_id"), newest.label("last"))
        .where(DailyCheckIn.day >= window)
        .group_by(DailyCheckIn.member_id)
        .having(newest <= utc_today - timedelta(days=QUIET_DAYS - 1))
        .subquery()
    )
    rows = db.session.execute(
        _sharing_pairs(lasts.c.last).join(lasts, lasts.c.member_id == Sponsorship.sponsee_id)
    ).all()
    pairs: dict[int, list[Pair]] = defaultdict(list)
    last_of: dict[int, date] = {}
    for row in rows:
        pair = _pair(row)
        last = row[PAIR_COLUMNS]
        silent = (_local(now, pair.sponsee_zone).date() - last).days - 1  # whole days
        if QUIET_DAYS <= silent <= QUIET_LOOKBACK:
            pairs[pair.sponsee_id].append(pair)
            last_of[pair.sponsee_id] = last
    recent = _recent(set(last_of), window - timedelta(days=QUIET_DAYS))
    found = []
    for member_id, last in last_of.items():
        week = [r for r in recent.get(member_id, []) if timedelta(0) <= last - r.day < timedelta(7)]
        if len(week) >= DAILY_USE:
            key = ("quiet", f"reach-quiet:{member_id}:{last.isoformat()}")
            found.append((member_id, key, pairs[member_id]))
    return found
