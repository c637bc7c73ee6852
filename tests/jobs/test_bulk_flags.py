"""Hundreds of pairs going quiet at once: PostgreSQL's COPY path for large batches.

From COPY_THRESHOLD rows on, flags and their messages are written through COPY into a scratch
table and one INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING, with PostgreSQL making the
flags' UUIDs. The result must be the same as on the small path: one flag per pair, each with
its own UUID, announced once, and nothing new on a second run. The sponsees live in New York
and the sponsors in Sydney, asleep when the flags open: they are told, in bulk too, at the
first sweep after their quiet hours end.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

import api.services.accountability as accountability
from api.models import Member, MissedContactFlag, Notification, OutboxMessage, Sponsorship, Webhook
from jobs.missed_contact import flag_missed_contacts

pytestmark = pytest.mark.postgres

PAIRS = accountability.COPY_THRESHOLD + 100
STARTED = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
DUE = STARTED + timedelta(days=3)
NOW = DUE + timedelta(days=1, hours=2)  # past the 24 h grace; 11:00 in New York, 03:00 in Sydney
SYDNEY_MORNING = datetime(2026, 3, 6, 21, 15, tzinfo=UTC)  # 08:15 on 7 March in Sydney


def _bulk_pairs(db, program, make_member) -> None:
    make_member(program, "coordinator")
    members = [
        {"email": f"bulk{n}@example.test", "password_hash": "x", "display_name": "Sam K."}
        for n in range(2 * PAIRS)
    ]
    ids = db.session.scalars(
        insert(Member).returning(Member.id, sort_by_parameter_order=True),
        [
            {**m, "time_zone": "Australia/Sydney" if n % 2 == 0 else "America/New_York"}
            for n, m in enumerate(members)
        ],
    ).all()
    db.session.execute(
        insert(Sponsorship),
        [
            {
                "program_id": program.id,
                "sponsor_id": ids[2 * n],
                "sponsee_id": ids[2 * n + 1],
                "started_at": STARTED,
                "contact_due_at": DUE,
            }
            for n in range(PAIRS)
        ],
    )
    db.session.add(Webhook(program_id=program.id, url="http://127.0.0.1:9/h", secret="whsec_x"))
    db.session.commit()


def _count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_many_pairs_going_quiet_at_once_get_distinct_flags_announced_once(
    db, make_program, make_member, monkeypatch
):
    program = make_program()
    _bulk_pairs(db, program, make_member)
    copied = Counter()
    real_copy = accountability._copy_insert_ignore

    def spy(model, rows, returning):
        copied[model.__tablename__] += len(rows)
        return real_copy(model, rows, returning)

    monkeypatch.setattr(accountability, "_copy_insert_ignore", spy)

    counts = flag_missed_contacts(NOW)
    assert counts["level1"] == PAIRS
    assert copied == {
        "missed_contact_flag": PAIRS,
        "notification": PAIRS,  # the sponsees; the sponsors are asleep
        "outbox_message": PAIRS + PAIRS,  # the sponsees' emails, a webhook per flag
    }
    flags = db.session.execute(select(MissedContactFlag.uuid, MissedContactFlag.sponsorship_id))
    by_uuid = {str(flag_uuid): sid for flag_uuid, sid in flags}
    assert len(by_uuid) == PAIRS and "None" not in by_uuid  # distinct, none null
    assert all(uuid.UUID(u).version == 4 for u in by_uuid)
    assert len(set(by_uuid.values())) == PAIRS  # one flag per pair
    _assert_announced(db, by_uuid, told=1)

    assert flag_missed_contacts(NOW) == _NOTHING  # a second run at once opens nothing
    copied.clear()
    counts = flag_missed_contacts(SYDNEY_MORNING)
    assert counts == {**_NOTHING, "after_quiet_hours": PAIRS}
    assert copied == {"notification": PAIRS, "outbox_message": PAIRS}
    _assert_announced(db, by_uuid, told=2)
    assert flag_missed_contacts(SYDNEY_MORNING + timedelta(hours=1)) == _NOTHING
    assert _count(db, MissedContactFlag) == PAIRS
    assert _count(db, Notification) == 2 * PAIRS
    assert _count(db, OutboxMessage) == 3 * PAIRS


_NOTHING = {"resolved": 0, "level1": 0, "level2": 0, "level3": 0, "after_quiet_hours": 0}


def _assert_announced(db, by_uuid: dict, told: int) -> None:
    """Every announcement names a flag that exists: ``told`` sides of each pair in the app
    and by email, and the programme's webhook once per flag."""
    notes = db.session.execute(
        select(Notification.dedupe_key, Notification.data, Notification.member_id).where(
            Notification.kind == "contact.overdue"
        )
    ).all()
    assert Counter(data["flag"] for _, data, _ in notes) == {u: told for u in by_uuid}
    assert all(key == f"flag:{data['flag']}:1:{member}" for key, data, member in notes)
    outbox = db.session.execute(select(OutboxMessage.channel, OutboxMessage.payload)).all()
    emails = Counter(p["data"]["flag"] for channel, p in outbox if channel == "email")
    hooks = Counter(p["flag"] for channel, p in outbox if channel == "webhook")
    assert emails == {u: told for u in by_uuid} and hooks == {u: 1 for u in by_uuid}
