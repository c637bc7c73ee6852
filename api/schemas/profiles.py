"""Wire formats for a member's own profile and sponsor profile, with their validators."""

from __future__ import annotations

import re
from datetime import date

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_dump,
    validate,
    validates,
    validates_schema,
)

from api.gazetteer import City, city_by_id, find_city
from api.i18n import N_, worded
from api.milestone_dates import EARLIEST, TOO_EARLY
from api.schemas.common import (
    TimeZone,
    validate_display_name,
    validate_pause_until,
    validate_time_zone,
)

GENDERS = ("woman", "man", "nonbinary", "other")
GENDER_RULES = ("program_default", "same", "any")
CONTACT_MODES = ("phone", "text", "video", "in_person")
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
MAX_SLOTS = 21

# ISO 639-1 two-letter language codes.
ISO_639_1 = frozenset(
    """aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy
    da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu
    hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb
    lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om
    or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw
    ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
    """.split()
)
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_PHONE = re.compile(r"^\+[0-9][0-9 ().\-]{5,24}$")


def validate_language(value: str) -> None:
    if value not in ISO_639_1:
        raise ValidationError(N_("Use a two-letter ISO 639-1 language code, e.g. en, es."))


def validate_phone(value: str) -> None:
    """International format: a leading + and 7–15 digits; spaces, dots and dashes allowed."""
    digits = sum(ch.isdigit() for ch in value)
    if not _PHONE.match(value) or not 7 <= digits <= 15:
        raise ValidationError(N_("Use international format with a country code, e.g. +1 555 0100."))


def unique(values: list) -> list:
    return list(dict.fromkeys(values))


def _location_out(member) -> dict | None:
    if member.city_id is None:
        return None
    city = city_by_id(member.city_id)
    name, country = (city.name, city.country) if city else (member.city_label, None)
    return {"city": name, "country": country, "label": member.city_label}


def _location_in(value) -> City | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"city", "country"}:
        raise ValidationError('Give {"city": "Portland", "country": "US"}, nothing more.')
    name, country = value.get("city"), value.get("country")
    if not isinstance(name, str) or not isinstance(country, str) or not name.strip():
        raise ValidationError(N_("Both city and a two-letter country code are needed."))
    if not re.fullmatch(r"[A-Za-z]{2}", country.strip()):
        raise ValidationError(N_("Use the two-letter country code, like US or MX."))
    city = find_city(name, country)
    if city is None:
        raise ValidationError(
            worded(
                N_("We do not know a city called “%(name)s” in %(country)s."),
                name=name,
                country=country.upper(),
            )
        )
    return city


class SlotSchema(Schema):
    """One weekly availability slot in the member's local time (0 = Monday)."""

    day = fields.Integer(required=True, validate=validate.Range(0, 6))
    start = fields.String(required=True, validate=validate.Regexp(_HHMM, error=N_("Use HH:MM.")))
    end = fields.String(required=True, validate=validate.Regexp(_HHMM, error=N_("Use HH:MM.")))

    @validates_schema
    def _order(self, data: dict, **kwargs) -> None:
        if data["start"] >= data["end"]:
            raise ValidationError(N_("end must be after start."), "end")


def _codes(validator, max_len: int) -> fields.List:
    return fields.List(fields.String(validate=validator), validate=validate.Length(max=max_len))


class ProfileSchema(Schema):
    """The member's own full profile. Contact details here are revealed only inside a
    sponsorship; ``location`` is a gazetteer city, stored as id + rounded coordinates."""

    id = fields.UUID(attribute="uuid", dump_only=True)
    email = fields.String(dump_only=True)
    display_name = fields.String(validate=validate_display_name)
    time_zone = TimeZone(validate=validate_time_zone)
    gender = fields.String(allow_none=True, validate=validate.OneOf(GENDERS))
    gender_rule = fields.String(validate=validate.OneOf(GENDER_RULES))
    fellowships = fields.List(
        fields.String(validate=validate.Length(1, 20)), validate=validate.Length(max=10)
    )
    cross_fellowship_ok = fields.Boolean()
    languages = _codes(validate_language, 10)
    location = fields.Function(serialize=_location_out, deserialize=_location_in, allow_none=True)
    contact_modes = _codes(validate.OneOf(CONTACT_MODES), len(CONTACT_MODES))
    availability = fields.List(fields.Nested(SlotSchema), validate=validate.Length(max=MAX_SLOTS))
    tags = fields.List(
        fields.String(validate=validate.Length(1, 30)), validate=validate.Length(max=20)
    )
    # Which of ``tags`` others may see ("you share ..."); the rest are used for matching only.
    tags_shown = fields.List(
        fields.String(validate=validate.Length(1, 30)), validate=validate.Length(max=20)
    )
    age_band = fields.String(allow_none=True, validate=validate.OneOf(AGE_BANDS))
    about = fields.String(allow_none=True, validate=validate.Length(max=500))
    phone = fields.String(allow_none=True, validate=validate_phone)
    contact_email = fields.Email(allow_none=True, validate=validate.Length(max=254))


