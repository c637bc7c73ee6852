"""Verified email: the signed link a new account gets, and what counts as verification.

Until an address is verified nothing but verification mail goes to it (DESIGN §6). What
verifies: opening the sign-up link, setting a password from an emailed link (it proved the
inbox), and accounts an operator made (CLI admins, the demo seed).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from api.errors import Invalid
from api.extensions import db
from api.i18n import N_
from api.models import Member, utcnow
from api.services.audit import audit

LINK_MAX_AGE_S = 7 * 24 * 3600
BAD_LINK = N_(
    "This link is not valid any more (it works once, for a week). Sign up again with the same "
    "email for a new one, or log in if you already confirmed it."
)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="verify-email")


def verification_token(member: Member) -> str:
    """A signed token that verifies ``member``'s email once, for a week.

    It carries the password fingerprint, so signing up again with the same address (which sets
    a new password) makes older links useless: only the latest sign-up can be confirmed.
    """
    return _serializer().dumps({"m": str(member.uuid), "p": member.password_fingerprint})


def verification_link(member: Member) -> str:
    base = str(current_app.config["BASE_URL"]).rstrip("/")
    return f"{base}/verify/{verification_token(member)}"


def mark_verified(member: Member, now: datetime | None = None) -> None:
    """Record that ``member`` controls their address (no commit: the caller's transaction)."""
    if member.email_verified_at is None:
        member.email_verified_at = now or utcnow()


def verify_email(token: str) -> Member:
    """Verify the email of the link's member and return them. Raises Invalid naming ``token``
    for a forged, expired, used or superseded link (nothing changes)."""
    try:
        data = _serializer().loads(token, max_age=LINK_MAX_AGE_S)
        member_uuid = uuid.UUID(data["m"])
    except (SignatureExpired, BadSignature, KeyError, TypeError, ValueError):
        raise Invalid("token", BAD_LINK) from None
    member = db.session.scalar(select(Member).where(Member.uuid == member_uuid))
    if (
        member is None
        or member.email_verified_at is not None
        or member.closed_at is not None
        or member.password_fingerprint != data.get("p")
    ):
        raise Invalid("token", BAD_LINK)
    mark_verified(member)
    audit("account.email_verified", member, program_id=None, actor=member)
    db.session.commit()
    return member
