"""The ``when`` filter: a moment in the reader's zone and language, with the year only when it
is not this year (so last year's "Sun, November 30" never reads as last Sunday)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.models import utcnow
from api.web.context import when


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
