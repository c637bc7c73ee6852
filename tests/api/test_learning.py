"""A programme's outcome model end to end: the demo's planted effect is found and adopted,
the version is on every proposal and round, rollback works, thin history is refused, and
the model card says it all without naming anyone."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from api.matching_inputs import match_settings
from api.models import MatchModel, Member, Proposal, SponsorRequest
from api.seed import seed_demo
from api.services import learning, proposals, rounds
from jobs.learn import retrain_models

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)  # the demo's hours depend on the week (DST)


@pytest.fixture
def demo(db):
    with time_machine.travel(NOW, tick=False):
        yield seed_demo().program


def test_the_demo_history_teaches_that_shared_free_hours_matter_and_it_is_adopted(demo, db):
    run = learning.train(demo, now=NOW)
    assert run["status"] == "active" and run["reason"] == "adopted"
    fixed = learning.fixed_weights(demo)
    assert run["weights"]["availability"] > 1.5 * fixed["availability"]  # the planted effect
    assert run["changes"][0]["group"] == "availability"
    assert run["changes"][0]["direction"] == "more"
    for outcome in ("accepted", "lasted"):
        f = run["figures"][outcome]
        assert f["auc_learned"] >= f["auc_fixed"] + 0.02 and f["auc_gain_low"] > 0
    assert match_settings(demo).weights == run["weights"]  # now it ranks the sponsors
    texts = learning.change_texts(run)
    assert "“Free at the same times” mattered more here" in texts[0]


def test_the_version_is_recorded_on_proposals_and_rounds_and_rollback_restores_fixed(demo, db):
    with time_machine.travel(NOW, tick=False):
        learning.train(demo, now=NOW)
        active = learning.active_model(demo)
        waiting = db.session.scalars(
            select(SponsorRequest).where(
                SponsorRequest.program_id == demo.id, SponsorRequest.status == "open"
            )
        ).all()
        pending = set(
            db.session.scalars(select(Proposal.newcomer_id).where(Proposal.status == "pending"))
        )
        free = next(r for r in waiting if r.newcomer_id not in pending)
        proposal = proposals.ask(db.session.get(Member, free.newcomer_id), free.uuid, best=True)
        assert proposal.model_id == active.id
        coordinator = db.session.scalar(
            select(Member).where(Member.email == "coordinator@demo.example")
        )
        rnd = rounds.run_round(demo, coordinator)
        assert rnd.model_id == active.id
        published = rounds.publish(rnd, coordinator)
        made = db.session.scalars(select(Proposal).where(Proposal.round_id == published.id)).all()
        assert made and {p.model_id for p in made} == {active.id}

        card = learning.rollback(demo, to="fixed", actor=coordinator)
        assert card["ranking_with"] == "fixed" and card["active"] is None
        assert match_settings(demo).weights == dict(demo.setting("match_weights"))
        assert db.session.get(MatchModel, active.id).status == "rolled_back"
        assert rounds.run_round(demo, coordinator).model_id is None  # fixed weights again


def test_rollback_to_the_previous_version(demo, db):
    first = learning.train(demo, now=NOW)
    second = learning.train(demo, now=NOW + timedelta(days=7))
    assert (first["status"], second["status"]) == ("active", "active")
    assert learning.active_model(demo).version == 2
    assert db.session.scalar(select(MatchModel.status).where(MatchModel.version == 1)) == (
        "retired"
    )
    card = learning.rollback(demo, to="previous")
    assert card["active"]["version"] == 1 and not card["can_roll_back_to_previous"]
    with pytest.raises(learning.Conflict):
        learning.rollback(demo, to="previous")  # nothing before version 1
    learning.rollback(demo, to="fixed")
    with pytest.raises(learning.Conflict):
        learning.rollback(demo, to="fixed")  # already on the fixed weights


def test_thin_history_is_refused_in_words_and_the_fixed_weights_stay(db, make_program):
    program = make_program()
    run = learning.train(program, now=NOW)
    assert run["status"] == "refused" and run["reason"] == "too_little_history"
    assert learning.active_model(program) is None
    assert match_settings(program).weights == dict(program.setting("match_weights"))
    text = learning.reason_text(run)
    assert text.startswith("Not enough history yet: 0 pairs with a known 90-day outcome")


def test_the_weekly_job_trains_each_programme_once_a_week(db, make_program):
    programs = [make_program(), make_program()]
    assert retrain_models(NOW) == 2
    assert retrain_models(NOW + timedelta(hours=1)) == 0  # a second run in the week: nothing
    assert retrain_models(NOW + timedelta(days=7)) == 2
    versions = db.session.scalars(
        select(MatchModel.version).where(MatchModel.program_id == programs[0].id)
    ).all()
    assert sorted(versions) == [1, 2]


@time_machine.travel(NOW, tick=False)
def test_the_command_dry_run_stores_nothing_and_rollback_is_one_command(demo, db, runner):
    out = runner.invoke(args=["learn", "--program", str(demo.uuid), "--dry-run"])
    assert out.exit_code == 0, out.output
    assert out.output.startswith("dry run: active (adopted)")
    assert db.session.scalar(select(func.count(MatchModel.id))) == 0
    assert runner.invoke(args=["learn", "--program", str(demo.uuid)]).exit_code == 0
    assert learning.active_model(demo).version == 1
    out = runner.invoke(args=["learn-rollback", "--program", str(demo.uuid), "--to", "fixed"])
    assert out.exit_code == 0 and "fixed weights" in out.output
    assert learning.active_model(demo) is None
    bad = runner.invoke(args=["learn", "--program", "not-a-programme"])
    assert bad.exit_code != 0 and "No programme" in bad.output


def test_the_model_card_api_names_nobody_and_rolls_back(demo, db, client, auth):
    learning.train(demo, now=NOW)
    coordinator = db.session.scalar(
        select(Member).where(Member.email == "coordinator@demo.example")
    )
    headers = auth(coordinator)
    url = f"/api/v1/programs/{demo.uuid}/model-card"
    card = client.get(url, headers=headers)
    assert card.status_code == 200, card.json
    body = card.json
    assert body["ranking_with"] == "learned" and body["active"]["version"] == 1
    assert body["active"]["summary"]["pairs_known"] >= 100
    assert body["active"]["changes_text"][0].startswith("“Free at the same times”")
    text = json.dumps(body)
    names = db.session.scalars(select(Member.display_name)).all()
    assert not any(name in text for name in names)  # aggregates only
    assert (
        client.post(url + "/rollback", json={"to": "sideways"}, headers=headers).status_code == 422
    )
    assert client.post(url + "/rollback", json={"x": 1}, headers=headers).status_code == 422
    back = client.post(url + "/rollback", json={"to": "fixed"}, headers=headers)
    assert back.status_code == 200 and back.json["ranking_with"] == "fixed"
    again = client.post(url + "/rollback", json={"to": "fixed"}, headers=headers)
    assert again.status_code == 409


def test_the_model_card_page_and_its_rollback_button(demo, db, client):
    learning.train(demo, now=NOW)
    client.post(
        "/login",
        data={"email": "coordinator@demo.example", "password": "recovery-demo"},
    )
    page = client.get(f"/coordinator/{demo.uuid}/model")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "With the learned weights, version 1" in html
    assert "mattered more here" in html and "Use the fixed weights" in html
    done = client.post(f"/coordinator/{demo.uuid}/model/rollback", data={"to": "fixed"})
    assert done.status_code == 302
    assert learning.active_model(demo) is None
    again = client.get(f"/coordinator/{demo.uuid}/model").get_data(as_text=True)
    assert "fixed weights (the ones in Settings)" in again
    assert "Use the fixed weights" not in again  # nothing to roll back any more


def test_labels_censor_young_pairs_and_endings_that_say_nothing_about_the_fit(
    db, make_program, make_member
):
    from api.models import Sponsorship

    program = make_program()
    sponsor = make_member(program, "sponsor")
    cases = [  # (status, days ago, ended after days, end reason) → the 90-day label
        ("accepted", 200, None, None, 1.0),  # together for 200 days
        ("accepted", 200, 30, "not_a_good_fit", 0.0),  # ended early: a real ending
        ("accepted", 200, 30, "temporary_period_over", None),  # as planned: censored
        ("accepted", 40, None, None, None),  # too young to know: censored
        ("accepted", 40, 10, "lost_contact", 0.0),  # young, but already ended
        ("declined", 100, None, None, None),  # no pair at all
        ("withdrawn", 100, None, None, "left out"),  # never answered: not in the history
    ]
    for status, ago, ended, reason, _ in cases:
        newcomer = make_member(program, "newcomer")
        at = NOW - timedelta(days=ago)
        request = SponsorRequest(
            program_id=program.id, newcomer_id=newcomer.id, status="matched", created_at=at
        )
        db.session.add(request)
        db.session.flush()
        proposal = Proposal(
            program_id=program.id,
            request_id=request.id,
            newcomer_id=newcomer.id,
            sponsor_id=sponsor.id,
            status=status,
            created_at=at,
            deadline_at=at + timedelta(hours=48),
        )
        db.session.add(proposal)
        db.session.flush()
        if status == "accepted":
            db.session.add(
                Sponsorship(
                    program_id=program.id,
                    sponsor_id=sponsor.id,
                    sponsee_id=newcomer.id,
                    proposal_id=proposal.id,
                    status="ended" if ended else "active",
                    started_at=at,
                    ended_at=at + timedelta(days=ended) if ended else None,
                    end_reason=reason,
                )
            )
    db.session.commit()
    data, summary = learning.history(program, NOW)
    answered = sorted((c for c in cases if c[4] != "left out"), key=lambda c: -c[1])  # by date
    got = [None if v != v else v for v in data.lasted.tolist()]  # NaN → None
    assert got == [c[4] for c in answered]
    assert data.accepted.tolist() == [float(c[0] == "accepted") for c in answered]
    assert summary["proposals"] == 6 and summary["pairs_known"] == 3
    assert summary["pairs_lasted"] == 1
