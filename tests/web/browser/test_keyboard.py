"""The newcomer's whole journey with the keyboard alone: Tab, Space, Enter and typing.

Every control is reached by Tab (in the page's own order, with a visible focus), ticked with
Space and sent with Enter; no clicks. Only opening the emailed link is done by address, as a
person opens it from their mail.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from api.seed import DEMO_JOIN_CODE
from tests.web.browser.checks import tab_to
from tests.web.browser.journeys import log_in, words

pytestmark = pytest.mark.browser

NAME, EMAIL, PASSWORD = "Theo K.", "theo.k@example.org", "keys only, no mouse"


def test_the_newcomer_journey_with_the_keyboard_alone(live, browse):
    say = words("en")
    page = browse("en")
    main = page.locator("main")

    def press(target) -> None:
        """Tab to a button or link and press Enter; wait for the page it opens."""
        tab_to(page, target)
        with page.expect_navigation():
            page.keyboard.press("Enter")

    def tick(target) -> None:
        tab_to(page, target)
        if not target.is_checked():
            page.keyboard.press("Space")
        assert target.is_checked()

    def type_into(target, text: str) -> None:
        tab_to(page, target)
        page.keyboard.type(text)

    page.goto(f"/join/{DEMO_JOIN_CODE}")
    tick(main.get_by_label(say("I'm looking for a sponsor"), exact=True))
    type_into(main.get_by_label(say("Your name as others see it"), exact=True), NAME)
    type_into(main.get_by_label(say("Email"), exact=True), EMAIL)
    type_into(main.get_by_label(say("Choose a password"), exact=True), PASSWORD)
    mark = live.mark()
    with page.expect_navigation():
        page.keyboard.press("Enter")  # sends the form from its last field
    assert main.locator("h1").inner_text() == say("Check your email")

    page.goto(live.link_in(live.mail_to(EMAIL, after=mark), "/verify/"))
    assert main.locator("h1").inner_text() == say("About you")
    tick(main.get_by_label(say("Man"), exact=True))
    tick(main.locator("input[name=fellowships][value=AA]"))
    tick(main.locator("input[name=languages][value=en]"))
    press(main.get_by_role("button", name=say("Next")))

    assert main.locator("h1").inner_text() == say("How you like to talk")
    tick(main.get_by_label(say("Phone calls"), exact=True))
    type_into(main.get_by_label(say("Phone (optional)"), exact=True), "+1 555 0199")
    press(main.get_by_role("button", name=say("Next")))

    assert main.locator("h1").inner_text() == say("When you can talk")
    tick(main.locator("input[name=availability][value='5-morning']"))
    tick(main.locator("input[name=availability][value='6-morning']"))
    press(main.get_by_role("button", name=say("Finish")))

    assert main.locator("h1").inner_text() == say("Ask for a sponsor")
    press(main.get_by_role("button", name=say("Show me sponsors")))
    assert main.locator("h1").inner_text() == say("Sponsors who fit you")
    sponsor = main.locator("article.card h2").first.inner_text()
    mark = live.mark()
    press(main.get_by_role("button", name=say("Ask %(name)s", name=sponsor)))
    assert main.locator("h1").inner_text() == say("You asked %(name)s", name=sponsor)

    # The sponsor says yes on their own phone (their part is not this test's subject).
    sponsor_phone = browse("en")
    log_in(sponsor_phone, str(live.mail_to("@demo.example", after=mark)["To"]))
    sponsor_phone.goto("/asks")
    sponsor_phone.get_by_role("button", name=say("Yes, I will sponsor %(name)s", name=NAME)).click()

    press(page.locator("nav.menu").get_by_role("link", name=say("Sponsor"), exact=True))
    assert main.locator("h1").inner_text() == say("Your sponsor is %(name)s", name=sponsor)
    expect(main.locator("a[href^='tel:']")).to_have_count(1)
    press(main.get_by_role("button", name=say("We talked")))
    assert main.locator(".flash").inner_text() == say("Noted. Thank you for staying in touch.")
