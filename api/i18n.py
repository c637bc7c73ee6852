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


class Worded(str):
    """A message with values in it: English as the API sends it, and its catalogue id and
    values, so a page can say it in the reader's language (``translate_error``)."""

    msgid: str
    values: dict


def worded(msgid: str, **values) -> Worded:
    """``msgid % values`` that a page can still translate; mark ``msgid`` with ``N_``."""
    text = Worded(msgid % values)
    text.msgid, text.values = msgid, values
    return text


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


def day_skeleton(moment, zone, now) -> str:
    """The date skeleton for ``moment`` in ``zone``: weekday, month and day, with the year
    when it is not ``now``'s year there, so last year's events never read as last week's."""
    this_year = moment.astimezone(zone).year == now.astimezone(zone).year
    return "MMMMEEEEd" if this_year else "yMMMMEEEEd"


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
    "Not a valid datetime.": lazy_gettext("Enter a date and time."),
    "Not a valid URL.": lazy_gettext("Enter a web address like https://example.org/hook."),
    "Number too large.": lazy_gettext("Enter a smaller number."),
    "Special numeric values (nan or infinity) are not permitted.": lazy_gettext("Enter a number."),
    "Not a valid list.": lazy_gettext("Choose one of the options."),
    "Invalid input type.": lazy_gettext("Please check what you wrote here."),
    "Not a valid boolean.": lazy_gettext("Choose yes or no."),
    "Not a valid string.": lazy_gettext("Enter some text."),
    "Not a valid UUID.": lazy_gettext("Choose one of the options."),
    "Must be one of the choices.": lazy_gettext("Choose one of the options."),
}
_LENGTH = (
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), "min"),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), "max"),
    (re.compile(r"^Length must be between (\d+) and (\d+)\.$"), "between"),
    (re.compile(r"^Length must be (\d+)\.$"), "equal"),
)
_NUMBER = (
    (
        re.compile(
            r"^Must be greater than or equal to (-?\d+) and less than or equal to (-?\d+)\.$"
        ),
        "between",
    ),
    (re.compile(r"^Must be greater than or equal to (-?\d+)\.$"), "min"),
    (re.compile(r"^Must be less than or equal to (-?\d+)\.$"), "max"),
)
_CHOICE = re.compile(r"^(Must be one of: .*|One or more of the choices you made was not in: .*)\.$")


def _at_least(num: int, many: bool) -> str:
    if many:
        return gettext("Choose at least one.") if num == 1 else gettext(
            "Choose at least %(num)d.", num=num
        )  # fmt: skip
    return ngettext("Use at least %(num)d character.", "Use at least %(num)d characters.", num)


def _at_most(num: int, many: bool) -> str:
    if many:
        return gettext("Choose only one.") if num == 1 else gettext(
            "Choose at most %(num)d.", num=num
        )  # fmt: skip
    return ngettext("Use at most %(num)d character.", "Use at most %(num)d characters.", num)


def _length(kind: str, numbers: list[int], value) -> str:
    """A length rule in words: choices for a list, characters for text. With what the person
    gave (``value``), "between" says the side they missed; nothing given is "fill this in"."""
    many = isinstance(value, list | tuple)
    size = None if value is None else len(value)
    if kind == "min":
        low, high = numbers[0], None
    elif kind == "max":
        low, high = None, numbers[0]
    elif kind == "equal":
        low = high = numbers[0]
    else:
        low, high = numbers
    if size == 0 and not many:
        return gettext("Please fill this in.")
    if low is not None and (size is None and high is None or size is not None and size < low):
        return _at_least(low, many)
    if high is not None and (size is None and low is None or size is not None and size > high):
        return _at_most(high, many)
    if low == high:
        if many:
            return gettext("Choose exactly %(num)d.", num=low)
        return ngettext("Use exactly %(num)d character.", "Use exactly %(num)d characters.", low)
    if many:
        return gettext("Choose from %(low)d to %(high)d.", low=low, high=high)
    return gettext("Use from %(low)d to %(high)d characters.", low=low, high=high)


def _number(kind: str, numbers: list[int]) -> str:
    if kind == "min":
        return gettext("Enter %(low)d or more.", low=numbers[0])
    if kind == "max":
        return gettext("Enter %(high)d or less.", high=numbers[0])
    return gettext("Enter a number from %(low)d to %(high)d.", low=numbers[0], high=numbers[1])


def translate_error(message: str, value=None) -> str:
    """An error message from a schema or a service, in the reader's language.

    Messages our code writes are in the catalogue (marked with ``N_`` or ``_`` where written);
    marshmallow's own are worded here. ``value`` is what the person gave for the field when the
    caller knows it (a list for a choice of several, text otherwise): it lets a length rule say
    "choose at least one" or "use at least 3 characters" rather than both ends.
    """
    if isinstance(message, Worded):
        return gettext(message.msgid, **message.values)
    if message in _FIXED:
        return str(_FIXED[message])
    for pattern, kind in _LENGTH:
        found = pattern.match(message)
        if found:
            return _length(kind, [int(x) for x in found.groups()], value)
    for pattern, kind in _NUMBER:
        found = pattern.match(message)
        if found:
            return _number(kind, [int(x) for x in found.groups()])
    if _CHOICE.match(message):
        return gettext("Choose one of the options.")
    return gettext(message)
