"""Between contacts on a phone, in English and in Spanish (issue 17).

A sponsee records a sobriety date 30 days back in their own zone and sees the 30-day milestone
→ the milestone job runs (twice) and the sponsor's congratulation email arrives once → a fresh
start (a later date) is met kindly, with the crisis line, and told to nobody. A coordinator adds
a resource in the console → the sponsee sees it on
their home page → the sponsor shares it from the pair's page → the sponsee finds it in their
notifications and opens it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.web.browser.checks import look
from tests.web.browser.journeys import log_in, words

pytestmark = pytest.mark.browser

PASSWORD = "one day at a time"
ZONES = ("America/Denver", "Europe/Berlin", "Australia/Sydney", "Asia/Tokyo", "America/New_York")


def new_pair(lang: str) -> dict:
    """A new sponsee (in Denver) and sponsor (in a zone where it is daytime now) of the demo
    programme, paired; their emails, names, the pair's id and the sponsee's local today."""
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from api.auth import hash_password
    from api.extensions import db
    from api.milestone_dates import local_today
    from api.models import Member, Membership, Program, Sponsorship, utcnow
    from api.seed import DEMO_JOIN_CODE

    now = utcnow()
    awake = next(z for z in ZONES if 9 <= now.astimezone(ZoneInfo(z)).hour < 20)
    program = db.session.scalar(select(Program).where(Program.join_code == DEMO_JOIN_CODE))
    tag = uuid.uuid4().hex[:6]
    people = {}
    for role, name, zone in (
        ("newcomer", "Ruth B." if lang == "en" else "Inés B.", "America/Denver"),
        ("sponsor", "Walt G." if lang == "en" else "Tomás G.", awake),
    ):
        member = Member(
            email=f"{role}.{tag}@between.example",
            password_hash=hash_password(PASSWORD),
            display_name=name,
            time_zone=zone,
            locale=lang,
            email_verified_at=now,
            fellowships=["AA"],
            languages=[lang],
            contact_modes=["phone"],
        )
        db.session.add(member)
        db.session.flush()
        db.session.add(
            Membership(
                member_id=member.id,
                program_id=program.id,
                is_newcomer=role == "newcomer",
                is_sponsor=role == "sponsor",
            )
        )
        people[role] = member
    pair = Sponsorship(
        program_id=program.id,
        sponsor_id=people["sponsor"].id,
        sponsee_id=people["newcomer"].id,
        kind="permanent",
        started_at=now - timedelta(days=10),
    )
    db.session.add(pair)
    db.session.commit()
    return {
        "sponsee": people["newcomer"].email,
        "sponsee_name": people["newcomer"].display_name,
        "sponsor": people["sponsor"].email,
        "sponsor_name": people["sponsor"].display_name,
        "pair": str(pair.uuid),
        "today": local_today(now, "America/Denver"),
    }


def milestone_job() -> list[int]:
    """The worker's milestone job, run twice in a row: how many prompts each run queued."""
    from api.models import utcnow
    from jobs.milestones import record_milestones

    now = utcnow()
    return [record_milestones(now), record_milestones(now)]


