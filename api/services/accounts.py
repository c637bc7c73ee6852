"""Accounts, programmes, memberships and API tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from api.auth import (
    demo_login_refused,
    hash_password,
    new_token,
    password_matches,
)
from api.errors import Conflict, Invalid, NotFound, Unauthorized
from api.extensions import db
from api.i18n import N_, visitor_locale
from api.models import ApiToken, Member, Membership, OutboxMessage, Program, utcnow
from api.program_settings import merged
from api.services.audit import audit
from api.services.notify import email_only

DEFAULT_TAGS = [
    "veteran",
    "parent",
    "lgbtq",
    "faith-based",
    "secular",
    "professional",
    "student",
    "retired",
    "first-responder",
    "healthcare-worker",
]

BAD_LOGIN = N_("Email or password is incorrect.")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_member_by_email(email: str) -> Member | None:
    return db.session.scalar(select(Member).where(Member.email == normalise_email(email)))


def find_program_by_code(join_code: str) -> Program | None:
    """The programme with this join code, matched case-insensitively (people type codes from a
    poster or a phone call); an exact match wins if two codes differ only in case."""
    code = join_code.strip()
    return db.session.scalar(
        select(Program)
        .where(func.lower(Program.join_code) == code.lower())
        .order_by((Program.join_code == code).desc(), Program.id)
        .limit(1)
    )


def _program_by_code(join_code: str) -> Program:
    program = find_program_by_code(join_code)
    if program is None:
        raise Invalid("join_code", N_("No programme has this join code."))
    return program


def membership_of(member: Member, program: Program) -> Membership:
    """The member's membership in the programme, created (without roles) if missing."""
    membership = db.session.scalar(
        select(Membership).where(
            Membership.member_id == member.id, Membership.program_id == program.id
        )
    )
    if membership is None:
        membership = Membership(member_id=member.id, program_id=program.id)
        db.session.add(membership)
    return membership


def _add_roles(membership: Membership, roles: list[str]) -> None:
    membership.is_newcomer = membership.is_newcomer or "newcomer" in roles
    membership.is_sponsor = membership.is_sponsor or "sponsor" in roles


CHECK_EMAIL = N_("Check your email to continue: we sent a message to this address.")
CONFIRM_FIRST = N_("Confirm your email first: open the link we sent you when you signed up.")


@dataclass(frozen=True)
class SignUpReceipt:
    """What a sign-up answers, the same whether or not the address had an account: the API
    and the join page both say ``message`` (and may repeat the address the person typed)."""

    message: str
    email: str


def sign_up(
    *, join_code: str, email: str, password: str, display_name: str, time_zone: str, roles
) -> SignUpReceipt:
    """Start an account in the programme with this join code; one email goes out either way.

    A new address gets an account that cannot log in yet and a link to confirm the address
    (api.services.verification). An address with a confirmed account gets a note saying so
    ("log in, or set a new password"), and nothing about it changes. An address whose account
    was never confirmed starts again: the new password, name and roles replace the old ones
    and only the newest link works, so whoever reads that inbox decides.
    The answer, and the work done (one argon2 hash, one queued email), are the same in every
    case, so sign-up reveals nothing about who has an account. Raises Invalid (unknown join
    code or a name that would impersonate someone in the programme).
    """
    from api.services.names import check_display_name

    program = _program_by_code(join_code)
    address = normalise_email(email)
    receipt = SignUpReceipt(message=CHECK_EMAIL, email=address)
    password_hash = hash_password(password)
    existing = find_member_by_email(address)
    if existing is not None and existing.email_verified_at is not None:
        _tell_account_exists(existing)
        db.session.commit()
        return receipt
    check_display_name(display_name, program, exclude=existing)
    if existing is None:
        member = Member(email=address, password_hash=password_hash, display_name=display_name)
        db.session.add(member)
    else:  # never confirmed (or imported by a coordinator): the newest attempt decides
        member = existing
        member.password_hash = password_hash
        member.display_name = display_name
    member.time_zone = time_zone
    member.locale = visitor_locale() or member.locale  # the language sign-up was read in
    try:
        db.session.flush()
    except IntegrityError:
        # The same address signed up a moment ago (a double submit, or a race): that attempt
        # sent its link; this one answers the same and sends nothing more.
        db.session.rollback()
        return receipt
    _add_roles(membership_of(member, program), roles)
    _send_verification(member, program)
    db.session.commit()
    return receipt


