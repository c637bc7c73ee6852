"""The console's blueprint, who may open it, and how it names people for a coordinator."""

from __future__ import annotations

from collections import Counter

from babel.dates import format_skeleton
from flask import Blueprint, abort
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from api.auth import Access, program_access
from api.errors import NotFound
from api.extensions import db
from api.models import Member, Membership, Program

bp = Blueprint("console", __name__, url_prefix="/coordinator")


def coordinator_access(program_id) -> Access:
    """The caller as coordinator of this programme; anyone else gets an ordinary 404 page."""
    try:
        return program_access(current_user, program_id, "coordinator")
    except NotFound:
        abort(404)


def coordinated_programs(member: Member) -> list[Program]:
    """The programmes ``member`` coordinates (every programme for an installation admin)."""
    if member.is_admin:
        return list(db.session.scalars(select(Program).order_by(Program.name, Program.id)))
    return sorted(
        (m.program for m in member.memberships if m.is_coordinator),
        key=lambda p: (p.name, p.id),
    )


def people_labels(program: Program, members) -> dict[int, str]:
    """Each member's display name; where someone else in the programme has the same name, when
    they joined and their fellowships are added ("Ana P. (joined March 2026, AA)"), and a
    number if even that is the same. Never a raw id."""
    members = {m.id: m for m in members if m is not None}
    labels = {mid: m.display_name for mid, m in members.items()}
    names = {m.display_name for m in members.values()}
    if not names:
        return labels
    shared = set(
        db.session.scalars(
            select(Member.display_name)
            .join(Membership, Membership.member_id == Member.id)
            .where(Membership.program_id == program.id, Member.display_name.in_(names))
            .group_by(Member.display_name)
            .having(func.count() > 1)
        )
    )
    if not shared:
        return labels
    rows = db.session.execute(
        select(Membership.member_id, Membership.joined_at, Member.display_name, Member.fellowships)
        .join(Member, Member.id == Membership.member_id)
        .where(Membership.program_id == program.id, Member.display_name.in_(shared))
        .order_by(Membership.joined_at, Membership.id)
    ).all()
    worded, months = {}, {}
    for member_id, joined, name, fellowships in rows:
        if (joined.year, joined.month) not in months:
            months[joined.year, joined.month] = format_skeleton(
                "yMMMM", joined, locale=get_locale(), fuzzy=True
            )
        month = months[joined.year, joined.month]
        worded[member_id] = _(
            "%(name)s (joined %(month)s, %(fellowships)s)",
            name=name,
            month=month,
            fellowships=", ".join(fellowships or ()) or "–",
        )
    seen = Counter(worded.values())
    number: Counter = Counter()
    for member_id, *_rest in rows:
        text = worded[member_id]
        if seen[text] > 1:
            number[text] += 1
            worded[member_id] = _("%(label)s, no. %(number)d", label=text, number=number[text])
    labels.update({mid: worded[mid] for mid in labels if mid in worded})
    return labels
