"""Invitations: a coordinator asks someone by email to join their programme.

Every invitation is one signed link in one email, whether or not the address has an account
(here, elsewhere, or nowhere), and the coordinator is told the same thing in every case, so an
invitation never reveals who has an account. Opening the link:

- an address with no confirmed account chooses a name and a password and joins (the link
  proves the inbox, so the address counts as verified);
- a confirmed account simply joins the programme with the roles it was invited to.

The membership is made only when the link is opened, for everyone alike. Until then a new
address's details (from a CSV row) follow the newest invitation; the same invitation (same
programme, same roles) is emailed at most once an hour, and inside that hour the earlier email
stands. Someone already in the programme gets no invitation: the coordinator is told so (they
see the programme's members anyway).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from api.auth import Access, hash_password
from api.errors import Invalid
from api.extensions import db
from api.i18n import DEFAULT_LOCALE, LANGUAGES, N_, visitor_locale
from api.models import Member, Membership, OutboxMessage, Program, SponsorProfile, utcnow
from api.services.accounts import find_member_by_email, membership_of, normalise_email
from api.services.audit import audit
from api.services.notify import email_only
from api.services.profiles import apply_profile
from api.services.verification import mark_verified

MAX_AGE_S = 14 * 24 * 3600
INVITABLE_ROLES = ("newcomer", "sponsor")
# Never a valid argon2 hash: an invited address cannot log in until its link is opened.
NO_PASSWORD = "!invited:"
BAD_LINK = N_(
    "This invitation link is not valid any more (it works for two weeks). Ask your "
    "coordinator to invite you again."
)


# What happened to one invitation. INVITED and STANDING are the same for every address outside
# the programme (they depend only on this programme's own invitations); ALREADY_MEMBER is about
# someone the coordinator can see in their members list.
INVITED = "invited"  # an email with a fresh link went out
STANDING = "already_invited"  # the same invitation went out within the hour: it stands
ALREADY_MEMBER = "already_member"  # in the programme already: nothing sent


@dataclass(frozen=True)
class InvitationSent:
    """What the coordinator is told: the same for every address outside the programme."""

    email: str
    roles: tuple[str, ...]
    status: str = INVITED
    member_id: uuid.UUID | None = None  # only for ALREADY_MEMBER: their member page


@dataclass(frozen=True)
class Invitation:
    """An opened invitation link: where to, for whom, and whether they must set a password."""

    program: Program
    email: str
    roles: tuple[str, ...]
    member: Member | None

    @property
    def needs_password(self) -> bool:
        return self.member is None or self.member.email_verified_at is None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="invitation")


def invitation_link(program: Program, email: str, roles) -> str:
    token = _serializer().dumps({"p": str(program.uuid), "e": email, "r": list(roles)})
    return f"{str(current_app.config['BASE_URL']).rstrip('/')}/invitation/{token}"


def _invitation_key(program: Program, member: Member, roles) -> str:
    """One email per programme, person, roles and clock hour: a retry or a double click in the
    same hour sends nothing twice, other roles send a fresh link at once."""
    hour = int(utcnow().timestamp()) // 3600
    return f"invitation:{program.uuid}:{member.uuid}:{hour}:{'+'.join(roles)}"


def _roles(roles) -> tuple[str, ...]:
    return tuple(r for r in INVITABLE_ROLES if r in set(roles))


def invitation_stands(program: Program, email: str, roles) -> bool:
    """Whether this programme emailed this address the same invitation within the hour (so a
    new one would not go out and the earlier one stands)."""
    member = find_member_by_email(normalise_email(email))
    if member is None:
        return False
    key = "email:" + _invitation_key(program, member, _roles(roles))
    return (
        db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key))
        is not None
    )


def _not_joined_yet(member: Member) -> bool:
    """An account made by an invitation or import whose link was never opened."""
    return member.email_verified_at is None and member.password_hash.startswith("!")


def _keep_details(member: Member, profile: dict | None, sponsor: dict | None) -> None:
    if profile:
        apply_profile(member, profile)
    if sponsor:
        row = member.sponsor_profile or SponsorProfile(member=member, load=0)
        for key, value in sponsor.items():
            setattr(row, key, value)
        db.session.add(row)


def _invitation_language(member: Member) -> str:
    """The language an invitation is written in: an account's own; for an address that has
    not joined, the one language of the pages its profile lists (say, only Spanish), else
    the coordinator's."""
    if member.locale and not _not_joined_yet(member):
        return member.locale
    spoken = [code for code in LANGUAGES if code in (member.languages or ())]
    if len(spoken) == 1:
        return spoken[0]
    return str(get_locale() or DEFAULT_LOCALE)


