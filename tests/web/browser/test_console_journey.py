"""The coordinator's console in a real browser, on a programme of its own (so no other journey
shares its people): a matching round published by keyboard only, an invitation joined from
the emailed link, a CSV import with one bad row, an escalation resolved with a note, the join
poster's QR code decoded from the screen, and the dashboard on a phone."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from api.seed import DEMO_PASSWORD
from tests.web.browser.checks import look, shot, tab_to
from tests.web.browser.journeys import log_in

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
COORDINATOR = "rita.coordinator@example.org"
SPONSORS = [f"riverside.sponsor{i}@example.org" for i in range(4)]
NEWCOMERS = [f"riverside.newcomer{i}@example.org" for i in range(3)]
NAMES = ["Ada", "Bea", "Cleo", "Dora", "Eve", "Flor", "Gia", "Hope"]


def _scene() -> dict:
    """Riverside: a coordinator, four sponsors with room for one each, three newcomers who
    asked, and a pair that went quiet long enough to reach the coordinator."""
    from api.auth import hash_password
    from api.extensions import db
    from api.models import (
        Member,
        Membership,
        MissedContactFlag,
        Program,
        SponsorProfile,
        SponsorRequest,
        Sponsorship,
        utcnow,
    )

    now, hashed = utcnow(), hash_password(DEMO_PASSWORD)
    program = Program(name="Riverside Fellowship", join_code="RIVERSIDE-1", fellowships=["AA"])
    program.tags = ["parent"]
    db.session.add(program)
    db.session.flush()

    def person(email, name, *, coordinator=False, sponsor=False, newcomer=False):
        member = Member(
            email=email,
            password_hash=hashed,
            display_name=name,
            time_zone="America/Chicago",
            gender="woman",
            fellowships=["AA"],
            languages=["en"],
            contact_modes=["phone"],
            availability=[{"day": d, "start": "18:00", "end": "21:00"} for d in (0, 2, 4)],
            email_verified_at=now,
        )
        db.session.add(member)
        db.session.flush()
        db.session.add(
            Membership(
                member_id=member.id,
                program_id=program.id,
                is_coordinator=coordinator,
                is_sponsor=sponsor,
                is_newcomer=newcomer,
            )
        )
        if sponsor:
            db.session.add(
                SponsorProfile(
                    member=member,
                    sobriety_date=date.today() - timedelta(days=4 * 365),
                    steps_completed=12,
                    capacity=1,
                    load=0,
                    availability_confirmed_at=now,
                )
            )
        return member

    person(COORDINATOR, "Rita C.", coordinator=True)
    sponsors = [person(e, f"{NAMES[i]} S.", sponsor=True) for i, e in enumerate(SPONSORS)]
    for i, email in enumerate(NEWCOMERS):
        newcomer = person(email, f"{NAMES[4 + i]} N.", newcomer=True)
        db.session.add(SponsorRequest(program_id=program.id, newcomer_id=newcomer.id))
    quiet_sponsor = person("riverside.quiet@example.org", "Hope Q.", sponsor=True)
    quiet_sponsee = person("riverside.quiet2@example.org", "Ivy Q.", newcomer=True)
    quiet_sponsor.sponsor_profile.load = 1
    pair = Sponsorship(
        program_id=program.id,
        sponsor_id=quiet_sponsor.id,
        sponsee_id=quiet_sponsee.id,
        started_at=now - timedelta(days=40),
        contact_due_at=now - timedelta(days=20),
    )
    db.session.add(pair)
    db.session.flush()
    db.session.add(
        MissedContactFlag(
            sponsorship_id=pair.id,
            program_id=program.id,
            level=3,
            due_at=now - timedelta(days=20),
            opened_at=now - timedelta(days=19),
            level2_at=now - timedelta(days=15),
            level3_at=now - timedelta(days=10),
        )
    )
    db.session.commit()
    return {"program": str(program.uuid), "sponsors": [s.email for s in sponsors]}


@pytest.fixture(scope="module")
def riverside(live) -> dict:
    return live.act(_scene)


def _both_sizes(page, name: str) -> None:
    """The phone screenshot (with every check) and a desktop one."""
    look(page, name)
    page.set_viewport_size(DESKTOP)
    shot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)


def test_a_round_is_reviewed_changed_and_published_by_keyboard(live, browse, riverside):
    page = browse("en")
    log_in(page, COORDINATOR)
    main = page.locator("main")
    page.locator("nav.menu").get_by_role("link", name="Coordinator", exact=True).click()
    assert main.locator("h1").inner_text() == "Riverside Fellowship"
    look(page, "console-home")
    page.locator("nav.menu").get_by_role("link", name="Matching round").click()
    main.get_by_role("button", name="Start a round").click()
    assert main.locator("h1").inner_text() == "Review the round"
    expect(main.locator("tbody tr")).to_have_count(3)
    _both_sizes(page, "console-round-review")

    # Take the first pair out, with a reason.
    main.get_by_role("link", name=re.compile("^Change or remove")).first.click()
    main.get_by_role("link", name="Take this pair out instead…").click()
    main.get_by_label(re.compile("^Why")).fill("They already know each other")
    main.get_by_role("button", name="Take the pair out").click()
    assert "The pair is out of the draft" in main.locator(".flash").inner_text()
    # Give the next one another sponsor from the alternatives.
    main.get_by_role("link", name=re.compile("^Change or remove")).first.click()
    look(page, "console-round-change")
    main.locator("input[name=sponsor_id]").first.check()
    main.get_by_label(re.compile("^Why")).fill("Closer in age")
    main.get_by_role("button", name="Use this sponsor").click()
    assert "another sponsor" in main.locator(".flash").inner_text()
    asked = page.evaluate(
        """() => [...document.querySelectorAll('main tbody tr')]
            .filter(r => r.innerText.includes('Change or remove'))
            .map(r => r.cells[1].innerText)"""
    )
    assert len(asked) == 2

    # Publish with the keyboard only: Tab to the link, Enter; Tab to the confirmation, Enter.
    publish = main.get_by_role("link", name="Publish 2 proposals…")
    tab_to(page, publish)
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert main.locator("h1").inner_text() == "Send 2 proposals?"
    look(page, "console-round-publish")
    confirm = main.get_by_role("button", name="Yes, send 2 proposals")
    tab_to(page, confirm)
    mark = live.mark()
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "2 proposals went out." in main.locator(".flash").inner_text()

    # Each proposed sponsor has the ask in their inbox (and by email).
    by_name = dict(zip([f"{n} S." for n in NAMES[:4]], riverside["sponsors"], strict=True))
    for name in asked:
        email = by_name[name]
        assert live.mail_to(email, after=mark)
        sponsor = browse("en")
        log_in(sponsor, email)
        sponsor.goto("/asks")
        assert re.search(r"(Eve|Flor|Gia) N\.", sponsor.inner_text("main"))


def test_an_invitation_is_joined_from_the_emailed_link(live, browse, riverside):
    page = browse("en")
    log_in(page, COORDINATOR)
    page.goto(f"/coordinator/{riverside['program']}/invite")
    main = page.locator("main")
    main.get_by_label("Their email address").fill("june.invited@example.org")
    mark = live.mark()
    main.get_by_role("button", name="Send the invitation").click()
    assert "We sent an invitation to june.invited@example.org." in page.inner_text(".flash")
    look(page, "console-invite")

    invitee = browse("en")
    invitee.goto(live.link_in(live.mail_to("june.invited@example.org", after=mark), "/invitation/"))
    assert "You are invited to Riverside Fellowship" in invitee.inner_text("main h1")
    look(invitee, "console-invitation-open")
    invitee.get_by_label("Your name as others see it").fill("June I.")
    invitee.get_by_label("Choose a password").fill("one day at a time")
    invitee.get_by_label("Your time zone").select_option("America/Chicago")
    invitee.get_by_role("button", name="Join", exact=True).click()
    assert "Welcome to Riverside Fellowship." in invitee.inner_text(".flash")


BAD = (
    "email,display_name,roles\nkai.csv@example.org,Kai C.,newcomer\nlee.csv@example,Lee C.,pilot\n"
)


def test_a_csv_with_one_bad_row_is_fixed_and_imported(live, browse, riverside, tmp_path):
    page = browse("en")
    log_in(page, COORDINATOR)
    page.goto(f"/coordinator/{riverside['program']}/import")
    main = page.locator("main")
    bad = tmp_path / "members.csv"
    bad.write_text(BAD)
    main.get_by_label("CSV file").set_input_files(str(bad))
    main.get_by_role("button", name="Check the file").click()
    assert "problems need fixing" in main.inner_text()
    expect(main.locator("tr.row-error")).to_have_count(1)
    _both_sizes(page, "console-import-preview")

    fixed = tmp_path / "members-fixed.csv"
    fixed.write_text(
        BAD.replace("lee.csv@example,Lee C.,pilot", "lee.csv@example.org,Lee C.,sponsor").replace(
            "Lee C.,sponsor", "Lee C.,newcomer"
        )
    )
    main.get_by_role("link", name="Upload the fixed file").click()
    main.get_by_label("CSV file").set_input_files(str(fixed))
    main.get_by_role("button", name="Check the file").click()
    assert "All 2 rows are ready" in main.inner_text()
    mark = live.mark()
    main.get_by_role("button", name="Import 2 rows").click()
    assert "2 people were invited." in page.inner_text(".flash")
    assert live.mail_to("kai.csv@example.org", after=mark)


def test_an_escalation_is_resolved_with_a_note(browse, riverside):
    page = browse("en")
    log_in(page, COORDINATOR)
    page.goto(f"/programs/{riverside['program']}/escalations")
    main = page.locator("main")
    card = main.locator("section.escalation").first
    assert "Hope Q. (sponsor) and Ivy Q." in card.inner_text()
    look(page, "console-escalations")
    card.get_by_role("link", name="Resolve…").click()
    main.get_by_label("What happened?").fill("Called both; they talked on Sunday")
    look(page, "console-escalation-resolve")
    main.get_by_role("button", name="Yes, resolve it").click()
    assert "Resolved: the pair has left the queue." in page.inner_text(".flash")
    expect(main.locator("section.escalation")).to_have_count(0)


def test_a_member_page_and_the_poster_whose_qr_code_opens_the_join_link(live, browse, riverside):
    import zxingcpp
    from PIL import Image

    page = browse("en")
    log_in(page, COORDINATOR)
    page.goto(f"/coordinator/{riverside['program']}/members?q=Hope")
    page.locator("main").get_by_role("link", name="Hope Q.").click()
    assert "Sponsor of Ivy Q." in page.inner_text("main")
    _both_sizes(page, "console-member")

    page.goto(f"/coordinator/{riverside['program']}/poster")
    look(page, "console-poster")
    qr = page.locator("figure.qr svg")
    qr.scroll_into_view_if_needed()
    image = Image.open(io.BytesIO(qr.screenshot())).convert("L")
    found = [r.text for r in zxingcpp.read_barcodes(image)]
    assert found == [f"{live.url}/join/RIVERSIDE-1"]


def test_the_dashboard_on_a_phone(browse):
    page = browse("en")
    log_in(page, "coordinator@demo.example")
    page.goto("/coordinator")
    page.locator("nav.menu").get_by_role("link", name="Dashboard").click()
    page.wait_for_selector("figure.chart svg")
    look(page, "console-dashboard-phone")
    page.locator("#survival").scroll_into_view_if_needed()
    shot(page, "console-dashboard-phone-survival", show=page.locator("#survival figure"))
