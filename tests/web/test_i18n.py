"""Both languages are complete: every string the code marks has a Spanish translation, the
compiled catalogue matches its source, and a reader gets their language."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "api" / "translations" / "es" / "LC_MESSAGES"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "N_": None,
}
METHODS = [("api/**.py", "python"), ("jobs/**.py", "python"), ("api/templates/**.html", "jinja2")]


def _marked() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return {m for m in found if m}


def _spanish():
    with open(CATALOGUE / "messages.po", "rb") as fh:
        return read_po(fh, locale="es")


def test_every_marked_string_has_a_spanish_translation():
    catalogue = _spanish()
    done = {}
    for message in catalogue:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        # a plural needs every form Spanish has (three), or some counts fall back to English
        forms = catalogue.num_plurals if message.pluralizable else 1
        done[key] = len(strings) == forms and all(strings) and "fuzzy" not in message.flags
    missing = sorted(m for m in _marked() if not done.get(m))
    assert not missing, (
        f"{len(missing)} strings have no Spanish yet (run `make translations`, then translate "
        f"them in {CATALOGUE / 'messages.po'}):\n" + "\n".join(missing[:40])
    )


def test_the_compiled_catalogue_matches_its_source():
    def plain(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    with open(CATALOGUE / "messages.mo", "rb") as fh:
        compiled = {plain(m.id): plain(m.string) for m in read_mo(fh) if m.id}
    source = {
        plain(m.id): plain(m.string)
        for m in _spanish()
        if m.id
        and "fuzzy" not in m.flags
        and all(plain(m.string) if m.pluralizable else [m.string])
    }
    assert compiled == source, "run `make translations` to compile messages.mo"


def test_a_visitor_gets_their_browser_language_and_can_switch(client):
    page = client.get("/login", headers={"Accept-Language": "es-MX,es;q=0.9"})
    assert '<html lang="es">' in page.get_data(as_text=True)
    assert "Línea de Prevención del Suicidio" in page.get_data(as_text=True)
    res = client.post("/language", data={"locale": "en", "next": "/login"})
    assert res.status_code == 302 and res.headers["Location"] == "/login"
    page = client.get("/login", headers={"Accept-Language": "es"})
    assert '<html lang="en">' in page.get_data(as_text=True)


def test_the_language_switch_refuses_unknown_languages_and_other_sites(client):
    assert client.post("/language", data={"locale": "xx"}).status_code == 400
    res = client.post("/language", data={"locale": "es", "next": "//evil.example/"})
    assert res.headers["Location"] == "/"


@pytest.mark.parametrize(
    ("items", "said"),
    [
        (["español", "inglés"], "español e inglés"),
        (["francés", "español", "italiano"], "francés, español e italiano"),
        (["agua", "hielo"], "agua y hielo"),  # hie-: the i is a consonant
        (["padres", "hijos"], "padres e hijos"),
        (["llamadas", "mensajes"], "llamadas y mensajes"),
    ],
)
def test_spanish_lists_say_e_before_the_sound_i(app, items, said):
    from api.web import wording

    with app.test_request_context(headers={"Accept-Language": "es"}):
        assert wording.join(items) == said


def test_language_choices_sort_accented_names_with_their_letter(app):
    from api.web import wording

    with app.test_request_context(headers={"Accept-Language": "es"}):
        names = [name for _, name in wording.language_options()]
    assert names.index("Árabe") < names.index("Chino") < names.index("Vietnamita")