def queue_invitation(
    access: Access,
    email: str,
    roles,
    *,
    profile: dict | None = None,
    sponsor: dict | None = None,
) -> InvitationSent:
    """Queue one invitation email in the caller's transaction (no commit).

    An address with no account gets an account that cannot log in yet (holding ``profile`` and
    ``sponsor``, e.g. from a CSV row) so the email has somewhere to go; while its link is not
    opened, a newer invitation's details replace them. An account someone uses is left exactly
    as it is. Someone already in the programme gets nothing (ALREADY_MEMBER); the same
    invitation within the hour is not emailed again (STANDING), its details still kept.
    """
    address = normalise_email(email)
    roles = _roles(roles)
    member = find_member_by_email(address)
    if member is not None and db.session.scalar(
        select(Membership.id).where(
            Membership.member_id == member.id, Membership.program_id == access.program.id
        )
    ):
        return InvitationSent(address, roles, ALREADY_MEMBER, member_id=member.uuid)
    if member is None:
        member = Member(
            email=address,
            password_hash=NO_PASSWORD + secrets.token_hex(16),
            display_name=(profile or {}).get("display_name", ""),
        )
        db.session.add(member)
        db.session.flush()
        _keep_details(member, profile, sponsor)
    elif _not_joined_yet(member):
        _keep_details(member, profile, sponsor)
    if invitation_stands(access.program, address, roles):
        audit(
            "invitation.updated",
            access.program,
            program_id=access.program.id,
            actor=access.member,
            details={"roles": list(roles)},
        )
        return InvitationSent(address, roles, STANDING)
    language = _invitation_language(member)
    if _not_joined_yet(member):
        member.locale = language  # the email's greeting and crisis line speak it too
    with force_locale(language):
        body, title = _invitation_text(member, invitation_link(access.program, address, roles))
    email_only(
        member,
        "account.invitation",
        key=_invitation_key(access.program, member, roles),
        title=title,
        body=body,
        program=access.program,
    )
    audit(
        "invitation.sent",
        access.program,
        program_id=access.program.id,
        actor=access.member,
        details={"roles": list(roles)},
    )
    return InvitationSent(address, roles, INVITED)


def _invitation_text(member: Member, link: str) -> tuple[str, str]:
    """The invitation email's body and title, in the current language."""
    if member.email_verified_at is None:
        body = _(
            "You are invited to join a group. Open this link to choose your password "
            "and join (it works for two weeks):\n\n%(link)s\n\n"
            "If you did not expect this, ignore this message: nothing happens without the link.",
            link=link,
        )
    else:
        body = _(
            "You are invited to join one more group. Open this link to see which one "
            "and to join (it works for two weeks):\n\n%(link)s\n\n"
            "If you did not expect this, ignore this message: nothing changes without the link.",
            link=link,
        )
    return body, _("You are invited")


def invite(access: Access, email: str, roles) -> InvitationSent:
    """Invite one address to the coordinator's programme (one email, the same answer for
    every address outside it; someone already in it gets nothing and is named as such)."""
    sent = queue_invitation(access, email, roles)
    db.session.commit()
    return sent


def read_invitation(token: str) -> Invitation:
    """The invitation behind a link. Raises Invalid naming ``token`` when it is forged,
    expired or its programme is gone."""
    try:
        data = _serializer().loads(token, max_age=MAX_AGE_S)
        program_uuid, email = uuid.UUID(data["p"]), str(data["e"])
        roles = tuple(r for r in data["r"] if r in INVITABLE_ROLES)
    except (SignatureExpired, BadSignature, KeyError, TypeError, ValueError):
        raise Invalid("token", BAD_LINK) from None
    program = db.session.scalar(select(Program).where(Program.uuid == program_uuid))
    member = find_member_by_email(email)
    if program is None or (member is not None and member.closed_at is not None):
        raise Invalid("token", BAD_LINK)
    return Invitation(program=program, email=email, roles=roles, member=member)


def accept_invitation(
    token: str,
    *,
    password: str | None = None,
    display_name: str | None = None,
    time_zone: str | None = None,
) -> Member:
    """Join the invitation's programme with its roles; an address without a confirmed account
    sets its name and password here (and counts as verified). Raises Invalid (a bad link, or
    a name that would pass for someone else's in the programme)."""
    from api.services.names import check_display_name

    invitation = read_invitation(token)
    member = invitation.member
    if invitation.needs_password:
        if not password or not display_name:
            raise Invalid("password", N_("Choose a password."))
        check_display_name(display_name, invitation.program, exclude=member)
        if member is None:
            member = Member(email=invitation.email, password_hash="", display_name=display_name)
            db.session.add(member)
        member.password_hash = hash_password(password)
        member.display_name = display_name
        member.time_zone = time_zone or member.time_zone or "UTC"
        # their emails speak the page's language (the invitation's was a guess)
        member.locale = visitor_locale() or member.locale
        db.session.flush()
        mark_verified(member)
    membership = membership_of(member, invitation.program)
    membership.is_newcomer = membership.is_newcomer or "newcomer" in invitation.roles
    membership.is_sponsor = membership.is_sponsor or "sponsor" in invitation.roles
    audit("invitation.accepted", invitation.program, program_id=invitation.program.id, actor=member)
    db.session.commit()
    return member
