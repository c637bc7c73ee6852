"""The sponsor's journey on a phone, in English and in Spanish.

the email's link to an ask (no password) → "can't right now" with a reason → log in → the next
ask in the inbox → yes → "we talked" → the still-available email's link → pause → resume.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from api.mail import sentences
from tests.web.browser.checks import look, shot
from tests.web.browser.journeys import asks, log_in, two_who_fit, words

pytestmark = pytest.mark.browser

# Demo newcomers (those who have a sponsor already are passed over); each language's journey
# has its own.
NEWCOMERS = {
    "en": [f"newcomer{i}@demo.example" for i in (14, 15, 16, 17, 1, 2, 3, 4, 5, 7)],
    "es": [f"newcomer{i}@demo.example" for i in (18, 19, 20, 6, 8, 9, 10, 11, 12, 13)],
}


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_sponsor_journey(live, browse, lang):
    say = words(lang)
    prefix = "sponsor" if lang == "en" else "sponsor-es"
    mark = live.mark()
    sponsor, one, another = live.act(two_who_fit, NEWCOMERS[lang])
    first = live.act(asks, one, sponsor)
    email = live.mail_to(sponsor, after=mark)

    # The email's link opens the ask on the phone, no password needed.
    page = browse(lang)
    main = page.locator("main")
    page.goto(live.link_in(email, "/l/"))
    assert main.locator("h1").inner_text() == say(
        "%(name)s would like you to be their sponsor", name=first
    )
    assert main.get_by_role("button", name=say("Yes, I will sponsor %(name)s", name=first)).count()
    look(page, f"{prefix}-01-ask-link")

    no = main.locator("section", has=page.get_by_role("heading", name=say("Can't right now?")))
    no.get_by_label(say("I don't think I'm the right fit"), exact=True).check()
    shot(page, f"{prefix}-02-decline", show=no)
    no.get_by_role("button", name=say("Send my answer")).click()
    assert main.locator("h1").inner_text() == say("Thank you for answering")
    look(page, f"{prefix}-03-declined")

    # The next ask waits in the inbox, behind the login.
    mark = live.mark()
    second = live.act(asks, another, sponsor)
    live.mail_to(sponsor, after=mark)
    main.get_by_role("link", name=say("See your asks")).click()
    look(page, f"{prefix}-04-log-in")
    log_in(page, sponsor, here=True)
    assert main.locator("h1").inner_text() == say("People who asked you")
    ask = main.locator("article.card", has_text=second)
    look(page, f"{prefix}-05-inbox")
    ask.get_by_role("button", name=say("Yes, I will sponsor %(name)s", name=second)).click()
    assert main.locator("h1").inner_text() == say("You sponsor %(name)s", name=second)
    assert main.locator(".flash").inner_text() == sentences(  # one stop after "Ana P."
        say("You said yes to %(name)s. Here is how to reach them.", name=second)
    )
    look(page, f"{prefix}-06-new-sponsee")

    talk = main.get_by_role("form", name=say("We talked"))
    talk.get_by_text(say("Add details (optional)")).click()
    talk.get_by_label(say("Texts"), exact=True).check()
    talk.get_by_label(say("Minutes (optional)"), exact=True).fill("15")
    talk.get_by_role("button", name=say("We talked")).click()
    assert main.locator(".flash").inner_text() == say("Noted. Thank you for staying in touch.")
    history = main.locator("section", has=page.get_by_role("heading", name=say("When you talked")))
    assert say("You noted this.") in history.inner_text()
    assert say("Texts") in history.inner_text()
    look(page, f"{prefix}-07-we-talked", show=history)

    # The monthly "still available?" email: one tap on its link.
    mark = live.mark()
    live.act(due_for_the_monthly_question, sponsor)
    page.goto(live.link_in(live.mail_to(sponsor, after=mark), "/l/"))
    assert main.locator("h1").inner_text() == say("Are you still available to sponsor?")
    look(page, f"{prefix}-08-still-available")
    main.get_by_role("button", name=say("Yes, I'm still available")).click()
    assert main.locator("h1").inner_text() == say("Thank you!")
    assert main.locator(".lead").inner_text() == say(
        "Thank you! You stay on the list of sponsors newcomers can ask."
    )

    # Life gets busy: pause new asks, then resume.
    page.locator("nav.menu").get_by_role("link", name=say("Sponsoring")).click()
    assert main.locator("h1").first.inner_text() == say("You as a sponsor")
    main.get_by_role("button", name=say("Pause new asks")).click()
    assert main.locator(".flash").inner_text() == say(
        "You are paused. Nobody new will be asked to you until you resume."
    )
    resume = main.get_by_role("button", name=say("Resume: I can take new asks"))
    look(page, f"{prefix}-09-paused")
    resume.click()
    assert main.locator(".flash").inner_text() == say("Welcome back. Newcomers can ask you again.")
    expect(main.get_by_role("button", name=say("Pause new asks"))).to_be_visible()
    look(page, f"{prefix}-10-resumed")


def due_for_the_monthly_question(email: str) -> None:
    """The sponsor last said they were available 40 days ago; the worker's availability job
    runs now and asks them."""
    from datetime import timedelta

    from sqlalchemy import select

    from api.extensions import db
    from api.models import Member, utcnow
    from jobs.availability import check_availability

    sponsor = db.session.scalar(select(Member).where(Member.email == email))
    sponsor.sponsor_profile.availability_confirmed_at = utcnow() - timedelta(days=40)
    db.session.commit()
    check_availability(utcnow())
