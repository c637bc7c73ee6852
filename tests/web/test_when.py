"""The ``when`` filter: a moment in the reader's zone and language, with the year only when it
is not this year (so last year's "Sun, November 30" never reads as last Sunday)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.models import utcnow
from api.web.context import waited, when


def _in(app, lang: str, value) -> str:
    with app.test_request_context(headers={"Accept-Language": lang}):
        return when(value)


@pytest.mark.parametrize(
    ("lang", "words"), [("en", "November 30, 2025"), ("es", "30 de noviembre de 2025")]
)
def test_a_moment_in_another_year_shows_its_year(app, lang, words):
    assert words in _in(app, lang, datetime(2025, 11, 30, 18, 0, tzinfo=UTC))


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_moment_this_year_shows_no_year(app, lang):
    now = utcnow()
    moment = now.replace(month=6, day=15, hour=12)
    assert str(now.year) not in _in(app, lang, moment)
    assert str(now.year + 1) in _in(app, lang, now.replace(month=6, day=15) + timedelta(days=366))


def test_a_naive_utc_moment_is_read_as_utc(app):
    assert "2025" in _in(app, "en", datetime(2025, 3, 1, 12, 0))


@pytest.mark.parametrize(
    ("days", "en", "es"),
    [
        (0.4, "less than a day", "menos de un día"),
        (1.2, "1 day", "1 día"),
        (5.9, "5 days", "5 días"),
        (21, "3 weeks", "3 semanas"),
        (100, "3 months", "3 meses"),
        (365.5, "1 year", "1 año"),
        (418.6, "1 year, 1 month", "1 año y 1 mes"),
        (800, "2 years, 2 months", "2 años y 2 meses"),
    ],
)
def test_a_wait_reads_in_words(app, days, en, es):
    """The dashboard's waits ("418.6" days) as people say them."""
    for lang, words in (("en", en), ("es", es)):
        with app.test_request_context(headers={"Accept-Language": lang}):
            assert waited(days) == words
