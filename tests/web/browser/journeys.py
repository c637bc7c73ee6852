"""Small steps the journeys share: words in the reader's language, logging in."""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import cache
from pathlib import Path

from api.seed import DEMO_PASSWORD

TRANSLATIONS = Path(__file__).resolve().parents[3] / "api" / "translations"


@cache
def words(lang: str) -> Callable[..., str]:
    """``say(msgid, **names)``: what a page in ``lang`` shows for ``msgid`` (the catalogue's
    own translation, so the tests follow the wording the translators chose)."""
    catalogue = gettext.translation("messages", TRANSLATIONS, [lang], fallback=lang == "en")

    def say(msgid: str, **names) -> str:
        text = catalogue.gettext(msgid)
        assert lang == "en" or text != msgid, f"no {lang} translation for {msgid!r}"
        return text % names if names else text

    return say


def log_in(page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Log in from the login page, as a person would type it."""
    page.goto("/login")
    page.locator("main input[name=email]").fill(email)
    page.locator("main input[name=password]").fill(password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, f"could not log in as {email}"
