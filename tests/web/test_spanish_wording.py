"""Spanish reads as Spanish: language names lowercase in running text, decimals with a comma,
no verb that disagrees with its list, and a sponsor addressed without assuming a man."""

from __future__ import annotations

import pytest

from api.web import wording
from api.web.context import number


@pytest.fixture
def es(app):
    with app.test_request_context(headers={"Accept-Language": "es"}):
        yield


@pytest.fixture
def en(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def test_language_names_are_lowercase_in_a_spanish_sentence(es):
    reason = {"code": "shared_language", "args": {"items": ["en", "es"]}}
    assert wording.reason_text(reason) == "Los dos hablan inglés y español"
    assert wording.pair_reason_text(reason) == "Ambos hablan inglés y español"
    assert wording.languages_text(["en", "es"]) == "Inglés y español"  # a list on its own
    assert ("es", "Español") in wording.language_options(["en", "es"])  # an option starts a line


def test_language_names_keep_their_capitals_in_english(en):
    reason = {"code": "shared_language", "args": {"items": ["en", "es"]}}
    assert wording.reason_text(reason) == "You both speak English and Spanish"


def test_shared_ways_to_talk_read_without_a_verb_to_agree(es):
    reason = {"code": "shared_contact_modes", "args": {"items": ["in_person"]}}
    assert wording.reason_text(reason) == "Los dos prefieren verse en persona"
    reason = {"code": "shared_contact_modes", "args": {"items": ["phone", "in_person"]}}
    assert wording.pair_reason_text(reason) == "Ambos prefieren llamadas y verse en persona"


def test_decimals_are_written_as_the_reader_writes_them(app):
    with app.test_request_context(headers={"Accept-Language": "es"}):
        assert number(0.3333, 2) == "0,33" and number(418.6) == "418,6"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert number(0.3333, 2) == "0.33" and number(None) == ""


def test_a_sponsor_is_addressed_as_padrino_o_madrina(es):
    from flask_babel import gettext

    assert wording.label(wording.ROLES, "sponsor") == "Padrino o madrina"
    assert gettext("You sponsor %(name)s", name="Jon T.") == "Apadrinas a Jon T."