# A confirmation link asked for again goes at most once in this many seconds (the window's
# number is in the key, so asking twice within it queues one email).
SEND_AGAIN_AFTER_S = 300


def send_verification_again(email: str) -> None:
    """Mail ``email`` again what its sign-up sent; the caller learns nothing about the address.

    An account not confirmed yet gets its confirmation link again (the same link: it changes
    only with a new sign-up), once per SEND_AGAIN_AFTER_S; an address with a confirmed account
    gets sign-up's "you already have an account" note, at most once an hour; any other address
    gets nothing. notify's rules hold as for every email (a closed account gets nothing, and
    no more than MAIL_PER_HOUR emails go to one person in an hour).
    """
    member = find_member_by_email(email)
    if member is None:
        return
    if member.email_verified_at is not None:
        _tell_account_exists(member)
    else:
        window = int(utcnow().timestamp()) // SEND_AGAIN_AFTER_S
        program = member.memberships[0].program if member.memberships else None
        _send_verification(member, program, again=window)
    db.session.commit()


def _send_verification(member: Member, program: Program | None, again: int | None = None) -> None:
    from api.services.verification import verification_link

    key = f"verify:{member.uuid}:{member.password_fingerprint}"
    email_only(
        member,
        "account.verify",
        key=key if again is None else f"{key}:again:{again}",
        title=_("Confirm your email address"),
        body=_(
            "Open this link to confirm your email address and finish creating your account "
            "(it works once, for a week):\n\n%(link)s\n\n"
            "If you did not ask for this, ignore this message: nothing happens without the link.",
            link=verification_link(member),
        ),
        program=program,
    )


ACCOUNT_EXISTS = "account.exists"  # the note to an address that already has an account


def _tell_account_exists(member: Member) -> None:
    """Mail the owner of an address someone tried to sign up with, at most once an hour:
    not again within an hour of the last note (a window, so two tries a second apart
    across a full hour still send one), and the hour's number in the key keeps two
    requests at the same moment to one note."""
    now = utcnow()
    recent = select(OutboxMessage.id).where(
        OutboxMessage.member_id == member.id,
        OutboxMessage.event == ACCOUNT_EXISTS,
        OutboxMessage.created_at > now - timedelta(hours=1),
    )
    if db.session.scalar(recent.limit(1)) is not None:
        return
    base = str(current_app.config["BASE_URL"]).rstrip("/")
    hour = int(now.timestamp()) // 3600
    email_only(
        member,
        ACCOUNT_EXISTS,
        key=f"account-exists:{member.uuid}:{hour}",
        title=_("You already have an account"),
        body=_(
            "Someone (we hope you) tried to create an account with this email address, but "
            "you already have one. Log in here:\n\n%(login)s\n\n"
            "Forgot your password? Set a new one here:\n\n%(reset)s\n\n"
            "If it was not you, ignore this message: nothing has changed.",
            login=f"{base}/login",
            reset=f"{base}/forgot-password",
        ),
        program=None,
    )


def join_program(member: Member, *, join_code: str, roles) -> Membership:
    """Add the caller to another programme (or add newcomer/sponsor roles in one)."""
    program = _program_by_code(join_code)
    membership = membership_of(member, program)
    _add_roles(membership, roles)
    db.session.commit()
    return membership


def authenticate(email: str, password: str) -> Member:
    """The member with these credentials. Raises Unauthorized with one message for every miss.

    Logging in starts a request, so all it has done is read: the database connection goes back
    to the pool while argon2 works (~0.1 s, longer when a room logs in at once), and comes out
    again for the member. Otherwise forty people logging in together hold forty connections
    idle and everyone else waits for one.
    """
    member = find_member_by_email(email)
    member_id = member.id if member is not None else None
    stored = member.password_hash if member is not None else ""
    if not (db.session.new or db.session.dirty or db.session.deleted):
        db.session.rollback()  # a read only: nothing to lose, and the connection is free
    if not password_matches(stored, password):
        raise Unauthorized(BAD_LOGIN)
    member = db.session.get(Member, member_id)
    if demo_login_refused(member):
        raise Unauthorized(BAD_LOGIN)
    if member.email_verified_at is None:
        # Only someone who knows this password (the person who signed up) learns this.
        raise Unauthorized(CONFIRM_FIRST)
    return member


