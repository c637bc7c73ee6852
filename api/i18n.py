"""Languages: the reader's locale and time zone, and the wording of values that pages show.

Pages and emails speak English or Spanish. A member's saved choice wins; a visitor's choice
(the language buttons in every page's footer, kept in a cookie) comes next, then the browser's
``Accept-Language``. Times are shown in the member's IANA zone.
"""

from __future__ import annotations

import re

from flask import Flask, request
from flask_babel import gettext, lazy_gettext, ngettext
from flask_login import current_user

LANGUAGES = {"en": "English", "es": "Español"}
DEFAULT_LOCALE = "en"
LANG_COOKIE = "lang"


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it here (it is translated where
    it is shown, e.g. a schema's error message shown beside a field)."""
    return message


def _member():
    try:
        return current_user if current_user and current_user.is_authenticated else None
    except RuntimeError:  # outside a request
        return None


def select_locale() -> str:
    member = _member()
    if member is not None and member.locale in LANGUAGES:
        return member.locale
    return visitor_locale() or DEFAULT_LOCALE


def visitor_locale() -> str | None:
    """The language this request's pages speak to someone not logged in (the footer's choice,
    then the browser's), or None outside a request. Sign-up keeps it as the member's, so
    their emails speak it too."""
    if not request:
        return None
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LOCALE


def select_timezone() -> str:
    member = _member()
    return member.time_zone if member is not None and member.time_zone else "UTC"


def init_app(app: Flask) -> None:
    from api.extensions import babel

    babel.init_app(
        app,
        default_locale=DEFAULT_LOCALE,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
    )


# marshmallow's own messages, and the formatted ones, worded for people in either language.
_FIXED = {
    "Missing data for required field.": lazy_gettext("Please fill this in."),
    "Field may not be null.": lazy_gettext("Please fill this in."),
    "Not a valid email address.": lazy_gettext("Enter an email address like name@example.org."),
    "Not a valid integer.": lazy_gettext("Enter a whole number."),
    "Not a valid number.": lazy_gettext("Enter a number."),
    "Not a valid date.": lazy_gettext("Enter a date."),
    "Not a valid boolean.": lazy_gettext("Choose yes or no."),
    "Not a valid string.": lazy_gettext("Enter some text."),
    "Not a valid UUID.": lazy_gettext("Choose one of the options."),
    "Must be one of the choices.": lazy_gettext("Choose one of the options."),
}
_PATTERNS = (
    (
        re.compile(r"^Longer than maximum length (\d+)\.$"),
        lambda n: ngettext("Use at most %(num)d character.", "Use at most %(num)d characters.", n),
    ),
    (
        re.compile(r"^Shorter than minimum length (\d+)\.$"),
        lambda n: ngettext(
            "Use at least %(num)d character.", "Use at least %(num)d characters.", n
        ),
    ),
    (
        re.compile(
            r"^Must be greater than or equal to (-?\d+) and less than or equal to (-?\d+)\.$"
        ),
        None,
    ),
    (re.compile(r"^Must be one of: .*\.$"), lambda: gettext("Choose one of the options.")),
)


def translate_error(message: str) -> str:
    """An error message from a schema or a service, in the reader's language.

    Messages our code writes are in the catalogue (marked with ``N_`` or ``_`` where written);
    marshmallow's own are worded here.
    """
    if message in _FIXED:
        return str(_FIXED[message])
    for pattern, word in _PATTERNS:
        found = pattern.match(message)
        if not found:
            continue
        if word is None:
            low, high = (int(x) for x in found.groups())
            return gettext("Enter a number from %(low)d to %(high)d.", low=low, high=high)
        return word(*(int(x) for x in found.groups())) if found.groups() else word()
    return gettext(message)
