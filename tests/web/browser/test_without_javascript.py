"""With JavaScript turned off, a newcomer still gets from the join link to an ask.

The pages are plain forms; JavaScript only guesses the time zone, so here it is chosen by hand."""

from __future__ import annotations

import pytest

from api.seed import DEMO_JOIN_CODE
from tests.web.browser.checks import phone, shot, weigh
from tests.web.browser.journeys import words

pytestmark = pytest.mark.browser

NAME, EMAIL, PASSWORD = "Ruth B.", "ruth.b@example.org", "no scripts needed"


def test_a_newcomer_gets_to_an_ask_without_javascript(live, browse):
    say = words("en")
    page = browse("en", javascript=False)
    main = page.locator("main")

    page.goto(f"/join/{DEMO_JOIN_CODE}")
    main.get_by_label(say("Your name as others see it"), exact=True).fill(NAME)
    main.get_by_label(say("Email"), exact=True).fill(EMAIL)
    main.get_by_label(say("Choose a password"), exact=True).fill(PASSWORD)
    mark = live.mark()
    main.get_by_role("button", name=say("Create my account")).click()
    assert main.locator("h1").inner_text() == say("Check your email")

    page.goto(live.link_in(live.mail_to(EMAIL, after=mark), "/verify/"))
    main.get_by_label(say("Woman"), exact=True).check()
    main.locator("input[name=fellowships][value=AA]").check()
    main.locator("input[name=languages][value=en]").check()
    main.get_by_role("button", name=say("Next")).click()
    main.get_by_label(say("Text messages"), exact=True).check()
    main.get_by_role("button", name=say("Next")).click()

    assert main.locator("h1").inner_text() == say("When you can talk")
    for day in (1, 3):
        main.locator(f"input[name=availability][value='{day}-afternoon']").check()
    main.get_by_label(say("Your time zone"), exact=True).select_option("America/Denver")
    phone(page)  # (axe itself needs JavaScript: the journeys run it on these pages)
    weigh(page)
    shot(page, "newcomer-no-javascript-times")
    main.get_by_role("button", name=say("Finish")).click()

    assert main.locator("h1").inner_text() == say("Ask for a sponsor")
    main.get_by_role("button", name=say("Show me sponsors")).click()
    assert main.locator("h1").inner_text() == say("Sponsors who fit you")
    main.get_by_role("button", name=say("Ask the best for me")).click()
    sponsor = main.locator("h1").inner_text()
    assert sponsor.startswith(say("You asked %(name)s", name="")), sponsor