def issue_token(email: str, password: str) -> tuple[ApiToken, str]:
    """Check credentials and store a new token's hash. Returns the row and the plain token."""
    member = authenticate(email, password)
    token, digest = new_token()
    ttl = timedelta(hours=current_app.config["TOKEN_TTL_HOURS"])
    row = ApiToken(member_id=member.id, token_hash=digest, expires_at=utcnow() + ttl)
    db.session.add(row)
    db.session.commit()
    return row, token


def revoke_token(member: Member, token_uuid) -> None:
    """Revoke one of the caller's tokens. Raises NotFound for anyone else's."""
    row = db.session.scalar(
        select(ApiToken).where(ApiToken.uuid == token_uuid, ApiToken.member_id == member.id)
    )
    if row is None:
        raise NotFound("No such token.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.commit()


def create_program(
    *, name: str, fellowships: list[str], tags=None, join_code=None, settings=None
) -> Program:
    """Create a programme. Raises Conflict when the join code is taken."""
    program = Program(
        name=name,
        fellowships=list(dict.fromkeys(fellowships)),
        tags=list(tags) if tags is not None else list(DEFAULT_TAGS),
        join_code=join_code or secrets.token_urlsafe(9),
        settings=dict(settings or {}),
    )
    db.session.add(program)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(N_("That join code is already in use.")) from None
    return program


# A join code people can read off a poster and type: no 0/O, 1/I/L, nothing case-dependent.
JOIN_CODE_LETTERS = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def readable_join_code() -> str:
    """A random code like "K7QM-3XTR-9BWE" (12 of 31 letters: about 59 bits)."""
    groups = ("".join(secrets.choice(JOIN_CODE_LETTERS) for _ in range(4)) for _ in range(3))
    return "-".join(groups)


def renew_join_code(program: Program, actor: Member) -> Program:
    """Give the programme a new random join code (a poster or link went too far). The old code
    and every poster or link with it stop working at once; members stay members. Audited
    without either code."""
    code = readable_join_code()
    while find_program_by_code(code) is not None:  # pragma: no cover - 59 random bits
        code = readable_join_code()
    program.join_code = code
    audit("program.join_code", program, program_id=program.id, actor=actor)
    db.session.commit()
    return program


def update_program(program: Program, actor: Member, changes: dict) -> Program:
    """Apply a coordinator's edits to name, fellowships, tags or settings (audited)."""
    changed = sorted(changes)
    details: dict = {"fields": changed}
    if "settings" in changes:
        new = changes.pop("settings")
        before = merged(program.settings)
        details["settings"] = {k: {"from": before.get(k), "to": v} for k, v in sorted(new.items())}
        program.settings = {**(program.settings or {}), **new}
    for key, value in changes.items():
        setattr(program, key, list(dict.fromkeys(value)) if isinstance(value, list) else value)
    audit("program.update", program, program_id=program.id, actor=actor, details=details)
    db.session.commit()
    return program


def create_member(
    *, email: str, password: str, display_name: str, time_zone: str = "UTC", is_admin=False
) -> Member:
    """Create an account outside any programme (admins, CLI). Raises Conflict on a taken email."""
    member = Member(
        email=normalise_email(email),
        password_hash=hash_password(password),
        display_name=display_name,
        time_zone=time_zone,
        is_admin=is_admin,
        email_verified_at=utcnow(),  # made by an operator, who vouches for the address
    )
    db.session.add(member)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(N_("An account with this email exists.")) from None
    return member


def grant_roles(member: Member, program: Program, roles) -> Membership:
    """Give a member roles in a programme (coordinator included); used by admins and CLI."""
    membership = membership_of(member, program)
    _add_roles(membership, roles)
    membership.is_coordinator = membership.is_coordinator or "coordinator" in roles
    db.session.commit()
    return membership
