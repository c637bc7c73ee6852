"""Contact logs: who may log, confirm and read them; the pair's cadence; one-click email links."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime, timedelta
from types import SimpleNamespace

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import and_, or_, select, update

from api.errors import Conflict, Invalid, NotFound
from api.extensions import db
from api.i18n import N_
from api.models import Contact, Member, Membership, MissedContactFlag, Sponsorship, utcnow
from api.services.accountability import insert_ignore
from api.services.cadence import next_contact_due
from api.services.escalations import after_resolution
from api.services.notes import decrypt_note, encrypt_note

CLOCK_SKEW = timedelta(minutes=5)
# Both sides saying "we talked" within this window is one conversation, confirmed by both.
CONFIRM_WINDOW = timedelta(hours=24)
# The same contact noted again by the same member this soon is a double tap, not a second talk.
REPEAT_WINDOW = timedelta(minutes=2)
LINK_MAX_AGE_S = 7 * 24 * 3600
_LINK_SALT = "contact-link"

ENDED = "This sponsorship has ended; it can no longer be changed."


def sponsorship_for(member: Member, sponsorship_uuid, *, coordinators: bool = False):
    """A sponsorship the caller is a side of (or coordinates, if allowed). Raises NotFound."""
    pair = db.session.scalar(select(Sponsorship).where(Sponsorship.uuid == sponsorship_uuid))
    if pair is not None and member.id in (pair.sponsor_id, pair.sponsee_id):
        return pair
    if pair is not None and coordinators and _coordinates(member, pair.program_id):
        return pair
    raise NotFound("No such sponsorship.")


def _coordinates(member: Member, program_id: int) -> bool:
    if member.is_admin:
        return True
    return bool(
        db.session.scalar(
            select(Membership.id).where(
                Membership.member_id == member.id,
                Membership.program_id == program_id,
                Membership.is_coordinator.is_(True),
            )
        )
    )


def log_contact(member: Member, pair: Sponsorship, **kwargs) -> Contact | None:
    """``note_contact`` without saying whether the contact was already noted."""
    return note_contact(member, pair, **kwargs)[0]


def note_contact(
    member: Member,
    pair: Sponsorship,
    *,
    kind: str,
    occurred_at: datetime,
    duration_minutes: int | None = None,
    note: str | None = None,
    source: str = "app",
    source_key: str | None = None,
    now: datetime | None = None,
) -> tuple[Contact | None, bool]:
    """Record a contact and move the pair's schedule on, in one transaction; returns the
    contact and whether it had already been noted.

    Sets ``last_contact_at`` to the latest contact, ``contact_due_at`` from the cadence, and
    resolves an open missed-contact flag once the pair is no longer overdue. When the other
    side logged a contact within CONFIRM_WINDOW of this one that nobody confirmed yet, this log
    confirms it instead of adding a second record of the same conversation (the other side's
    contact is returned); a log with a private note keeps its own row, since the note is its
    author's. The same contact (kind, moment, minutes and note) noted again by the same member
    within REPEAT_WINDOW, or a log just after this member confirmed the other side's, is a
    double tap: nothing is written and the earlier contact comes back as already noted. The
    contact is None when ``source_key`` was already used (a second click on the same email
    link). Raises Conflict (pair ended) or Invalid (occurred_at out of range).
    """
    now = now or utcnow()
    if pair.status != "active":
        raise Conflict(N_("This sponsorship has ended; contacts can no longer be logged."))
    if occurred_at > now + CLOCK_SKEW:
        raise Invalid("occurred_at", N_("A contact cannot be in the future."))
    if occurred_at < pair.started_at - CLOCK_SKEW:
        raise Invalid("occurred_at", N_("A contact cannot be before the sponsorship started."))
    same = {"kind": kind, "occurred_at": occurred_at, "duration_minutes": duration_minutes}
    earlier = _noted_just_now(member, pair, note=note, now=now, **same)
    if earlier is not None:
        return earlier, True
    if not note:
        confirmed = _confirm_other_side(member, pair, occurred_at, now)
        if confirmed is not None:
            return confirmed, False
    tap_key = None if source_key else _tap_key(member, pair, note=note, now=now, **same)
    row = {
        "uuid": uuid.uuid4(),
        "sponsorship_id": pair.id,
        "logged_by_id": member.id,
        "kind": kind,
        "occurred_at": occurred_at,
        "duration_minutes": duration_minutes,
        "note_ciphertext": encrypt_note(note) if note else None,
        "source": source,
        "source_key": source_key or tap_key,
        "created_at": now,
    }
    if not insert_ignore(Contact, [row], Contact.id):
        db.session.rollback()
        if tap_key is None:
            return None, False
        # The twin tap arrived at the same instant and was written first.
        return db.session.scalar(select(Contact).where(Contact.source_key == tap_key)), True
    due = next_contact_due(pair, pair.program, occurred_at)
    # Conditional update: concurrent logs can only move the schedule forward.
    db.session.execute(
        update(Sponsorship)
        .where(
            Sponsorship.id == pair.id,
            or_(Sponsorship.last_contact_at.is_(None), Sponsorship.last_contact_at < occurred_at),
        )
        .values(last_contact_at=occurred_at, contact_due_at=due)
    )
    resolve_flag_if_current(pair.id, now)
    db.session.commit()
    return db.session.scalar(select(Contact).where(Contact.uuid == row["uuid"])), False


def _noted_just_now(
    member: Member,
    pair: Sponsorship,
    *,
    kind: str,
    occurred_at: datetime,
    duration_minutes: int | None,
    note: str | None,
    now: datetime,
) -> Contact | None:
    """The contact ``member`` logged (the same one) or confirmed within REPEAT_WINDOW, if any."""
    since = now - REPEAT_WINDOW
    near = Contact.occurred_at.between(occurred_at - REPEAT_WINDOW, occurred_at + REPEAT_WINDOW)
    own = db.session.scalars(
        select(Contact)
        .where(
            Contact.sponsorship_id == pair.id,
            Contact.logged_by_id == member.id,
            Contact.kind == kind,
            Contact.created_at >= since,
            near,
        )
        .order_by(Contact.created_at.desc(), Contact.id.desc())
    )
    for contact in own:
        kept = decrypt_note(contact.note_ciphertext) if contact.note_ciphertext else None
        if contact.duration_minutes == duration_minutes and (kept or None) == (note or None):
            return contact
    if note:
        return None
    return db.session.scalar(
        select(Contact)
        .where(
            Contact.sponsorship_id == pair.id,
            Contact.confirmed_by_id == member.id,
            Contact.confirmed_at >= since,
            Contact.occurred_at.between(occurred_at - CONFIRM_WINDOW, occurred_at + CONFIRM_WINDOW),
        )
        .order_by(Contact.confirmed_at.desc(), Contact.id.desc())
        .limit(1)
    )


def _tap_key(member: Member, pair: Sponsorship, *, note: str | None, now: datetime, **same) -> str:
    """A unique key two taps sent at the same instant share (the same contact, the same minute
    and the same two-minute stretch of the clock), so the database keeps only one of them.
    Keyed with the secret key: the stored key tells nothing about the note."""
    moment = same["occurred_at"].replace(second=0, microsecond=0).isoformat()
    stretch = int(now.timestamp() // REPEAT_WINDOW.total_seconds())
    parts = [pair.uuid, member.uuid, same["kind"], same["duration_minutes"], moment, stretch, note]
    secret = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(secret, repr(parts).encode(), hashlib.sha256).hexdigest()
    return "tap:" + digest[:60]


def _confirm_other_side(
    member: Member, pair: Sponsorship, occurred_at: datetime, now: datetime
) -> Contact | None:
    """Confirm the other side's unconfirmed contact near ``occurred_at``, if there is one."""
    other = db.session.scalar(
        select(Contact)
        .where(
            Contact.sponsorship_id == pair.id,
            Contact.logged_by_id != member.id,
            Contact.confirmed_at.is_(None),
            Contact.occurred_at.between(occurred_at - CONFIRM_WINDOW, occurred_at + CONFIRM_WINDOW),
        )
        .order_by(Contact.occurred_at.desc(), Contact.id.desc())
        .limit(1)
    )
    if other is None:
        return None
    done = db.session.execute(
        update(Contact)
        .where(
            Contact.id == other.id,
            Contact.confirmed_at.is_(None),
            Contact.sponsorship_id.in_(
                select(Sponsorship.id).where(Sponsorship.status == "active")
            ),
        )
        .values(confirmed_at=now, confirmed_by_id=member.id)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # confirmed a moment ago by a racing log: log this one on its own
        return None
    db.session.commit()
    db.session.refresh(other)
    return other


def recorded_since(member: Member, pair: Sponsorship, since: datetime) -> Contact | None:
    """The newest contact of the pair ``member`` logged or confirmed since ``since`` (what an
    email link sent at ``since`` shows once a talk was noted, instead of asking again)."""
    since = since - CLOCK_SKEW
    return db.session.scalar(
        select(Contact)
        .where(
            Contact.sponsorship_id == pair.id,
            or_(
                and_(Contact.logged_by_id == member.id, Contact.created_at >= since),
                and_(Contact.confirmed_by_id == member.id, Contact.confirmed_at >= since),
            ),
        )
        .order_by(Contact.created_at.desc(), Contact.id.desc())
        .limit(1)
    )


def waiting_for_confirmation(member: Member, pair: Sponsorship, now: datetime) -> Contact | None:
    """The other side's recent contact that ``member`` has not confirmed yet, if any."""
    return db.session.scalar(
        select(Contact)
        .where(
            Contact.sponsorship_id == pair.id,
            Contact.logged_by_id != member.id,
            Contact.confirmed_at.is_(None),
            Contact.occurred_at >= now - CONFIRM_WINDOW,
        )
        .order_by(Contact.occurred_at.desc(), Contact.id.desc())
        .limit(1)
    )


def resolve_flag_if_current(sponsorship_id: int, now: datetime) -> None:
    """Close the pair's open flag (resolution "contact") if its next contact is not yet due;
    what follows a resolution (escalations.after_resolution) happens in the same transaction."""
    current = select(Sponsorship.id).where(
        Sponsorship.id == sponsorship_id, Sponsorship.contact_due_at > now
    )
    closed = db.session.scalars(
        update(MissedContactFlag)
        .where(
            MissedContactFlag.sponsorship_id == sponsorship_id,
            MissedContactFlag.resolved_at.is_(None),
            MissedContactFlag.sponsorship_id.in_(current),
        )
        .values(resolved_at=now, resolution="contact")
        .returning(MissedContactFlag.id)
        .execution_options(synchronize_session=False)
    ).all()
    after_resolution(list(closed), now)


def list_contacts(pair: Sponsorship, limit: int = 200) -> list[Contact]:
    return list(
        db.session.scalars(
            select(Contact)
            .where(Contact.sponsorship_id == pair.id)
            .order_by(Contact.occurred_at.desc(), Contact.id.desc())
            .limit(limit)
        )
    )


def confirm_contact(member: Member, contact_uuid) -> Contact:
    """The other side confirms a contact (idempotent). Raises NotFound or Conflict."""
    contact = db.session.scalar(select(Contact).where(Contact.uuid == contact_uuid))
    if contact is None:
        raise NotFound("No such contact.")
    pair = contact.sponsorship
    if member.id not in (pair.sponsor_id, pair.sponsee_id):
        raise NotFound("No such contact.")
    if contact.logged_by_id == member.id:
        raise Conflict(N_("The other side of the sponsorship confirms a contact."))
    if pair.status != "active":
        raise Conflict(ENDED)
    db.session.execute(
        update(Contact)
        .where(
            Contact.id == contact.id,
            Contact.confirmed_at.is_(None),
            # Checked in the same statement: a pair ended a moment ago is not changed either.
            Contact.sponsorship_id.in_(
                select(Sponsorship.id).where(Sponsorship.status == "active")
            ),
        )
        .values(confirmed_at=utcnow(), confirmed_by_id=member.id)
    )
    db.session.commit()
    db.session.refresh(contact)
    return contact


def set_cadence(pair: Sponsorship, cadence_days: int | None) -> Sponsorship:
    """Either side sets the pair's own cadence (None: back to the programme's). Raises
    Conflict when the sponsorship has ended (an ended pair is a record, not a plan)."""
    if pair.status != "active":
        raise Conflict(ENDED)
    planned = SimpleNamespace(cadence_days=cadence_days, started_at=pair.started_at)
    due = next_contact_due(planned, pair.program, pair.last_contact_at or pair.started_at)
    done = db.session.execute(
        update(Sponsorship)
        .where(Sponsorship.id == pair.id, Sponsorship.status == "active")
        .values(cadence_days=cadence_days, contact_due_at=due)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        db.session.rollback()
        raise Conflict(ENDED)
    db.session.commit()
    db.session.refresh(pair)
    return pair


# --- one-click "we talked today" links ------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_LINK_SALT)


def contact_link_token(pair_uuid, member_uuid, message_key: str) -> str:
    """A signed token for one email: logs at most one contact, expires after a week."""
    return _serializer().dumps({"s": str(pair_uuid), "m": str(member_uuid), "k": message_key})


def read_contact_link(token: str) -> tuple[Member, Sponsorship, str, datetime]:
    """The member, pair, message key and signing time of a link. Raises NotFound (bad) or
    Conflict (expired)."""
    try:
        data, signed = _serializer().loads(token, max_age=LINK_MAX_AGE_S, return_timestamp=True)
    except SignatureExpired:
        raise Conflict(N_("This link has expired. Log the contact in the app instead.")) from None
    except (BadSignature, TypeError, ValueError):
        raise NotFound("This link is not valid.") from None
    try:
        member = db.session.scalar(select(Member).where(Member.uuid == uuid.UUID(data["m"])))
        pair = sponsorship_for(member, uuid.UUID(data["s"])) if member else None
    except (KeyError, ValueError, TypeError, NotFound):
        pair = None
    if pair is None:
        raise NotFound("This link is not valid.")
    return member, pair, str(data.get("k", "")), signed


def talked_from_link(
    member: Member, pair: Sponsorship, key: str, sent_at: datetime, now: datetime | None = None
) -> tuple[Contact, bool]:
    """ "We talked today" from the email link of message ``key`` sent at ``sent_at``.

    Returns the contact and whether this call recorded it. Once the member logged or confirmed
    a talk since the email was sent (by this link, the page or the other side's log), nothing
    more is recorded: a second click, or a click after logging in the app, shows that talk.
    Raises Conflict when the pair has ended.
    """
    now = now or utcnow()
    earlier = recorded_since(member, pair, sent_at)
    if earlier is not None:
        return earlier, False
    # One email, one member, one pair: a key reused elsewhere can never stand for this one.
    once = f"{pair.uuid}:{member.uuid}:{key}"
    source_key = "link:" + hashlib.sha256(once.encode()).hexdigest()[:60]
    contact = log_contact(
        member, pair, kind="call", occurred_at=now, source="email", source_key=source_key, now=now
    )
    if contact is None:  # the same link, clicked twice at once
        contact = db.session.scalar(select(Contact).where(Contact.source_key == source_key))
        return contact, False
    return contact, True


def log_contact_from_link(token: str, now: datetime | None = None) -> tuple[Sponsorship, bool]:
    """Log "we talked today" from an email link; a second click logs nothing more."""
    member, pair, key, sent_at = read_contact_link(token)
    _, done = talked_from_link(member, pair, key, sent_at, now)
    return pair, done
