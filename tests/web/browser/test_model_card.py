"""The model card in a real browser, on a programme of its own: a coordinator reads what the
matcher learned (in English and Spanish, on a phone) and rolls it back with one tap."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from api.seed import DEMO_PASSWORD
from tests.web.browser.checks import look
from tests.web.browser.journeys import log_in

pytestmark = pytest.mark.browser

COORDINATOR = "hilda.coordinator@example.org"


def _scene() -> str:
    """Hillside: a coordinator and two learned versions (the second active), trained on a
    made-up history where shared free hours decide; no members' data at all."""
    from api.auth import hash_password
    from api.extensions import db
    from api.models import MatchModel, Member, Membership, Program, utcnow
    from api.services.learning import record_of
    from matcher.learn import OutcomeModel, synthetic_history

    now = utcnow()
    program = Program(name="Hillside Intergroup", join_code="HILLSIDE-1", fellowships=["NA"])
    db.session.add(program)
    db.session.flush()
    member = Member(
        email=COORDINATOR,
        password_hash=hash_password(DEMO_PASSWORD),
        display_name="Hilda C.",
        time_zone="America/Denver",
        email_verified_at=now,
    )
    db.session.add(member)
    db.session.flush()
    db.session.add(Membership(member_id=member.id, program_id=program.id, is_coordinator=True))
    for version, seed in ((1, 4), (2, 3)):
        data = synthetic_history(1200, seed=seed)
        model = OutcomeModel().fit(data)
        summary = {
            "proposals": len(data),
            "accepted": int(data.accepted.sum()),
            "pairs_known": int((data.lasted == data.lasted).sum()),
            "pairs_lasted": int((data.lasted == 1).sum()),
            "first": (now - timedelta(days=420)).date().isoformat(),
            "last": now.date().isoformat(),
        }
        record = record_of(model, summary, now - timedelta(days=420))
        record["status"] = "active" if version == 2 else "retired"
        db.session.add(
            MatchModel(
                program_id=program.id,
                version=version,
                trigger="worker",
                created_at=now - timedelta(days=7 * (2 - version)),
                **record,
            )
        )
    db.session.commit()
    return str(program.uuid)


@pytest.fixture(scope="module")
def hillside(live) -> str:
    return live.act(_scene)


def test_the_model_card_in_spanish(live, browse, hillside):
    page = browse("es")
    log_in(page, COORDINATOR)
    page.goto(f"/coordinator/{hillside}/model")
    main = page.locator("main")
    assert main.locator("h1").inner_text() == "Lo que aprendió el emparejador"
    look(page, "console-model-card-es")


def test_a_coordinator_reads_the_model_card_and_rolls_it_back(live, browse, hillside):
    page = browse("en")
    log_in(page, COORDINATOR)
    page.goto(f"/coordinator/{hillside}")
    main = page.locator("main")
    main.get_by_role("link", name="What the matcher learned").click()
    assert main.locator("h1").inner_text() == "What the matcher learned"
    text = main.inner_text()
    assert "With the learned weights, version 2" in text
    assert "“Free at the same times” mattered more here" in text
    assert "Tells a yes from a no" in text
    look(page, "console-model-card")
    look(page, "console-model-card-figures", show=main.locator("table"))
    main.get_by_role("button", name="Use the version before").click()
    assert "Back to version 1." in page.inner_text(".flash")
    main.get_by_role("button", name="Use the fixed weights").click()
    assert "fixed weights again" in page.inner_text(".flash")
    assert "With the programme's fixed weights" in main.inner_text()
    expect(main.get_by_role("button", name="Use the fixed weights")).to_have_count(0)
