"""The newcomer's whole journey on a phone, in English and in Spanish.

join link → account → the confirmation email → three profile steps → ask for a sponsor →
shortlist → ask one → waiting → the sponsor says yes (on their own phone) → the sponsor's
contact details → "we talked".
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from api.seed import DEMO_JOIN_CODE
from tests.web.browser import checks
from tests.web.browser.checks import look
from tests.web.browser.journeys import log_in, words

pytestmark = pytest.mark.browser

PEOPLE = {
    "en": {"name": "Nina R.", "email": "nina.r@example.org", "zone": "America/Chicago"},
    "es": {"name": "Lucía M.", "email": "lucia.m@example.org", "zone": "America/Mexico_City"},
}
PASSWORD = "one day at a time"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_newcomer_journey(live, browse, lang):
    say, me = words(lang), PEOPLE[lang]
    prefix = "newcomer" if lang == "en" else "newcomer-es"
    page = browse(lang, time_zone=me["zone"])
    main = page.locator("main")

    page.goto(f"/join/{DEMO_JOIN_CODE.lower()}")
    assert main.locator("h1").inner_text() == say("Join %(programme)s", programme="Demo Intergroup")
    look(page, f"{prefix}-01-join")

    main.get_by_label(say("I'm looking for a sponsor"), exact=True).check()
    main.get_by_label(say("Your name as others see it"), exact=True).fill(me["name"])
    main.get_by_label(say("Email"), exact=True).fill(me["email"])
    main.get_by_label(say("Choose a password"), exact=True).fill(PASSWORD)
    mark = live.mark()
    main.get_by_role("button", name=say("Create my account")).click()
    assert main.locator("h1").inner_text() == say("Check your email")
    look(page, f"{prefix}-02-check-email")

    email = live.mail_to(me["email"], after=mark)
    page.goto(live.link_in(email, "/verify/"))
    assert say("Your email address is confirmed. Welcome!") in main.locator(".flash").inner_text()
    assert main.locator("h1").inner_text() == say("About you")
    assert main.locator(".steps").inner_text() == say("Step %(number)d of 3", number=1)
    look(page, f"{prefix}-03-about-you")

    main.get_by_label(say("Woman"), exact=True).check()
    main.get_by_label(say("Follow my group's custom"), exact=True).check()
    main.locator("input[name=fellowships][value=AA]").check()
    main.locator(f"input[name=languages][value={lang}]").check()
    main.get_by_role("button", name=say("Next")).click()
    assert main.locator("h1").inner_text() == say("How you like to talk")
    look(page, f"{prefix}-04-talking")

    main.get_by_label(say("Phone calls"), exact=True).check()
    main.get_by_label(say("Text messages"), exact=True).check()
    main.get_by_label(say("Phone (optional)"), exact=True).fill("+1 555 0142")
    main.get_by_role("button", name=say("Next")).click()
    assert main.locator("h1").inner_text() == say("When you can talk")
    zone = main.get_by_label(say("Your time zone"), exact=True)
    assert zone.input_value() == me["zone"], "the time zone is guessed from the phone"
    look(page, f"{prefix}-05-times")

    for day in range(5):
        main.locator(f"input[name=availability][value='{day}-evening']").check()
    main.get_by_role("button", name=say("Finish")).click()
    assert say("Your profile is ready. Thank you!") in main.locator(".flash").inner_text()
    assert main.locator("h1").inner_text() == say("Ask for a sponsor")
    look(page, f"{prefix}-06-ask")

    main.get_by_role("button", name=say("Show me sponsors")).click()
    assert main.locator("h1").inner_text() == say("Sponsors who fit you")
    first = main.locator("article.card").first
    sponsor = first.locator("h2").inner_text()
    expect(first.locator("ul.reasons li").first, "each sponsor comes with reasons").to_be_visible()
    look(page, f"{prefix}-07-shortlist")

    mark = live.mark()
    first.get_by_role("button", name=say("Ask %(name)s", name=sponsor)).click()
    assert main.locator(".flash").inner_text() == say(
        "We let %(name)s know you would like them as your sponsor.", name=sponsor
    )
    assert main.locator("h1").inner_text() == say("You asked %(name)s", name=sponsor)
    look(page, f"{prefix}-08-waiting")

    # The sponsor, on their own phone, finds the ask in their email and says yes.
    ask = live.mail_to("@demo.example", after=mark)
    sponsor_phone = browse(lang)
    log_in(sponsor_phone, str(ask["To"]))
    sponsor_phone.locator("nav.menu").get_by_role("link", name=say("Asks")).click()
    card = sponsor_phone.locator("main article.card", has_text=me["name"])
    card.get_by_role("button", name=say("Yes, I will sponsor %(name)s", name=me["name"])).click()
    assert sponsor_phone.locator("main h1").inner_text() == say(
        "You sponsor %(name)s", name=me["name"]
    )

    page.goto("/sponsor")
    assert main.locator("h1").inner_text() == say("Your sponsor is %(name)s", name=sponsor)
    reach = main.locator(
        "section", has=page.get_by_role("heading", name=say("How to reach %(name)s", name=sponsor))
    )
    expect(reach.locator("a[href^='tel:']"), "the sponsor's phone, only now").to_have_count(1)
    look(page, f"{prefix}-09-my-sponsor", show=reach)

    talk = main.get_by_role("form", name=say("We talked"))
    talk.get_by_role("button", name=say("We talked")).click()  # one tap
    assert main.locator(".flash").inner_text() == say("Noted. Thank you for staying in touch.")
    history = main.locator("section", has=page.get_by_role("heading", name=say("When you talked")))
    assert say("You noted this.") in history.inner_text()
    look(page, f"{prefix}-10-we-talked", show=history)


def _set_join_code(old: str, new: str) -> None:
    from sqlalchemy import select

    from api.extensions import db
    from api.models import Program

    program = db.session.scalar(select(Program).where(Program.join_code == old))
    program.join_code = new
    db.session.commit()


def test_a_code_renewed_while_the_form_is_open_keeps_what_was_typed(live, browse):
    say, renewed = words("es"), "RENOVADO-7"
    page = browse("es", time_zone="America/Bogota")
    main = page.locator("main")
    page.goto(f"/join/{DEMO_JOIN_CODE}")
    main.get_by_label(say("Your name as others see it"), exact=True).fill("Rosa T.")
    main.get_by_label(say("Email"), exact=True).fill("rosa.t@example.org")
    main.get_by_label(say("Choose a password"), exact=True).fill(PASSWORD)
    live.act(_set_join_code, DEMO_JOIN_CODE, renewed)  # the coordinator renews it meanwhile
    try:
        main.get_by_role("button", name=say("Create my account")).click()
        main.locator(".error-summary").wait_for()
        # the browser logs the form's 422 answer as a failed load: expected here
        seen = checks._guards[id(page)]["console"]
        seen[:] = [m for m in seen if "status of 422" not in m]
        look(page, "join-code-renewed-es")
        code = main.get_by_label(say("Your join code"), exact=True)
        assert code.get_attribute("aria-invalid") == "true"
        assert main.get_by_label(say("Email"), exact=True).input_value() == "rosa.t@example.org"
        code.fill(renewed.lower())
        main.get_by_label(say("Choose a password"), exact=True).fill(PASSWORD)
        main.get_by_role("button", name=say("Create my account")).click()
        assert main.locator("h1").inner_text() == say("Check your email")
    finally:
        live.act(_set_join_code, renewed, DEMO_JOIN_CODE)
