"""Setting a password by an emailed link: "forgot password", and the first login of members a
coordinator imported by CSV (who are created without a usable password).

The link is signed, expires after an hour and works once: it carries a fingerprint of the
password hash it was made for, and setting a password changes that hash. Asking for a link
answers the same whether or not the email has an account, so it reveals nothing.
"""

from __future__ import annotations

import uuid

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update

from api.auth import demo_login_refused, hash_password
from api.errors import Invalid
from api.extensions import db
from api.i18n import N_, visitor_locale
from api.models import ApiToken, Member, utcnow
from api.services.accounts import find_member_by_email
from api.services.audit import audit
from api.services.notify import email_only
from api.services.verification import mark_verified

LINK_MAX_AGE_S = 3600
RESEND_AFTER_S = 300  # one email per account per five minutes, however often someone asks
SENT = N_("If an account uses this email, a link to set its password is on its way.")
BAD_LINK = N_("This link is not valid any more (links work once, for an hour). Ask for a new one.")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-link")


def password_link_token(member: Member) -> str:
    """A signed token that lets its holder set ``member``'s password once, within the hour."""
    return _serializer().dumps({"m": str(member.uuid), "p": member.password_fingerprint})


def request_password_link(email: str) -> str:
    """Queue an email with a password link if ``email`` has an account; answer SENT either way."""
    member = find_member_by_email(email)
    if member is None or demo_login_refused(member):
        return SENT
    now = utcnow()
    link = f"{str(current_app.config['BASE_URL']).rstrip('/')}/reset-password/"
    link += password_link_token(member)
    first = member.memberships[0].program if member.memberships else None
    with force_locale(member.locale or visitor_locale() or "en"):  # the reader's language
        title = _("Set your password")
        body = _(
            "Someone (we hope you) asked to set a password for your account. Open this link "
            "within an hour to choose one:\n\n%(link)s\n\n"
            "If it was not you, ignore this message: your password stays as it is.",
            link=link,
        )
    email_only(
        member,
        "account.password_link",
        key=f"password-link:{member.uuid}:{int(now.timestamp()) // RESEND_AFTER_S}",
        title=title,
        body=body,
        program=first,
    )
    db.session.commit()
    return SENT


def member_for_link(token: str) -> Member:
    """The member a valid, unused, unexpired link is for. Raises Invalid naming ``token``."""
    try:
        data = _serializer().loads(token, max_age=LINK_MAX_AGE_S)
        member_uuid = uuid.UUID(data["m"])
    except (SignatureExpired, BadSignature, KeyError, TypeError, ValueError):
        raise Invalid("token", BAD_LINK) from None
    member = db.session.scalar(select(Member).where(Member.uuid == member_uuid))
    if (
        member is None
        or member.password_fingerprint != data.get("p")  # used: the password changed
        or demo_login_refused(member)
    ):
        raise Invalid("token", BAD_LINK)
    return member


def set_password_with_link(token: str, password: str) -> Member:
    """Set the password of the link's member, verify their email, end their sessions and
    revoke their API tokens.

    Raises Invalid naming ``token`` for a bad, used or expired link (nothing changes)."""
    member = member_for_link(token)
    member.password_hash = hash_password(password)
    mark_verified(member)  # the link reached this inbox: the address is the member's
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.member_id == member.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    audit("password.set_by_link", member, program_id=None, actor=member)
    db.session.commit()
    return member
