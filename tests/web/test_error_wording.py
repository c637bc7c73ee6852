"""Error messages reach people in words, in their language: marshmallow's own messages are
reworded (a choice of several says "choose", text says "characters"), and ours are in the
catalogue, with their values when they carry some."""

from __future__ import annotations

import re

import pytest

from api.extensions import db
from api.i18n import N_, translate_error, worded
from tests.api.workflow_fixture import open_request, world_fixture  # noqa: F401
from tests.web.test_console import base, login, text


@pytest.mark.parametrize(
    ("message", "given", "en", "es"),
    [
        (
            "Length must be between 1 and 2.",
            [],
            "Choose at least one.",
            "Elige al menos una opción.",
        ),
        (
            "Length must be between 1 and 2.",
            ["a", "b", "c"],
            "Choose at most 2.",
            "Elige 2 como máximo.",
        ),
        (
            "Length must be between 3 and 300.",
            "",
            "Please fill this in.",
            "Rellena este campo, por favor.",
        ),
        (
            "Length must be between 3 and 300.",
            "ab",
            "Use at least 3 characters.",
            "Usa al menos 3 caracteres.",
        ),
        (
            "Length must be between 3 and 300.",
            None,
            "Use from 3 to 300 characters.",
            "Usa de 3 a 300 caracteres.",
        ),
        (
            "Shorter than minimum length 1.",
            [],
            "Choose at least one.",
            "Elige al menos una opción.",
        ),
        ("Longer than maximum length 1.", ["a", "b"], "Choose only one.", "Elige solo una opción."),
        ("Must be greater than or equal to 1.", None, "Enter 1 or more.", "Escribe 1 o más."),
        ("Not a valid datetime.", None, "Enter a date and time.", "Escribe una fecha y una hora."),
        ("Cannot be in the past.", None, "Cannot be in the past.", "No puede ser en el pasado."),
    ],
)
def test_messages_are_worded_for_people_in_both_languages(app, message, given, en, es):
    for lang, expected in (("en", en), ("es", es)):
        with app.test_request_context(headers={"Accept-Language": lang}):
            assert translate_error(message, given) == expected


def test_a_message_with_values_is_english_for_the_api_and_translated_on_a_page(app):
    message = worded(N_("Choose a fellowship this programme has: %(known)s."), known="AA, NA")
    assert message == "Choose a fellowship this programme has: AA, NA."
    with app.test_request_context(headers={"Accept-Language": "es"}):
        assert translate_error(message) == "Elige una comunidad de este programa: AA, NA."


@pytest.fixture
def w(world):
    w = world(n_sponsors=2, n_newcomers=1, capacity=1)
    open_request(w.newcomers[0], w.program)
    w.coordinator.locale = "es"
    db.session.commit()
    return w


def _field_error(html: str, name: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="{name}-error">([^<]*)</p>', html)
    return found.group(1) if found else None


def test_an_invitation_with_no_role_asks_to_choose_one(client, w):
    login(client, w.coordinator)
    res = client.post(base(w) + "/invite", data={"email": "new.person@example.org"})
    page = text(res)
    assert res.status_code == 422
    assert _field_error(page, "roles") == "Elige al menos una opción."
    assert '<fieldset id="roles"' in page and '<a href="#roles">' in page  # and in the summary


def test_an_empty_reason_asks_to_fill_it_in(client, w):
    login(client, w.coordinator)
    url = f"{base(w)}/members/{w.sponsors[0].uuid}/pause"
    res = client.post(url, data={"reason": ""})
    assert _field_error(text(res), "reason") == "Rellena este campo, por favor."
    res = client.post(url, data={"reason": "no", "until": "2001-01-01"})
    assert _field_error(text(res), "reason") == "Usa al menos 3 caracteres."
    assert _field_error(text(res), "until") == "No puede ser en el pasado."


def test_settings_errors_are_in_spanish_and_a_wrong_weight_stands_beside_its_box(client, w):
    login(client, w.coordinator)
    url = base(w) + "/settings"
    res = client.post(url, data={"quiet_hours_start": "9pm", "weight_language": "12"})
    page = text(res)
    assert res.status_code == 422
    assert _field_error(page, "quiet_hours_start") == (
        "Usa el formato de 24 horas HH:MM, por ejemplo 21:00."
    )
    assert _field_error(page, "weight_language") == "Escribe un número del 0 al 10."
    assert _field_error(page, "match_weights") is None