def to(live, address: str, after: int) -> list:
    live.deliver()
    return [m for m in live.sink.messages[after:] if address in str(m["To"])]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_milestones_and_resources_between_contacts(live, browse, lang):
    say = words(lang)
    prefix = "between" if lang == "en" else "between-es"
    us = live.act(new_pair, lang)
    thirty_days_back = (us["today"] - timedelta(days=30)).isoformat()

    # The sponsee records their date (private by default) and lets their sponsor know.
    sponsee = browse(lang, time_zone="America/Denver")
    main = sponsee.locator("main")
    log_in(sponsee, us["sponsee"], PASSWORD)
    card = main.locator("section", has=sponsee.get_by_role("heading", name=say("Your milestones")))
    card.get_by_role("link", name=say("Add your date")).click()
    assert main.locator("h1").inner_text() == say("Your milestones")
    main.get_by_label(say("Your sobriety (clean) date"), exact=True).fill(thirty_days_back)
    main.get_by_label(say("Let my sponsor know when I reach a milestone"), exact=True).check()
    look(sponsee, f"{prefix}-01-milestone-date")
    main.get_by_role("button", name=say("Save")).click()
    assert main.locator(".flash").inner_text() == say("Saved. Only you can see your date.")
    reached = say("You have reached %(milestone)s", milestone=say("30 days"))
    assert main.locator("h2#where").inner_text() == reached
    look(sponsee, f"{prefix}-02-milestone-30-days")
    sponsee.goto("/")
    assert reached in main.inner_text()
    look(sponsee, f"{prefix}-03-home-milestone")

    # The job, twice: the sponsor is prompted once, by email too.
    mark = live.mark()
    assert live.act(milestone_job) == [1, 0]
    email = live.mail_to(us["sponsor"], after=mark)
    text = email.get_body(preferencelist=("plain",)).get_content()
    assert say(
        "%(name)s has reached %(milestone)s and wanted you to know.",
        name=us["sponsee_name"],
        milestone=say("30 days"),
    ) in " ".join(text.split())
    assert thirty_days_back not in text
    assert live.act(milestone_job) == [0, 0]
    assert len(to(live, us["sponsor"], mark)) == 1

    # A fresh start: a later date. Kind words and the crisis line; nobody is told.
    sponsee.goto("/milestones")
    main.get_by_label(say("Your sobriety (clean) date"), exact=True).fill(us["today"].isoformat())
    main.get_by_role("button", name=say("Save")).click()
    assert main.locator("h1").inner_text() == say("Welcome back")
    expect(main.locator('a[href="tel:988"]')).to_have_count(1)
    look(sponsee, f"{prefix}-04-fresh-start")
    mark = live.mark()
    live.act(milestone_job)
    assert to(live, us["sponsor"], mark) == []

    # The coordinator adds a resource in the console (a bad link: tests/between).
    title = ("Sample Street meeting " if lang == "en" else "Reunión en Sample Street ") + (
        uuid.uuid4().hex[:4]
    )
    coordinator = browse(lang)
    console = coordinator.locator("main")
    log_in(coordinator, "coordinator@demo.example")
    coordinator.goto("/coordinator")
    console.get_by_role("link", name=say("Resources"), exact=True).click()
    assert console.locator("h1").inner_text() == say("Resources")
    console.get_by_label(say("Title"), exact=True).fill(title)
    console.get_by_label(say("Meetings"), exact=True).check()
    console.locator(f"input[name=languages][value={lang}]").check()
    link = f"https://meetings.example.org/{uuid.uuid4().hex[:6]}"
    console.get_by_label(say("Link (optional)"), exact=True).fill(link)
    console.get_by_role("button", name=say("Add the resource")).click()
    assert console.locator(".flash").inner_text() == say(
        "Added “%(title)s”. Members it fits see it now.", title=title
    )
    look(coordinator, f"{prefix}-05-console-resources")

    # The sponsee sees it on their home page, with where the link goes.
    sponsee.goto("/")
    home = main.locator(
        "section", has=sponsee.get_by_role("heading", name=say("Helpful things from your group"))
    )
    item = home.locator("li", has_text=title)
    assert item.get_by_role("link", name=title).get_attribute("href") == link
    assert "meetings.example.org" in item.inner_text()
    look(sponsee, f"{prefix}-06-home-resources", show=home)

    # The sponsor shares it from the pair's page.
    sponsor = browse(lang, time_zone="Europe/Berlin")
    pair_page = sponsor.locator("main")
    log_in(sponsor, us["sponsor"], PASSWORD)
    sponsor.goto(f"/pairs/{us['pair']}")
    share = pair_page.locator(
        "section", has=sponsor.get_by_role("heading", name=say("Share something helpful"))
    )
    share.get_by_label(say("What to share"), exact=True).select_option(
        label=f"{title} ({say('Meetings')})"
    )
    share.get_by_role("button", name=say("Share with %(name)s", name=us["sponsee_name"])).click()
    assert pair_page.locator(".flash").inner_text() == say(
        "You shared “%(title)s”. %(name)s will find it in their notifications.",
        title=title,
        name=us["sponsee_name"],
    )
    look(sponsor, f"{prefix}-07-shared", show=pair_page.locator(".flash"))

    # The sponsee finds it in their notifications, and opens it.
    sponsee.goto("/notifications")
    note = main.locator(
        "article.card", has_text=say("%(name)s shared something with you", name=us["sponsor_name"])
    )
    assert title in note.inner_text() and "meetings.example.org" in note.inner_text()
    look(sponsee, f"{prefix}-08-notification", show=note)
    note.get_by_role("button", name=say("Open")).click()
    mine = main.locator(
        "section", has=sponsee.get_by_role("heading", name=say("From your sponsor"))
    )
    assert mine.get_by_role("link", name=title).get_attribute("href") == link
    assert say("Shared by %(name)s", name=us["sponsor_name"]) in mine.inner_text()
    look(sponsee, f"{prefix}-09-resources")
