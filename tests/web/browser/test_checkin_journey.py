"""The daily check-in on two phones, in English and in Spanish.

A sponsee turns on the daily reminder → checks in with strong cravings (and a private line) →
sees the crisis line at once and taps "let my sponsor know now" → the sponsor's email arrives
(the SMTP sink) with no private line, and so does their notification → the sponsor opens the
pair, sees the shared answers, and logs a contact.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from api.mail import sentences
from tests.web.browser.checks import look
from tests.web.browser.journeys import log_in, words

pytestmark = pytest.mark.browser

# Demo newcomers no other journey uses; each language's journey has its own.
NEWCOMER = {"en": "newcomer3@demo.example", "es": "newcomer4@demo.example"}
PRIVATE = "PRIVATE-LINE-4d2c I nearly went back to the bar"


def paired(newcomer_email: str) -> tuple[str, str, str]:
    """The newcomer's sponsor: the one the demo gave them, else the best for them (asked, then
    yes, as the buttons do). Returns the sponsor's email and both names."""
    from api.services import proposals, sponsorships
    from tests.web.browser.journeys import _member, _open_request

    newcomer = _member(newcomer_email)
    pair = next(
        (p for p in sponsorships.mine(newcomer, "active") if p.sponsee_id == newcomer.id), None
    )
    if pair is None:
        request = _open_request(newcomer)
        proposal = proposals.ask(newcomer, request.uuid, best=True)
        pair = sponsorships.accept(proposal.sponsor, proposal.uuid)
    return pair.sponsor.email, pair.sponsor.display_name, newcomer.display_name


def reads_in(email: str, lang: str | None) -> str | None:
    """Set the member's language (their emails follow it); returns the one it replaces."""
    from api.extensions import db
    from tests.web.browser.journeys import _member

    member = _member(email)
    before, member.locale = member.locale, lang
    db.session.commit()
    return before


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_daily_check_in_reaches_the_sponsor(live, browse, lang):
    sponsor_email, sponsor_name, name = live.act(paired, NEWCOMER[lang])
    # The sponsor's email in the journey's language; other journeys share the demo sponsors,
    # so their language is put back afterwards.
    before = live.act(reads_in, sponsor_email, lang)
    try:
        _journey(live, browse, lang, sponsor_email, sponsor_name, name)
    finally:
        live.act(reads_in, sponsor_email, before)


def _journey(live, browse, lang, sponsor_email, sponsor_name, name):
    say = words(lang)
    prefix = "checkin" if lang == "en" else "checkin-es"

    page = browse(lang)
    main = page.locator("main")
    log_in(page, NEWCOMER[lang])
    page.locator("nav.menu").get_by_role("link", name=say("Check-in")).click()
    assert main.locator("h1").inner_text() == say("How is today?")
    assert say("No daily reminder.") in main.inner_text()
    look(page, f"{prefix}-01-today")

    main.get_by_role("link", name=say("Change these choices")).click()
    assert main.locator("h1").inner_text() == say("Your check-in choices")
    main.get_by_label(say("Remind me once a day"), exact=True).check()
    assert main.get_by_label(say("My sponsor sees my answers"), exact=True).is_checked()
    look(page, f"{prefix}-02-choices")
    main.get_by_role("button", name=say("Save")).click()
    assert main.locator(".flash").inner_text() == say("Your choices are saved.")
    assert say("We remind you once a day.") in main.inner_text()

    form = main.get_by_role("form", name=say("Today's check-in"))
    form.get_by_label(say("Hard"), exact=True).check()
    form.get_by_label(say("Strong"), exact=True).check()
    form.locator("input[name=meeting][value=no]").check()
    form.get_by_label(say("A line for yourself (optional)"), exact=True).fill(PRIVATE)
    form.get_by_role("button", name=say("Check in")).click()
    assert main.locator("h1").inner_text() == say("Thank you for checking in")
    reach = main.locator("section.reach")
    assert reach.locator("h2").inner_text() == say("You don't have to get through today alone")
    expect(reach.locator("a[href='tel:988']"), "the crisis line, at once").to_have_count(1)
    helpline = reach.locator("a[href='tel:18006624357']")
    assert helpline.evaluate("a => a.getClientRects().length") == 1, "one number, one line"
    expect(reach.get_by_role("link", name=say("Call %(name)s", name=sponsor_name))).to_have_count(1)
    look(page, f"{prefix}-03-hard-day")

    mark = live.mark()
    reach.get_by_role("button", name=say("Let my sponsor know now")).click()
    assert main.locator(".flash").inner_text() == sentences(  # one stop after "Finn A."
        say("We let %(name)s know.", name=sponsor_name)
    )
    told = say(
        "We told %(name)s. If you need someone right now, call them or the crisis line.",
        name=sponsor_name,
    )
    assert sentences(told) in reach.inner_text()
    look(page, f"{prefix}-04-told")

    email = live.mail_to(sponsor_email, after=mark)
    text = email.get_body(preferencelist=("plain",)).get_content()
    assert say("Please reach out to %(name)s today", name=name) in text
    assert "PRIVATE-LINE" not in email.as_string()
    link = live.link_in(email, "/pairs/")

    sponsor_phone = browse(lang)
    sponsor_main = sponsor_phone.locator("main")
    log_in(sponsor_phone, sponsor_email)
    sponsor_phone.locator("nav.menu").get_by_role("link", name=say("Notifications")).click()
    note = sponsor_main.locator("article.notification").first
    assert note.locator("h2").inner_text() == say("Please reach out to %(name)s today", name=name)
    look(sponsor_phone, f"{prefix}-05-sponsor-notification")

    sponsor_phone.goto(link)
    shared = sponsor_main.locator(
        "section",
        has=sponsor_phone.get_by_role("heading", name=say("How %(name)s has been", name=name)),
    )
    row = shared.locator("tbody tr").first.inner_text()
    assert say("Hard") in row and say("Strong") in row
    assert "PRIVATE-LINE" not in sponsor_phone.content()
    look(sponsor_phone, f"{prefix}-06-sponsor-pair", show=shared)

    talk = sponsor_main.get_by_role("form", name=say("We talked"))
    talk.get_by_role("button", name=say("We talked")).click()
    assert sponsor_main.locator(".flash").inner_text() == say(
        "Noted. Thank you for staying in touch."
    )
    history = sponsor_main.locator(
        "section", has=sponsor_phone.get_by_role("heading", name=say("When you talked"))
    )
    assert say("You noted this.") in history.inner_text()
    look(sponsor_phone, f"{prefix}-07-we-talked", show=history)
