"""factory-boy factories for people and programmes, plus fixtures that log them in."""

from __future__ import annotations

from datetime import date, timedelta

import factory
import pytest

from api.auth import new_token
from api.extensions import db
from api.models import ApiToken, Member, Membership, Program, SponsorProfile, utcnow

PASSWORD = "correct horse battery"
_HASH_CACHE: dict[str, str] = {}


def _password_hash() -> str:
    # Hashing once per session keeps the suite fast; argon2 still verifies it for real.
    if "hash" not in _HASH_CACHE:
        from api.auth import hash_password

        _HASH_CACHE["hash"] = hash_password(PASSWORD)
    return _HASH_CACHE["hash"]


class _Base(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class ProgramFactory(_Base):
    class Meta:
        model = Program

    name = factory.Sequence(lambda n: f"Programme {n}")
    join_code = factory.Sequence(lambda n: f"JOIN-{n:04d}")
    fellowships = factory.LazyFunction(lambda: ["AA", "NA"])
    tags = factory.LazyFunction(lambda: ["veteran", "parent", "lgbtq", "secular"])
    settings = factory.LazyFunction(dict)


class MemberFactory(_Base):
    class Meta:
        model = Member

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    password_hash = factory.LazyFunction(_password_hash)
    display_name = factory.Sequence(lambda n: f"Sam{chr(97 + n % 26)} K.")
    time_zone = "America/New_York"
    gender = "woman"
    fellowships = factory.LazyFunction(lambda: ["AA"])
    languages = factory.LazyFunction(lambda: ["en"])
    contact_modes = factory.LazyFunction(lambda: ["phone", "text"])
    phone = "+1-555-0100"
    # Verified, like an account whose owner opened the sign-up link; pass
    # email_verified_at=None for one that has not (see also ``verify_by_link``).
    email_verified_at = factory.LazyFunction(utcnow)


class MembershipFactory(_Base):
    class Meta:
        model = Membership

    member = factory.SubFactory(MemberFactory)
    program = factory.SubFactory(ProgramFactory)


class SponsorProfileFactory(_Base):
    class Meta:
        model = SponsorProfile

    member = factory.SubFactory(MemberFactory)
    sobriety_date = factory.LazyFunction(lambda: date.today() - timedelta(days=3 * 365))
    steps_completed = 12
    capacity = 2
    availability_confirmed_at = factory.LazyFunction(utcnow)


@pytest.fixture
def make_program(db):
    def make(**kwargs) -> Program:
        return ProgramFactory(**kwargs)

    return make


@pytest.fixture
def make_member(db):
    """make_member(program, "newcomer", "sponsor", **member_fields) -> Member."""

    def make(program: Program | None = None, *roles: str, sponsor: dict | None = None, **kw):
        member = MemberFactory(**kw)
        if program is not None:
            MembershipFactory(
                member=member,
                program=program,
                is_newcomer="newcomer" in roles,
                is_sponsor="sponsor" in roles,
                is_coordinator="coordinator" in roles,
            )
        if "sponsor" in roles or sponsor is not None:
            SponsorProfileFactory(member=member, **(sponsor or {}))
        return member

    return make


@pytest.fixture
def auth(db):
    """auth(member) -> headers carrying a fresh bearer token for that member."""

    def headers(member: Member) -> dict[str, str]:
        token, digest = new_token()
        db.session.add(
            ApiToken(
                member_id=member.id, token_hash=digest, expires_at=utcnow() + timedelta(hours=1)
            )
        )
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    return headers


__all__ = ["PASSWORD", "auth", "make_member", "make_program"]
