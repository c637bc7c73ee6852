"""The programme's practical resources: a coordinator curates them, members see the ones that
fit them, and a sponsor shares one with a sponsee (it arrives in their notifications).

A link is stored only if it is http or https and is shown with its host; nothing is ever
fetched from it here.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from sqlalchemy import select

from api.errors import Invalid, NotFound
from api.extensions import db
from api.i18n import N_
from api.models import (
    RESOURCE_KINDS,
    Member,
    Program,
    Resource,
    ResourceShare,
    Sponsorship,
    utcnow,
)
from api.services.accountability import insert_ignore
from api.services.audit import audit
from api.services.notify import notify

BAD_SCHEME = N_("Use a web link that starts with http:// or https://.")
NO_HOST = N_("This link has no web address after http://. Check it and try again.")
URL_OR_TEXT = N_("Add a link or a short text (or both).")
UNKNOWN_FELLOWSHIP = N_("Choose fellowships this programme has.")
NOT_OURS = N_("Choose one of your group's resources.")


def check_link(url: str) -> str:
    """``url`` if it is an http(s) address with a host. Raises Invalid naming ``url``."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        raise Invalid("url", NO_HOST) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise Invalid("url", BAD_SCHEME)
    if not host:
        raise Invalid("url", NO_HOST)
    return url.strip()


def host_of(url: str | None) -> str:
    """The host a link goes to, as a reader should see it before tapping ("example.org")."""
    if not url:
        return ""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    try:
        return host.encode("ascii").decode("idna")
    except UnicodeError:
        return host


def add(program: Program, actor: Member, data: dict) -> Resource:
    """Add a resource to the programme. Raises Invalid naming ``url``, ``body`` or
    ``fellowships``."""
    url = check_link(data["url"]) if data.get("url") else None
    body = (data.get("body") or "").strip() or None
    if url is None and body is None:
        raise Invalid("url", URL_OR_TEXT)
    fellowships = sorted(set(data.get("fellowships") or ()))
    if not set(fellowships) <= set(program.fellowships or ()):
        raise Invalid("fellowships", UNKNOWN_FELLOWSHIP)
    resource = Resource(
        program_id=program.id,
        title=data["title"].strip(),
        url=url,
        body=body,
        kind=data["kind"],
        fellowships=fellowships,
        languages=sorted(set(data.get("languages") or ())),
        created_by_id=actor.id,
    )
    db.session.add(resource)
    db.session.flush()
    audit("resource.added", resource, program_id=program.id, actor=actor)
    db.session.commit()
    return resource


def _in_order(found) -> list[Resource]:
    """Meetings first, crisis and local help last (RESOURCE_KINDS), then by title."""
    return sorted(found, key=lambda r: (RESOURCE_KINDS.index(r.kind), r.title.lower(), r.id))


def listed(program: Program) -> list[Resource]:
    """The programme's resources (not removed), by kind then title."""
    return _in_order(
        db.session.scalars(
            select(Resource).where(Resource.program_id == program.id, Resource.removed_at.is_(None))
        )
    )


def _resource(program: Program, resource_uuid) -> Resource:
    resource = db.session.scalar(
        select(Resource).where(
            Resource.uuid == resource_uuid,
            Resource.program_id == program.id,
            Resource.removed_at.is_(None),
        )
    )
    if resource is None:
        raise NotFound("No such resource.")
    return resource


def get(program: Program, resource_uuid) -> Resource:
    """One of the programme's resources. Raises NotFound."""
    return _resource(program, resource_uuid)


def remove(program: Program, actor: Member, resource_uuid) -> None:
    """Take a resource off the programme's list (shares already made stay counted). Raises
    NotFound."""
    resource = _resource(program, resource_uuid)
    resource.removed_at = utcnow()
    audit("resource.removed", resource, program_id=program.id, actor=actor)
    db.session.commit()


def fits(resource: Resource, member: Member) -> bool:
    """For everyone, or tagged with one of the member's fellowships and one of their languages."""
    fellowships, languages = set(resource.fellowships or ()), set(resource.languages or ())
    return (not fellowships or bool(fellowships & set(member.fellowships or ()))) and (
        not languages or bool(languages & set(member.languages or ()))
    )


def fitting_in(program: Program, member: Member) -> list[Resource]:
    """The programme's resources that fit ``member`` (what their sponsor picks from to share),
    in the order of ``listed``."""
    return [r for r in listed(program) if fits(r, member)]


def fitting(member: Member) -> list[Resource]:
    """The resources of the member's programmes that fit them."""
    program_ids = [m.program_id for m in member.memberships]
    if not program_ids:
        return []
    found = db.session.scalars(
        select(Resource).where(Resource.program_id.in_(program_ids), Resource.removed_at.is_(None))
    )
    return _in_order(r for r in found if fits(r, member))


def shared_with(member: Member) -> list[tuple[Resource, str]]:
    """Resources the member's sponsors shared with them (newest first), with who shared."""
    rows = db.session.execute(
        select(Resource, Member.display_name)
        .join(ResourceShare, ResourceShare.resource_id == Resource.id)
        .join(Sponsorship, Sponsorship.id == ResourceShare.sponsorship_id)
        .join(Member, Member.id == Sponsorship.sponsor_id)
        .where(Sponsorship.sponsee_id == member.id, Resource.removed_at.is_(None))
        .order_by(ResourceShare.created_at.desc(), ResourceShare.id.desc())
    ).all()
    return [(resource, name) for resource, name in rows]


def share(sponsor: Member, pair_uuid, resource_uuid) -> Resource:
    """The sponsor of an active pair shares one of its programme's resources with the
    sponsee, who is told once (sharing it again changes nothing). Raises NotFound (not your
    active pair) or Invalid naming ``resource_id``."""
    pair = db.session.scalar(
        select(Sponsorship).where(
            Sponsorship.uuid == pair_uuid,
            Sponsorship.sponsor_id == sponsor.id,
            Sponsorship.status == "active",
        )
    )
    if pair is None:
        raise NotFound("No such sponsorship.")
    try:
        resource = _resource(pair.program, resource_uuid)
    except NotFound:
        raise Invalid("resource_id", NOT_OURS) from None
    insert_ignore(
        ResourceShare,
        [
            {
                "uuid": uuid.uuid4(),
                "resource_id": resource.id,
                "sponsorship_id": pair.id,
                "program_id": pair.program_id,
                "created_at": utcnow(),
            }
        ],
    )
    notify(
        pair.sponsee,
        "resource.shared",
        key=f"resource:{resource.uuid}:{pair.uuid}",
        title=f"{sponsor.display_name} shared something with you",
        body=f"“{resource.title}”",
        program=pair.program,
        data={"sponsorship": str(pair.uuid), "resource": str(resource.uuid)},
    )
    db.session.commit()
    return resource
