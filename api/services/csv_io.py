"""CSV import (validated, all-or-nothing, idempotent upsert by email) and export of members.

Headings are documented in docs/csv-import.md. Cells beginning with = + - @ (or tab/CR) are
exported with a leading apostrophe so spreadsheets never run them as formulas; the importer
strips that apostrophe again, so export → import round-trips.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.auth import Access
from api.errors import AppError, Invalid
from api.extensions import db
from api.gazetteer import city_by_id
from api.i18n import N_
from api.models import Member, Membership, SponsorProfile
from api.schemas.common import DISPLAY_NAME_RULE
from api.schemas.profiles import ProfileSchema, SponsorProfilePatchSchema
from api.services.accounts import normalise_email
from api.services.audit import audit
from api.services.invitations import invitation_stands, queue_invitation
from api.services.names import MIXED_SCRIPTS
from api.services.profiles import apply_profile, list_errors

HEADINGS = (
    "email",
    "display_name",
    "roles",
    "time_zone",
    "gender",
    "gender_rule",
    "fellowships",
    "languages",
    "city",
    "country",
    "contact_modes",
    "tags",
    "age_band",
    "phone",
    "sobriety_date",
    "steps_completed",
    "capacity",
    "accepting",
    "temporary_willing",
)
# The export holds only what a re-import needs and a coordinator's job requires: no phone
# numbers, no location, no age band, no background tags, no contact modes (members keep those
# themselves; a re-import leaves columns it does not see as they are).
EXPORTED = tuple(
    h
    for h in HEADINGS
    if h not in ("phone", "city", "country", "age_band", "tags", "contact_modes")
)
REQUIRED = ("email", "display_name", "roles")
LISTS = ("roles", "fellowships", "languages", "contact_modes", "tags")
PROFILE_COLUMNS = ("display_name", "time_zone", "gender", "gender_rule", "age_band", "phone")
SPONSOR_COLUMNS = ("sobriety_date", "steps_completed", "capacity", "accepting", "temporary_willing")
IMPORT_ROLES = ("newcomer", "sponsor")
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
MAX_ROWS = 5000
# Never a valid argon2 hash: imported members cannot log in until they reset their password.
UNUSABLE_PASSWORD = "!imported:"


class ImportRejected(AppError):
    status = 422
    code = "validation_error"


class _EmailSchema(Schema):
    email = fields.Email(required=True)


@dataclass
class RowPlan:
    row: int
    email: str
    member: Member | None
    roles: list[str]
    profile: dict
    sponsor: dict
    errors: list[dict] = field(default_factory=list)
    standing: bool = False  # invited with these roles within the hour: no new email

    @property
    def action(self) -> str:
        """The row's fate: "update" (in this programme), "invite", or "details" (the earlier
        invitation of the hour stands; only the details they will start with change)."""
        if self.member is not None:
            return "update"
        return "details" if self.standing else "invite"


def neutralise(value: str) -> str:
    """Prefix an apostrophe to cells a spreadsheet would run (and to ones starting with one)."""
    return "'" + value if value.startswith((*DANGEROUS, "'")) else value


def unneutralise(value: str) -> str:
    """Undo ``neutralise``: the importer accepts exported files unchanged."""
    if value.startswith("'") and value[1:].startswith((*DANGEROUS, "'")):
        return value[1:]
    return value


def template_csv() -> str:
    return "\ufeff" + ",".join(HEADINGS) + "\r\n"


def _flatten(messages) -> list[str]:
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in _flatten(value)]
    if isinstance(messages, list):
        return [m for value in messages for m in _flatten(value)]
    return [messages if isinstance(messages, str) else str(messages)]  # keeps a Worded one


NOT_UTF8 = N_(
    "The file is not UTF-8 text. Save it again as CSV UTF-8: in Excel, File, Save As, then "
    '"CSV UTF-8 (Comma delimited)"; in Google Sheets, File, Download, then "Comma-separated '
    'values"; in LibreOffice, Save As "Text CSV" with the character set Unicode (UTF-8).'
)
# Messages the profile screens say to the member themselves, as the coordinator reads them
# about someone else's row.
FOR_COORDINATOR = {
    DISPLAY_NAME_RULE: N_(
        "Write a first name, one space and the first letter of the last name with a full stop, "
        'like "Sam K." or "Mary-Ann K.": one first name, no surname, no digits, at most 30 '
        "characters."
    ),
    MIXED_SCRIPTS: N_("Write the name in one alphabet (for example all Latin letters)."),
}


def _read(raw: bytes) -> list[dict]:
    if not raw.strip():
        raise Invalid("file", N_("This file is empty."))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("file", NOT_UTF8) from None
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        headings = [h.strip() for h in reader.fieldnames or ()]
        missing = [h for h in REQUIRED if h not in headings]
        if missing:
            raise Invalid("file", _("Missing column(s): %(names)s.", names=", ".join(missing)))
        reader.fieldnames = headings
        rows = []
        for row in reader:
            if len(rows) >= MAX_ROWS:
                raise Invalid("file", _("At most %(num)d rows per import.", num=MAX_ROWS))
            rows.append({k: unneutralise((v or "").strip()) for k, v in row.items() if k})
        return rows
    except csv.Error as exc:
        raise Invalid("file", _("Not readable as CSV: %(problem)s.", problem=exc)) from None


def read_rows(raw: bytes) -> list[dict]:
    """The file's rows as {heading: cell} (what a preview shows). Raises Invalid naming
    ``file`` for a file that is not UTF-8 CSV with the required headings."""
    return _read(raw)


def _plan(access: Access, number: int, cells: dict, seen: set[str]) -> RowPlan:
    errors: list[dict] = []

    def error(column: str, messages) -> None:
        errors.extend(
            {"row": number, "column": column, "message": FOR_COORDINATOR.get(m, m)}
            for m in _flatten(messages)
        )

    get = {k: v for k, v in cells.items() if k in HEADINGS and v}
    email = normalise_email(get.get("email", ""))
    try:
        _EmailSchema().load({"email": email})
    except ValidationError as exc:
        error("email", exc.messages)
    if email in seen:
        error("email", N_("This email appears on an earlier row."))
    seen.add(email)
    # Only people already in this programme are updated. Anyone else - a new address or an
    # account elsewhere - is checked and invited the same way, so nothing in the answer (or the
    # work done) says whether the address has an account outside this programme.
    member = (
        db.session.scalar(
            select(Member)
            .join(Membership, Membership.member_id == Member.id)
            .where(Member.email == email, Membership.program_id == access.program.id)
        )
        if email
        else None
    )
    lists = {k: [p.strip() for p in get[k].split(";") if p.strip()] for k in LISTS if k in get}
    roles = lists.pop("roles", [])
    if not roles or any(r not in IMPORT_ROLES for r in roles):
        error("roles", N_("Use newcomer, sponsor or newcomer;sponsor."))

    profile_in = {k: get[k] for k in PROFILE_COLUMNS if k in get} | lists
    if "city" in get or "country" in get:
        here = city_by_id(member.city_id) if member and member.city_id else None
        same = here and (here.name, here.country) == (get.get("city"), get.get("country"))
        if not same:
            profile_in["location"] = {
                "city": get.get("city", ""),
                "country": get.get("country", ""),
            }
    if member is None and "display_name" not in get:
        error("display_name", N_("Needed for a new member."))
    profile: dict = {}
    checked: dict = {}  # what passed the profile rules, so every problem is listed at once
    try:
        profile = checked = ProfileSchema().load(profile_in)
    except ValidationError as exc:
        checked = exc.valid_data or {}
        for key, messages in exc.messages.items():
            error("city" if key == "location" else key, messages)
    offered = {
        "fellowships": set(access.program.fellowships or ()),
        "tags": set(access.program.tags or ()),
    }
    for key in list_errors(checked, offered["fellowships"], offered["tags"]):
        error(
            key,
            _(
                "Not offered by this programme: %(names)s. It offers: %(choices)s.",
                names=", ".join(v for v in checked[key] if v not in offered[key]),
                choices=", ".join(sorted(offered[key])) or "-",
            ),
        )

    sponsor: dict = {}
    sponsor_in = {k: get[k] for k in SPONSOR_COLUMNS if k in get}
    try:
        sponsor = SponsorProfilePatchSchema().load(sponsor_in)
    except ValidationError as exc:
        for key, messages in exc.messages.items():
            error(key, messages)
    existing = member.sponsor_profile if member is not None else None
    if "sponsor" in roles and existing is None and "sobriety_date" not in get:
        error("sobriety_date", N_("Needed for a new sponsor."))
    if existing and sponsor.get("capacity") is not None and sponsor["capacity"] < existing.load:
        error(
            "capacity",
            _("Below current load: %(num)d sponsees or pending requests.", num=existing.load),
        )
    if sponsor and "sponsor" not in roles and existing is None:
        error("roles", N_("Sponsor columns are filled but the roles do not include sponsor."))
    standing = member is None and not errors and invitation_stands(access.program, email, roles)
    return RowPlan(number, email, member, roles, profile, sponsor, errors, standing)


def _apply(access: Access, plan: RowPlan) -> None:
    member = plan.member
    if member is None:  # not in this programme: an invitation, the same for every address
        queue_invitation(access, plan.email, plan.roles, profile=plan.profile, sponsor=plan.sponsor)
        return
    membership = db.session.scalar(
        select(Membership).where(
            Membership.member_id == member.id, Membership.program_id == access.program.id
        )
    )
    membership.is_newcomer = membership.is_newcomer or "newcomer" in plan.roles
    membership.is_sponsor = membership.is_sponsor or "sponsor" in plan.roles
    apply_profile(member, plan.profile)
    if plan.sponsor or "sponsor" in plan.roles:
        profile = member.sponsor_profile or SponsorProfile(member=member, load=0)
        for key, value in plan.sponsor.items():
            setattr(profile, key, value)
        db.session.add(profile)


def import_members(access: Access, raw: bytes, *, dry_run: bool) -> dict:
    """Validate every row; unless ``dry_run``, upsert them all in one transaction.

    A dry run reports errors and writes nothing. A real import with any bad row writes nothing
    and raises ImportRejected (422) listing every error by row and column.
    """
    rows = _read(raw)
    seen: set[str] = set()
    plans = [_plan(access, i, cells, seen) for i, cells in enumerate(rows, start=2)]
    errors = [e for p in plans for e in p.errors]
    created = sum(1 for p in plans if p.member is None)
    result = {
        "dry_run": dry_run,
        "valid": not errors,
        "rows": len(plans),
        "created": created,
        "updated": len(plans) - created,
        "already_invited": sum(1 for p in plans if p.action == "details"),
        "errors": errors,
        # Per row: "invite" (not in this programme yet, whoever they are), "details" (invited
        # with the same roles within the hour: that email stands) or "update".
        "actions": [{"row": p.row, "action": p.action} for p in plans],
        "note": N_(
            "People not yet in this programme (created) get an email inviting them to join; "
            "they are added when they open it."
        ),
    }
    if dry_run:
        db.session.rollback()
        return result
    if errors:
        raise ImportRejected(
            _("%(num)d problem(s) in the file; nothing was imported.", num=len(errors)),
            {"csv": errors},
        )
    for plan in plans:
        _apply(access, plan)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ImportRejected(
            "The file conflicts with changes made meanwhile; nothing was imported. Try again."
        ) from None
    return result


def _cells(member: Member, membership: Membership) -> list[str]:
    city = city_by_id(member.city_id) if member.city_id else None
    profile = member.sponsor_profile if membership.is_sponsor else None
    roles = [r for r in membership.roles if r in IMPORT_ROLES]
    values = {
        "email": member.email,
        "display_name": member.display_name,
        "roles": ";".join(roles),
        "time_zone": member.time_zone,
        "gender": member.gender,
        "gender_rule": member.gender_rule,
        "fellowships": ";".join(member.fellowships or ()),
        "languages": ";".join(member.languages or ()),
        "city": city.name if city else None,
        "country": city.country if city else None,
        "contact_modes": ";".join(member.contact_modes or ()),
        "tags": ";".join(member.tags or ()),
        "age_band": member.age_band,
        "phone": member.phone,
    }
    if profile is not None:
        values.update(
            sobriety_date=profile.sobriety_date.isoformat(),
            steps_completed=str(profile.steps_completed),
            capacity=str(profile.capacity),
            accepting=str(profile.accepting).lower(),
            temporary_willing=str(profile.temporary_willing).lower(),
        )
    return [neutralise(values.get(h) or "") for h in EXPORTED]


def export_csv(access: Access) -> str:
    """The programme's newcomers and sponsors as UTF-8 CSV with a BOM: the EXPORTED columns
    only (no phone numbers, notes or passwords).

    The file holds emails and sobriety dates, so every export is audited: who took it, when,
    and how many people it held."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORTED)
    memberships = db.session.scalars(
        select(Membership)
        .join(Member, Member.id == Membership.member_id)
        .where(Membership.program_id == access.program.id)
        .where(Membership.is_newcomer | Membership.is_sponsor)
        .order_by(Member.email)
    )
    count = 0
    for membership in memberships:
        writer.writerow(_cells(membership.member, membership))
        count += 1
    audit(
        "csv_export",
        access.program,
        program_id=access.program.id,
        actor=access.member,
        details={"people": count},
    )
    db.session.commit()
    return "\ufeff" + out.getvalue()
