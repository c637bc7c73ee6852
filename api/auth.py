"""Who is calling: argon2 passwords, hashed bearer tokens, sessions, and role checks."""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from blinker import ANY
from flask import current_app, has_request_context, request
from flask_login import current_user, user_logged_out
from sqlalchemy import select

from api.errors import NotFound, Unauthorized
from api.extensions import db, login_manager
from api.models import ApiToken, Member, Membership, Program, utcnow

TOKEN_PREFIX = "smt_"
DEMO_EMAIL_DOMAIN = "@demo.example"  # the seeded demo logins, which share one known password
_ENV_KEY = "sponsor_match.member"
_TOKEN_KEY = "sponsor_match.token_id"
_ARGON2_PREFIX = "$argon2"


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["ARGON2_TIME_COST"], memory_cost=cfg["ARGON2_MEMORY_COST"], parallelism=1
    )


# Each argon2 hash takes ~64 MiB and a core for a moment. A web process runs 32 threads; letting
# them all hash at once (a meeting logging in together) only thrashes memory and the cores, so
# hashes queue for as many slots as there are cores and every login still finishes sooner.
_HASHING = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))


def hash_password(password: str) -> str:
    with _HASHING:
        return _hasher().hash(password)


def verify_password(member: Member | None, password: str) -> bool:
    """True if ``password`` is the member's.

    Costs one argon2 verification whatever the case: an unknown email, or an account with no
    usable password (imported by CSV, or a damaged hash), is checked against a dummy hash, so
    timing reveals neither.
    """
    return password_matches(member.password_hash if member is not None else "", password)


def password_matches(stored: str, password: str) -> bool:
    """``verify_password`` on a stored hash ("" for none): one argon2 verification either way."""
    hasher = _hasher()
    with _HASHING:
        if stored.startswith(_ARGON2_PREFIX):
            try:
                return hasher.verify(stored, password)
            except VerifyMismatchError:
                return False
            except (InvalidHashError, VerificationError):
                pass  # the hash could not be decoded, so nothing was hashed: spend it below
        try:
            hasher.verify(_dummy_hash(hasher), password + "x")
        except VerificationError:
            pass
        return False


def demo_login_refused(member: Member | None) -> bool:
    """True for a demo account when this installation does not allow demo data (production).

    A database seeded in development keeps its demo logins; production must not honour them.
    """
    return (
        member is not None
        and not current_app.config["ALLOW_DEMO"]
        and member.email.endswith(DEMO_EMAIL_DOMAIN)
    )


_DUMMY: dict[tuple[int, int], str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash of a random password at these costs (made once; the caller holds a slot)."""
    key = (hasher.time_cost, hasher.memory_cost)
    if key not in _DUMMY:
        _DUMMY[key] = hasher.hash(secrets.token_urlsafe(16))
    return _DUMMY[key]


def new_token() -> tuple[str, str]:
    """A fresh bearer token and the SHA-256 hex digest we store for it."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def member_from_bearer() -> Member | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    row = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == token_digest(token.strip()))
    )
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    if row.member.closed_at is not None or demo_login_refused(row.member):
        return None
    request.environ[_TOKEN_KEY] = row.id
    return row.member


@login_manager.user_loader
def _load_user(session_id: str) -> Member | None:
    """The member of a session cookie, if the session was made after their last logout (the
    session version) with the password they still have (the fingerprint)."""
    import uuid

    member_uuid, _, rest = session_id.partition(".")
    version, _, fingerprint = rest.partition(".")
    try:
        key = uuid.UUID(member_uuid)
        version_number = int(version)
    except ValueError:
        return None
    member = db.session.scalar(select(Member).where(Member.uuid == key))
    if (
        member is None
        or member.closed_at is not None
        or version_number != (member.session_version or 0)
        or not secrets.compare_digest(fingerprint, member.password_fingerprint)
    ):
        return None
    return None if demo_login_refused(member) else member


@user_logged_out.connect_via(ANY)
def _end_server_side_session(sender, user=None, **extra) -> None:
    """Logging out ends the session on the server too: a copy of the cookie saved before
    stops working, because the member's session version moves on."""
    if isinstance(user, Member):
        from api.services.sessions import end_sessions

        end_sessions(user, revoke_tokens=False)


def current_member() -> Member:
    """The authenticated member of this API request (bearer token). Raises Unauthorized."""
    # Cached per request (environ), not on ``g``, which lives as long as the app context.
    member = request.environ.get(_ENV_KEY)
    if member is None:
        member = member_from_bearer()
        if member is None:
            raise Unauthorized("Send a valid token as 'Authorization: Bearer <token>'.")
        request.environ[_ENV_KEY] = member
    return member


def current_token_id() -> int | None:
    """The row id of the bearer token this API request came with (after current_member())."""
    return request.environ.get(_TOKEN_KEY)


def auth_required(view: Callable) -> Callable:
    """API views: require a bearer token."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        current_member()
        return view(*args, **kwargs)

    wrapper._auth_required = True  # read by the OpenAPI security marker
    return wrapper


def request_member() -> Member | None:
    """Who this request comes from (bearer token, else session), or None. Never raises: for
    views that word one answer differently for its owner and for others."""
    if not has_request_context():
        return None
    member = request.environ.get(_ENV_KEY) or member_from_bearer()
    if member is None and current_user.is_authenticated:
        member = current_user
    return member


def web_member() -> Member | None:
    return current_user if current_user.is_authenticated else None


@dataclass(frozen=True)
class Access:
    """What the caller may do in one programme."""

    program: Program
    member: Member
    roles: frozenset[str]

    def has(self, role: str) -> bool:
        return role in self.roles


def program_access(member: Member, program_uuid, role: str | None = None) -> Access:
    """The caller's roles in a programme, requiring ``role`` when given.

    Admins act as coordinators everywhere. Raises NotFound when the caller has no place (or not
    the role) there: a foreign programme is invisible, never "forbidden".
    """
    program = db.session.scalar(select(Program).where(Program.uuid == program_uuid))
    if program is None:
        raise NotFound("No such programme.")
    membership = db.session.scalar(
        select(Membership).where(
            Membership.member_id == member.id, Membership.program_id == program.id
        )
    )
    roles = set(membership.roles) if membership else set()
    if member.is_admin:
        roles.add("coordinator")
    if not roles or (role and role not in roles):
        raise NotFound("No such programme.")
    return Access(program=program, member=member, roles=frozenset(roles))