def _sobriety_date(value: date) -> None:
    """Not in the future, nor before 1920 (as the milestones page's date)."""
    if value > date.today():
        raise ValidationError(N_("Cannot be in the future."))
    if value < EARLIEST:
        raise ValidationError(TOO_EARLY)


class ProgramEligibilitySchema(Schema):
    program_id = fields.UUID(dump_only=True)
    program_name = fields.String(dump_only=True)
    eligible = fields.Boolean(dump_only=True)
    reasons = fields.List(fields.String(), dump_only=True)


class SponsorProfileSchema(Schema):
    """The caller's own sponsor profile; ``load`` and eligibility are computed by the server."""

    sobriety_date = fields.Date(required=True, validate=_sobriety_date)
    steps_completed = fields.Integer(load_default=0, validate=validate.Range(0, 12))
    capacity = fields.Integer(load_default=2, validate=validate.Range(1, 10))
    accepting = fields.Boolean(load_default=True)
    paused_until = fields.Date(allow_none=True, load_default=None)
    pause_reason = fields.String(
        allow_none=True, load_default=None, validate=validate.Length(max=300)
    )
    temporary_willing = fields.Boolean(load_default=True)
    service_sponsor_willing = fields.Boolean(load_default=False)
    load = fields.Integer(dump_only=True)
    availability_confirmed_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    eligible = fields.Dict(keys=fields.String(), values=fields.Boolean(), dump_only=True)
    eligibility = fields.List(fields.Nested(ProgramEligibilitySchema), dump_only=True)

    @validates("paused_until")
    def _pause_date(self, value: date | None, data_key: str) -> None:
        validate_pause_until(value)


class RequestEventSchema(Schema):
    event = fields.String(dump_only=True)
    at = fields.DateTime(dump_only=True)


class SponsorRequestSchema(Schema):
    """A newcomer's request with preferences; the note is private to them (and to their
    coordinators when they allow it)."""

    id = fields.UUID(attribute="uuid", dump_only=True)
    program_id = fields.Function(lambda r: str(r.program.uuid), dump_only=True)
    status = fields.String(dump_only=True)
    sponsor_gender = fields.String(
        allow_none=True, load_default=None, validate=validate.OneOf((*GENDERS, "any"))
    )
    languages_required = fields.List(
        fields.String(validate=validate_language),
        load_default=list,
        validate=validate.Length(max=5),
    )
    in_person_needed = fields.Boolean(load_default=False)
    max_distance_km = fields.Integer(
        allow_none=True, load_default=None, validate=validate.Range(1, 500)
    )
    temporary_ok = fields.Boolean(load_default=True)
    note = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=500))
    note_for_coordinator = fields.Boolean(
        load_default=False,
        metadata={"description": "My coordinator may read my note (otherwise only I can)."},
    )
    created_at = fields.DateTime(dump_only=True)
    first_shortlist_at = fields.DateTime(dump_only=True)
    matched_at = fields.DateTime(dump_only=True)
    closed_at = fields.DateTime(dump_only=True)
    history = fields.List(fields.Nested(RequestEventSchema), attribute="events", dump_only=True)

    @post_dump(pass_original=True)
    def _note_for_its_reader(self, data: dict, request, **kwargs) -> dict:
        """The note goes to the newcomer who wrote it; a coordinator reads it only when the
        newcomer ticked "my coordinator may read this"."""
        from api.auth import request_member

        viewer = request_member()
        owner = viewer is not None and viewer.id == request.newcomer_id
        if not owner and not request.note_for_coordinator:
            data["note"] = None
        return data

    @validates_schema
    def _distance(self, data: dict, **kwargs) -> None:
        if data.get("in_person_needed") and data.get("max_distance_km") is None:
            raise ValidationError(N_("Needed when meeting in person: 1–500 km."), "max_distance_km")


class SponsorProfilePatchSchema(SponsorProfileSchema):
    """The sponsor profile with every field optional (PATCH)."""

    def __init__(self, **kwargs):
        super().__init__(partial=True, **kwargs)
