"""A member's own profile and sponsor profile: updates, capacity, eligibility, pauses."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from api.errors import Invalid, NotFound
from api.extensions import db
from api.gazetteer import City
from api.i18n import N_
from api.matching_index import pool_changed
from api.matching_inputs import confirmed_days_ago, is_paused, rule_settings, sponsor_state
from api.models import AvailabilityCheck, Member, Membership, Program, SponsorProfile, utcnow
from api.program_settings import DEFAULTS
from api.schemas.profiles import unique
from api.services.audit import audit
from matcher import MatchSettings, SponsorCandidate
from matcher.rules import RULE_BY_CODE, sponsor_rules_failed

LIST_FIELDS = ("fellowships", "languages", "contact_modes", "tags", "tags_shown")


def member_programs(member: Member) -> list[Program]:
    return [m.program for m in member.memberships]


def list_errors(data: dict, fellowships: set[str], tags: set[str]) -> dict[str, list[str]]:
    """Fellowships and tags must come from the programme lists the member belongs to."""
    errors: dict[str, list[str]] = {}
    for field, allowed in (("fellowships", fellowships), ("tags", tags)):
        unknown = [v for v in data.get(field) or () if v not in allowed]
        if unknown:
            choices = ", ".join(sorted(allowed)) or "none"
            errors[field] = [
                f"Not offered by your programme(s): {', '.join(unknown)}. Choose from: {choices}."
            ]
    return errors


def apply_profile(member: Member, data: dict) -> None:
    """Copy validated profile fields onto ``member`` (no commit)."""
    for key, value in data.items():
        if key == "location":
            set_location(member, value)
        elif key in LIST_FIELDS:
            setattr(member, key, unique(value))
        else:
            setattr(member, key, value)


def set_location(member: Member, city: City | None) -> None:
    if city is None:
        member.city_id = member.city_label = member.lat = member.lon = None
    else:
        member.city_id, member.city_label = city.id, city.label
        member.lat, member.lon = city.lat, city.lon


def update_profile(member: Member, data: dict) -> Member:
    """Apply a partial profile update. Raises Invalid naming fellowships/tags not on offer."""
    programs = member_programs(member)
    allowed_f = {f for p in programs for f in p.fellowships or ()}
    allowed_t = {t for p in programs for t in p.tags or ()}
    errors = list_errors(data, allowed_f, allowed_t)
    if errors:
        field, messages = next(iter(errors.items()))
        raise Invalid(field, messages[0])
    tags = data.get("tags", member.tags or [])
    if "tags_shown" in data and not set(data["tags_shown"]) <= set(tags):
        raise Invalid("tags_shown", N_("Only tags you have chosen can be shown."))
    if "tags" in data and "tags_shown" not in data:
        data["tags_shown"] = [t for t in member.tags_shown or () if t in set(tags)]
    if "display_name" in data and data["display_name"] != member.display_name:
        from api.services.names import check_display_name

        check_display_name(data["display_name"], list(programs), exclude=member)
    apply_profile(member, data)
    pool_changed(member.id)  # languages, slots, tags... feed the warm matcher index
    db.session.commit()
    return member


# --- sponsor profile -------------------------------------------------------------------------


def confirm_max_days(programs) -> int:
    """Days a confirmation of availability stays fresh: the strictest of ``programs``."""
    days = [int(p.setting("availability_confirm_max_days")) for p in programs if p is not None]
    return min(days) if days else int(DEFAULTS["availability_confirm_max_days"])


def availability_stale(confirmed_at: datetime | None, max_days: int, now: datetime) -> bool:
    """True when the last confirmation is missing or older than ``max_days`` whole days: the
    matcher's availability_unconfirmed rule (``matcher.rules.RULES``)."""
    state = SponsorCandidate(
        "", "", availability_confirmed_days_ago=confirmed_days_ago(confirmed_at, now)
    )
    rule = RULE_BY_CODE["availability_unconfirmed"]
    return rule.fails(None, state, MatchSettings(availability_confirm_max_days=max_days))


# the matcher's rules about the sponsor alone, room aside, by the names this API gives them
ELIGIBILITY_CODES = {
    "sobriety_too_short": "sobriety_below_minimum",
    "not_accepting": "not_accepting",
    "paused": "paused",
    "availability_unconfirmed": "availability_unconfirmed",
}


def eligibility_reasons(
    profile: SponsorProfile, program: Program, today: date, now: datetime | None = None
) -> list[str]:
    """Why this sponsor cannot take new sponsees in ``program`` now (empty: eligible): the
    matcher's rules about the sponsor alone (``matcher.rules.sponsor_rules_failed``)."""
    sponsor = SponsorCandidate("", "", **sponsor_state(profile, today, now or utcnow()))
    failed = set(sponsor_rules_failed(sponsor, rule_settings(program)))
    return [name for code, name in ELIGIBILITY_CODES.items() if code in failed]


