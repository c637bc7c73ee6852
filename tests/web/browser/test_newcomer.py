"""The newcomer's journey on a phone, in English and in Spanish: ask → shortlist → ask → waiting."""

from __future__ import annotations

import pytest

from tests.web.browser.checks import look
from tests.web.browser.journeys import log_in, words

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("lang", "email"), [("en", "newcomer5@demo.example"), ("es", "newcomer6@demo.example")]
)
def test_a_newcomer_asks_for_a_sponsor(browse, lang, email):
    say = words(lang)
    page = browse(lang)
    shot = f"newcomer-{lang}" if lang != "en" else "newcomer"
    log_in(page, email)

    page.goto("/sponsor")
    main = page.locator("main")
    assert main.locator("h1").inner_text() == say("Ask for a sponsor")
    look(page, f"{shot}-01-ask")

    main.get_by_role("button", name=say("Show me sponsors")).click()
    assert main.locator("h1").inner_text() == say("Sponsors who fit you")
    cards = main.locator("article.card")
    assert cards.count() >= 1
    first = cards.first
    name = first.locator("h2").inner_text()
    assert first.locator("ul.reasons li").count() >= 1, "each sponsor comes with reasons"
    look(page, f"{shot}-02-shortlist")

    first.get_by_role("button", name=say("Ask %(name)s", name=name)).click()
    assert main.locator(".flash").inner_text() == say("We asked %(name)s for you.", name=name)
    assert main.locator("h1").inner_text() == say("You asked %(name)s", name=name)
    assert main.get_by_role("button", name=say("Withdraw my request")).is_visible()
    look(page, f"{shot}-03-waiting")
