"""The public view of a member: only the agreed keys, coarse bands, nothing private."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from api.schemas.public import PUBLIC_FIELDS, PublicMemberSchema, public_view, sobriety_band
from tests.privacy import assert_no_private_fields

TODAY = date(2026, 6, 1)


@pytest.mark.parametrize(
    ("days", "band"),
    [(10, "under 1 year"), (400, "1–2 years"), (3 * 365, "2–5 years"), (7 * 365, "5–10 years")]
    + [(11 * 365, "10+ years")],
)
def test_sobriety_bands(days, band):
    assert sobriety_band(TODAY - timedelta(days=days), TODAY) == band


def _locate(member, lat, lon, label):
    member.lat, member.lon, member.city_label, member.city_id = lat, lon, label, 1


def test_public_view_has_only_public_keys_and_no_private_values(make_program, make_member, db):
    program = make_program()
    sponsor = make_member(
        program,
        "sponsor",
        tags=["veteran", "parent"],
        tags_shown=["veteran", "parent"],
        about="I like long walks by the river.",
        contact_email="private@example.test",
        age_band="35-44",
        sponsor={"pause_reason": "family matters"},
    )
    viewer = make_member(
        program, "newcomer", tags=["parent", "secular"], tags_shown=["parent", "secular"]
    )
    _locate(sponsor, 45.52, -122.68, "Portland, US")
    _locate(viewer, 45.5, -122.6, "Gresham, US")
    db.session.commit()

    view = public_view(sponsor, viewer, program)
    assert tuple(view) == PUBLIC_FIELDS
    assert view["shared_tags"] == ["parent"]
    assert view["distance_band"] == "5–25 km"
    assert view["sobriety_band"] == "2–5 years"
    text = json.dumps(PublicMemberSchema().dump(view))
    assert_no_private_fields(text, sponsor)


def test_bands_are_null_without_location_or_sponsor_role(make_program, make_member):
    program = make_program()
    newcomer = make_member(program, "newcomer")
    view = public_view(newcomer, None, program)
    assert view["sobriety_band"] is None
    assert view["distance_band"] is None
    assert view["shared_tags"] == []


def test_sobriety_band_only_where_member_sponsors(make_program, make_member):
    here, elsewhere = make_program(), make_program()
    sponsor = make_member(elsewhere, "sponsor")
    assert public_view(sponsor, None, here)["sobriety_band"] is None
    assert public_view(sponsor, None, elsewhere)["sobriety_band"] == "2–5 years"


def test_the_privacy_check_allows_only_the_partners_contact_inside_contact(make_member):
    from tests.privacy import SPONSORSHIP_CONTACT

    partner = make_member(
        None, email="login@example.test", contact_email="reach@example.test", about="A long story."
    )
    contact = {"phone": partner.phone, "contact_email": partner.contact_email}
    ok = {"other": {"id": "x"}, "contact": contact}
    assert_no_private_fields(json.dumps(ok), partner, allow=SPONSORSHIP_CONTACT)
    with pytest.raises(AssertionError):
        assert_no_private_fields(json.dumps(ok), partner)  # not allowed without a sponsorship
    leaks = [
        {"other": {"phone": partner.phone}},  # contact details outside "contact"
        {"contact": {"phone": partner.phone}, "about": "A long story."},
        {"contact": {"contact_email": partner.email}},  # the login email is never shared
    ]
    for leak in leaks:
        with pytest.raises(AssertionError):
            assert_no_private_fields(json.dumps(leak), partner, allow=SPONSORSHIP_CONTACT)
