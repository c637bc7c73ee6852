"""A member on a phone looks after their own account: a minimal-emails choice, their data as a
file, and deleting the account behind a confirmation that ends on the crisis line."""

from __future__ import annotations

import json

import pytest

from tests.web.browser import checks
from tests.web.browser.journeys import log_in

pytestmark = pytest.mark.browser

EMAIL = "leaving.member@example.test"
PASSWORD = "a-long-enough-passphrase"


def _a_member_of_the_demo_group():
    from sqlalchemy import select

    from api.extensions import db
    from api.models import Program
    from api.services import accounts

    program = db.session.scalars(select(Program).order_by(Program.id)).first()
    member = accounts.create_member(email=EMAIL, password=PASSWORD, display_name="Lee V.")
    accounts.grant_roles(member, program, ["newcomer"])
    member.tags = list(program.tags or ())[:2]
    db.session.commit()


def test_a_member_downloads_their_data_and_deletes_the_account(live, browse):
    live.act(_a_member_of_the_demo_group)
    page = browse("en")
    log_in(page, EMAIL, PASSWORD)
    page.goto("/account")
    page.locator("input[name=minimal_emails]").check()
    page.get_by_role("button", name="Save my email choice").click()
    assert page.locator("input[name=minimal_emails]").is_checked()
    checks.look(page, "account-01-choices", show=page.locator("#emails-heading"))

    page.get_by_role("link", name="My data").click()
    checks.look(page, "account-02-my-data")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download my data").click()
    with open(download.value.path(), encoding="utf-8") as saved:
        data = json.load(saved)
    assert EMAIL in json.dumps(data)

    page.get_by_role("link", name="Delete my account").click()
    checks.look(page, "account-03-delete")
    page.locator("main input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account for good").click()
    assert page.url.endswith("/goodbye")
    checks.look(page, "account-04-goodbye")
    assert page.locator('main a[href^="tel:"]').count() >= 1


SUMMARY_EMAIL = "summary.reader@example.test"


def _a_spanish_reader_of_the_demo_group():
    from sqlalchemy import select

    from api.extensions import db
    from api.models import Program
    from api.services import accounts

    program = db.session.scalars(select(Program).order_by(Program.id)).first()
    member = accounts.create_member(email=SUMMARY_EMAIL, password=PASSWORD, display_name="Sol V.")
    accounts.grant_roles(member, program, ["sponsor"])
    db.session.commit()


def test_a_failed_save_low_on_a_long_page_is_summed_up_where_the_page_opens(live, browse):
    """No JavaScript is needed for this: the summary is in the page the server sends back."""
    live.act(_a_spanish_reader_of_the_demo_group)
    page = browse("es")
    log_in(page, SUMMARY_EMAIL, PASSWORD)
    page.set_viewport_size(checks.SMALL_PHONE)
    page.goto("/account")
    page.locator("input[name=current_password]").fill("not the password at all")
    page.locator("input[name=new_password]").fill("a-new-long-passphrase")
    page.locator("input[name=new_password]").press("Enter")
    summary = page.locator("main .error-summary")
    summary.wait_for()
    assert summary.get_attribute("role") == "alert"
    assert "Revisa, por favor:" in summary.inner_text()
    box = summary.bounding_box()
    assert box is not None and box["y"] + box["height"] <= checks.SMALL_PHONE["height"]
    assert page.title().startswith("Revisa, por favor:")
    checks.phone(page)
    checks.axe_check(page)
    summary.get_by_role("link", name="Tu contraseña actual").click()
    assert page.url.endswith("#current_password")
    assert page.locator("input[name=current_password]").is_visible()
    # The browser logs the form's 422 answer as a failed load (whenever it gets to it): expected.
    seen = checks._guards[id(page)]["console"]
    seen[:] = [m for m in seen if "status of 422" not in m]
    checks.assert_clean(page)