def sponsor_status(
    profile,
    today: date | None = None,
    *,
    program: Program | None = None,
    max_days: int | None = None,
    now: datetime | None = None,
) -> str:
    """The one word for a sponsor's state, wherever it is shown (their page, the console,
    reports): paused (by themselves or a coordinator), unconfirmed (paused: availability not
    confirmed within the programme's limit), at_capacity, or accepting.

    ``profile`` needs accepting, paused_until, availability_confirmed_at, load and capacity (a
    SponsorProfile or a row). The limit is ``max_days``, else ``program``'s, else the strictest
    of the sponsor's programmes."""
    now = now or utcnow()
    today = today or now.date()
    if max_days is None:
        programs = [program] if program is not None else sponsor_programs(profile.member)
        max_days = confirm_max_days(programs)
    state = SponsorCandidate(
        "",
        "",
        accepting=profile.accepting,
        paused=is_paused(profile, today),
        availability_confirmed_days_ago=confirmed_days_ago(profile.availability_confirmed_at, now),
        load=profile.load,
        capacity=profile.capacity,
    )
    # the matcher's rules about the sponsor alone decide the word (matcher.rules.RULES)
    failed = set(sponsor_rules_failed(state, MatchSettings(availability_confirm_max_days=max_days)))
    if failed & {"not_accepting", "paused"}:
        return "paused"
    if "availability_unconfirmed" in failed:
        return "unconfirmed"
    if "at_capacity" in failed:
        return "at_capacity"
    return "accepting"


def sponsor_programs(member: Member) -> list[Program]:
    return [m.program for m in member.memberships if m.is_sponsor]


def sponsor_view(member: Member) -> dict:
    """The sponsor profile with per-programme eligibility, for the schema to dump."""
    profile = own_sponsor_profile(member)
    now = utcnow()
    today = now.date()
    eligibility = [
        {
            "program_id": program.uuid,
            "program_name": program.name,
            "reasons": (reasons := eligibility_reasons(profile, program, today, now)),
            "eligible": not reasons,
        }
        for program in sponsor_programs(member)
    ]
    out = {c.key: getattr(profile, c.key) for c in SponsorProfile.__table__.columns}
    out["eligibility"] = eligibility
    out["eligible"] = {str(e["program_id"]): e["eligible"] for e in eligibility}
    return out


def own_sponsor_profile(member: Member) -> SponsorProfile:
    profile = db.session.scalar(select(SponsorProfile).where(SponsorProfile.member_id == member.id))
    if profile is None:
        raise NotFound("You have no sponsor profile yet: create one with PUT.")
    return profile


def save_sponsor_profile(member: Member, data: dict, *, partial: bool) -> dict:
    """Create/replace (PUT) or partly update (PATCH) the caller's sponsor profile.

    Raises NotFound when the member sponsors in no programme (or PATCH finds no profile), and
    Invalid on ``capacity`` when it would fall below the current load.
    """
    if not sponsor_programs(member):
        raise NotFound("Only members with the sponsor role in a programme have a sponsor profile.")
    profile = db.session.scalar(select(SponsorProfile).where(SponsorProfile.member_id == member.id))
    now = utcnow()
    # Offering to sponsor, or resuming, is the sponsor saying they are available.
    confirming = profile is None or (data.get("accepting") is True and not profile.accepting)
    if profile is None:
        if partial:
            raise NotFound("You have no sponsor profile yet: create one with PUT.")
        profile = SponsorProfile(member_id=member.id, load=0)
        db.session.add(profile)
    for key, value in data.items():
        setattr(profile, key, value)
    profile.updated_at = now
    _commit_capacity(profile)
    if confirming and profile.accepting:
        record_confirmation(member.id, now)
        db.session.commit()
        db.session.refresh(profile)
    return sponsor_view(member)


def _commit_capacity(profile: SponsorProfile) -> None:
    """Commit; the ``load_within_capacity`` check constraint decides, never a Python check."""
    member_id = profile.member_id
    try:
        db.session.flush()
        pool_changed(member_id)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        load = db.session.scalar(
            select(SponsorProfile.load).where(SponsorProfile.member_id == member_id)
        )
        raise Invalid(
            "capacity",
            f"Capacity cannot be below your current load: you already have {load or 0} "
            "sponsees or pending requests.",
        ) from None


def record_confirmation(member_id: int, now: datetime, *, resume: bool = False) -> None:
    """The sponsor said they are available (no commit): the confirmation is stamped, every
    open availability check is answered "available", and a pause for not answering a check
    (or ``resume``) ends. The next check is due from this moment (jobs/availability.py)."""
    answered = db.session.scalars(
        update(AvailabilityCheck)
        .where(AvailabilityCheck.member_id == member_id, AvailabilityCheck.answered_at.is_(None))
        .values(answered_at=now, answer="available")
        .returning(AvailabilityCheck.paused_at)
        .execution_options(synchronize_session=False)
    ).all()
    changes: dict = {"availability_confirmed_at": now, "updated_at": now}
    if resume or any(paused_at is not None for paused_at in answered):
        changes.update(accepting=True, pause_reason=None)
    db.session.execute(
        update(SponsorProfile)
        .where(SponsorProfile.member_id == member_id)
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    pool_changed(member_id)


def confirm_availability(member: Member, now: datetime | None = None) -> dict:
    """ "Yes, I'm still available": the one path of every confirmation (the API, the sponsor
    pages, the email link, the answer to a check). Raises NotFound without a sponsor profile."""
    profile = own_sponsor_profile(member)
    record_confirmation(member.id, now or utcnow())
    db.session.commit()
    db.session.refresh(profile)
    return sponsor_view(member)


def report_relapse(member: Member) -> dict:
    """Pause from new proposals at once; existing sponsorships are left to the people in them."""
    profile = own_sponsor_profile(member)
    profile.accepting = False
    profile.updated_at = utcnow()
    for membership in db.session.scalars(
        select(Membership).where(Membership.member_id == member.id, Membership.is_sponsor)
    ):
        audit("sponsor.self_pause", member, program_id=membership.program_id, actor=member)
    pool_changed(member.id)
    db.session.commit()
    return sponsor_view(member)
