"""The one form pattern: the API's schema validates, errors sit beside their field with the
form re-filled, an expired CSRF token re-shows the form, and success redirects (PRG)."""

from __future__ import annotations

import re

import pytest

from api.models import SponsorRequest
from tests.factories import PASSWORD


@pytest.fixture
def newcomer(make_program, make_member, client):
    program = make_program()
    member = make_member(program, "newcomer", languages=["en", "es"])
    res = client.post("/login", data={"email": member.email, "password": PASSWORD})
    assert res.status_code == 302
    return member


def _field_error(html: str, name: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="{name}-error">([^<]*)</p>', html)
    return found.group(1) if found else None


def test_errors_are_shown_beside_their_field_and_the_form_is_refilled(client, db, newcomer):
    res = client.post(
        "/sponsor/request",
        data={"in_person_needed": "y", "languages_required": "es", "note": "evenings best"},
    )
    html = res.get_data(as_text=True)
    assert res.status_code == 422
    assert _field_error(html, "max_distance_km") == "Needed when meeting in person: 1–500 km."
    assert 'aria-describedby="max_distance_km-hint max_distance_km-error"' in html
    assert 'aria-invalid="true"' in html
    # what the person typed or ticked is still there
    assert re.search(r'name="in_person_needed" value="y" checked', html)
    assert re.search(r'name="languages_required" value="es" checked', html)
    assert not re.search(r'name="languages_required" value="en" checked', html)
    assert "evenings best</textarea>" in html
    assert db.session.query(SponsorRequest).count() == 0  # nothing half-written


def test_marshmallow_messages_are_worded_for_people(client, newcomer):
    res = client.post("/sponsor/request", data={"in_person_needed": "y", "max_distance_km": "x"})
    assert _field_error(res.get_data(as_text=True), "max_distance_km") == "Enter a whole number."
    res = client.post("/sponsor/request", data={"max_distance_km": "900", "in_person_needed": "y"})
    assert (
        _field_error(res.get_data(as_text=True), "max_distance_km")
        == "Enter a number from 1 to 500."
    )


def test_errors_read_in_spanish_for_a_spanish_reader(client, db, newcomer):
    newcomer.locale = "es"
    db.session.commit()
    res = client.post("/sponsor/request", data={"in_person_needed": "y", "max_distance_km": "x"})
    html = res.get_data(as_text=True)
    assert '<html lang="es">' in html
    assert _field_error(html, "max_distance_km") == "Escribe un número entero."


def _summary(html: str) -> list[tuple[str, str]]:
    """The error summary at the top of the page: (link, words) for each item."""
    found = re.search(r'<div class="error-summary" role="alert"[^>]*>(.*?)</div>', html, re.S)
    return re.findall(r'<li><a href="([^"]+)">([^<]*)</a></li>', found.group(1)) if found else []


def test_a_failed_save_is_summed_up_at_the_top_of_the_page_with_links_to_the_fields(
    client, newcomer
):
    res = client.post("/sponsor/request", data={"in_person_needed": "y", "max_distance_km": "x"})
    html = res.get_data(as_text=True)
    assert _summary(html) == [("#max_distance_km", "How far can you travel? (km)")]
    assert 'id="max_distance_km"' in html  # the link leads to the field
    # it stands first in the page's main part, before the flashes and the form
    assert html.index('class="error-summary"') < html.index('<form method="post" action="/sponsor')
    assert re.search(r"<main[^>]*>\s*<div class=\"error-summary\"", html)
    assert "<title>Please check: " in html


def test_the_summary_names_a_form_level_error(app, client, newcomer):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        res = client.post("/sponsor/request", data={"csrf_token": "stale"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert _summary(res.get_data(as_text=True)) == [
        ("#form-error", "This form had expired. Please check it and try again.")
    ]


def test_a_page_without_errors_has_no_summary(client, newcomer):
    assert _summary(client.get("/sponsor").get_data(as_text=True)) == []
    assert 'class="error-summary"' not in client.get("/account").get_data(as_text=True)


def test_the_summary_reads_in_spanish(client, db, newcomer):
    newcomer.locale = "es"
    db.session.commit()
    res = client.post("/account/time-zone", data={"time_zone": "Mars/Olympus"})
    html = res.get_data(as_text=True)
    assert res.status_code == 422
    assert "Revisa, por favor:" in html
    assert _summary(html) == [("#time_zone", "Tu zona horaria")]


def test_success_redirects_and_the_next_get_shows_the_result(client, db, newcomer):
    res = client.post("/sponsor/request", data={"temporary_ok": "y"})
    assert res.status_code == 302 and res.headers["Location"] == "/sponsor"
    assert db.session.query(SponsorRequest).count() == 1
    page = client.get("/sponsor").get_data(as_text=True)
    assert "Nobody is free to ask yet" in page  # no sponsor in this programme


def test_an_expired_csrf_token_reshows_the_form_to_try_again(app, client, db, newcomer):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        res = client.post(
            "/sponsor/request",
            data={"csrf_token": "expired-or-forged", "note": "kept", "temporary_ok": "y"},
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    html = res.get_data(as_text=True)
    assert res.status_code == 422
    assert "This form had expired. Please check it and try again." in html
    assert "kept</textarea>" in html
    assert 'name="csrf_token" value="' in html  # a fresh token to try again with
    assert db.session.query(SponsorRequest).count() == 0


def test_a_one_tap_post_with_a_bad_token_answers_a_plain_page(app, client, newcomer):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        res = client.post("/sponsor/withdraw", data={"csrf_token": "nope"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    html = res.get_data(as_text=True)
    assert res.status_code == 400
    assert "This page had expired" in html and "tel:988" in html
    assert not html.lstrip().startswith("{")  # a page, not JSON


@pytest.mark.parametrize(
    ("status", "words"),
    [(404, "We could not find that page"), (429, "Too many tries")],
)
def test_html_errors_are_pages_with_the_crisis_line(app, client, status, words):
    if status == 429:
        app.config["LOGIN_RATE_LIMIT"], old = "1/minute", app.config["LOGIN_RATE_LIMIT"]
        try:
            for _ in range(2):
                res = client.post("/login", data={"email": "a@b.example", "password": "x"})
        finally:
            app.config["LOGIN_RATE_LIMIT"] = old
    else:
        res = client.get("/no-such-page", headers={"Accept": "text/html"})
    html = res.get_data(as_text=True)
    assert res.status_code == status
    assert words in html and 'href="tel:988"' in html


def test_api_errors_keep_their_json_shape(client):
    res = client.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})
    assert res.status_code == 404 and res.json["code"] == "not_found"
