"""Accounts, programmes, memberships and API tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.auth import demo_login_refused, hash_password, new_token, verify_password
from api.errors import Conflict, Invalid, NotFound, Unauthorized
from api.extensions import db
from api.models import ApiToken, Member, Membership, Program, utcnow
from api.services.audit import audit

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

BAD_LOGIN = "Email or password is incorrect."


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_member_by_email(email: str) -> Member | None:
    return db.session.scalar(select(Member).where(Member.email == normalise_email(email)))


def _program_by_code(join_code: str) -> Program:
    program = db.session.scalar(select(Program).where(Program.join_code == join_code.strip()))
    if program is None:
        raise Invalid("join_code", "No programme has this join code.")
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


def sign_up(
    *, join_code: str, email: str, password: str, display_name: str, time_zone: str, roles
) -> Member:
    """Create an account in the programme with this join code, or join it with an existing one.

    An email that already has an account joins the programme when the password is that
    account's (its name and time zone stay as they are); otherwise the answer is the one a bad
    login gets, so sign-up tells an attacker no more than the login route does.
    Raises Invalid (unknown join code) or Unauthorized (BAD_LOGIN).
    """
    program = _program_by_code(join_code)
    existing = find_member_by_email(email)
    if existing is not None:
        return _join_with_password(existing, password, program, roles)
    member = Member(
        email=normalise_email(email),
        password_hash=hash_password(password),
        display_name=display_name,
        time_zone=time_zone,
    )
    membership = Membership(member=member, program=program)
    _add_roles(membership, roles)
    db.session.add_all([member, membership])
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = find_member_by_email(email)
        if existing is None:
            raise
        # The same email signed up a moment ago (a double submit, or a race).
        return _join_with_password(existing, password, program, roles)
    return member


def _join_with_password(member: Member, password: str, program: Program, roles) -> Member:
    """Sign-up with an existing account's email: join if the password is that account's."""
    _checked(member, password)
    _add_roles(membership_of(member, program), roles)
    db.session.commit()
    return member


def join_program(member: Member, *, join_code: str, roles) -> Membership:
    """Add the caller to another programme (or add newcomer/sponsor roles in one)."""
    program = _program_by_code(join_code)
    membership = membership_of(member, program)
    _add_roles(membership, roles)
    db.session.commit()
    return membership


def authenticate(email: str, password: str) -> Member:
    """The member with these credentials. Raises Unauthorized with one message for every miss."""
    return _checked(find_member_by_email(email), password)


def _checked(member: Member | None, password: str) -> Member:
    """``member`` if the password is theirs and they may log in here (no demo logins where
    demo data is refused). Raises Unauthorized(BAD_LOGIN), the same for every miss."""
    if not verify_password(member, password) or demo_login_refused(member):
        raise Unauthorized(BAD_LOGIN)
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
        raise Conflict("That join code is already in use.") from None
    return program


def update_program(program: Program, actor: Member, changes: dict) -> Program:
    """Apply a coordinator's edits to name, fellowships, tags or settings (audited)."""
    changed = sorted(changes)
    if "settings" in changes:
        program.settings = {**(program.settings or {}), **changes.pop("settings")}
    for key, value in changes.items():
        setattr(program, key, list(dict.fromkeys(value)) if isinstance(value, list) else value)
    audit(
        "program.update", program, program_id=program.id, actor=actor, details={"fields": changed}
    )
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
    )
    db.session.add(member)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("An account with this email exists.") from None
    return member


def grant_roles(member: Member, program: Program, roles) -> Membership:
    """Give a member roles in a programme (coordinator included); used by admins and CLI."""
    membership = membership_of(member, program)
    _add_roles(membership, roles)
    membership.is_coordinator = membership.is_coordinator or "coordinator" in roles
    db.session.commit()
    return membership
