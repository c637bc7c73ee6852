"""Sessions that end: logout, "log out everywhere" and a password change.

A web session carries the member's session version (``Member.get_id``); bumping the version
ends every session made before. API tokens are rows, revoked here as well when asked.
"""

from __future__ import annotations

from sqlalchemy import update

from api.auth import hash_password, verify_password
from api.errors import Invalid
from api.extensions import db
from api.i18n import N_
from api.models import ApiToken, Member, utcnow
from api.services.audit import audit

WRONG_PASSWORD = N_("This is not your current password.")


def end_sessions(member: Member, *, revoke_tokens: bool, keep_token_id: int | None = None) -> None:
    """End all of the member's web sessions (and, with ``revoke_tokens``, API tokens except
    ``keep_token_id``), in one commit."""
    db.session.execute(
        update(Member)
        .where(Member.id == member.id)
        .values(session_version=Member.session_version + 1)
        .execution_options(synchronize_session=False)
    )
    if revoke_tokens:
        _revoke_tokens(member, keep_token_id)
    db.session.commit()
    db.session.refresh(member)


def log_out_everywhere(member: Member, *, keep_token_id: int | None = None) -> None:
    """End every web session and revoke every API token of the member (but the one in use,
    when given: the caller stays logged in where they asked from)."""
    audit("account.logged_out_everywhere", member, program_id=None, actor=member)
    end_sessions(member, revoke_tokens=True, keep_token_id=keep_token_id)


def change_password(
    member: Member, current: str, new: str, *, keep_token_id: int | None = None
) -> Member:
    """Set a new password after checking the current one; every other session and token ends
    (the caller's own token, when given, keeps working; a web page logs the member in again).

    Raises Invalid naming ``current_password`` when it is wrong (nothing changes).
    """
    if not verify_password(member, current):
        raise Invalid("current_password", WRONG_PASSWORD)
    member.password_hash = hash_password(new)
    audit("account.password_changed", member, program_id=None, actor=member)
    end_sessions(member, revoke_tokens=True, keep_token_id=keep_token_id)
    return member


def _revoke_tokens(member: Member, keep_token_id: int | None) -> None:
    query = update(ApiToken).where(ApiToken.member_id == member.id, ApiToken.revoked_at.is_(None))
    if keep_token_id is not None:
        query = query.where(ApiToken.id != keep_token_id)
    db.session.execute(
        query.values(revoked_at=utcnow()).execution_options(synchronize_session=False)
    )
