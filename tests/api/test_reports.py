"""Each report figure against the hand-computed programme in reports_fixture.py."""

from __future__ import annotations

from datetime import date

import pytest

from api.reports import REPORTS, make_params, run_report
from api.reports.common import gini
from tests.api.reports_fixture import END, NOW, START, programme_fixture  # noqa: F401


def report(fx, name, **kw):
    kw.setdefault("start", START)
    kw.setdefault("end", END)
    return run_report(name, make_params(fx.program, now=NOW, **kw))


def test_queue_lists_open_requests_longest_wait_first(programme):
    out = report(programme, "queue")
    assert [(r["display_name"], r["waiting_days"]) for r in out["queue"]] == [
        ("Newe N.", 20.0),
        ("Newf N.", 3.0),
    ]
    assert out["queue"][0]["proposals"] == 2
    assert out["queue"][0]["declined_or_expired"] == 1
    assert len(out["queue"][0]["request"]) == 8  # a short id, never the whole uuid
    assert out["open_requests"] == 2 and out["longest_wait_days"] == 20.0


def test_share_matched_within_7_days_leaves_out_requests_still_in_their_first_week(programme):
    out = report(programme, "queue")
    # 7 requests in range; R6 is 3 days old and undecided; R1, R3, R4 matched within 7 days.
    assert (out["requests"], out["decided"], out["matched_7d"]) == (7, 6, 3)
    assert out["share_matched_7d"] == 0.5


def test_timings_median_and_p90_per_stage(programme):
    stages = {s["stage"]: s for s in report(programme, "timings")["stages"]}
    assert stages["to_shortlist"] == pytest.approx(
        {**stages["to_shortlist"], "n": 6, "median": 2.5, "p90": 4.5}
    )
    assert (stages["to_accepted"]["n"], stages["to_accepted"]["median"]) == (4, 3.5)
    assert stages["to_accepted"]["p90"] == 8.5
    assert (stages["to_first_contact"]["n"], stages["to_first_contact"]["median"]) == (3, 4.0)
    assert stages["to_first_contact"]["p90"] == 9.6
    assert stages["to_shortlist"]["unit"] == "hours" and stages["to_accepted"]["unit"] == "days"


def test_proposals_acceptance_decline_reasons_and_load_bands(programme):
    out = report(programme, "proposals")
    assert out["proposals"] == 9
    assert (out["accepted"], out["declined"], out["expired"], out["pending"]) == (4, 3, 1, 1)
    assert out["acceptance_rate"] == 0.5
    reasons = {r["reason"]: r["count"] for r in out["decline_reasons"]}
    assert reasons == {"at_capacity": 1, "not_a_good_fit": 1, "unavailable_now": 1, "other": 0}
    bands = {b["load_band"]: b for b in out["by_load"]}
    assert (bands["0"]["proposals"], bands["0"]["acceptance_rate"]) == (5, 0.6)
    assert (bands["1"]["proposals"], bands["1"]["acceptance_rate"]) == (4, 0.3333)
    assert bands["2"]["proposals"] == 0 and bands["2"]["acceptance_rate"] is None


def test_survival_counts_active_pairs_as_censored(programme):
    out = report(programme, "survival")
    # Durations 20 (ended), 25 (active), 35 (ended), 40 (active). Treating the active pair at
    # 25 days as an ending would give 0.5 at day 30; Kaplan–Meier censoring gives 0.75.
    assert (out["pairs"], out["ended"], out["censored"]) == (4, 2, 2)
    assert out["surviving_at"] == {"30": 0.75, "90": None, "365": None}
    curve = {c["day"]: c["surviving"] for c in out["curve"]}
    assert curve[0.0] == 1.0 and curve[40.0] == 0.375
    reasons = {r["reason"]: r["count"] for r in out["end_reasons"]}
    assert reasons["moved_on"] == 1 and reasons["lost_contact"] == 1
    assert sum(reasons.values()) == 2


def test_survival_with_a_longer_follow_up(programme):
    out = report(programme, "survival", start=date(2026, 3, 1))
    # Adds SP7, active for 99 days (censored): 0.8 after day 20, then ×2/3 at day 35.
    assert out["pairs"] == 5
    assert out["surviving_at"] == {"30": 0.8, "90": 0.5333, "365": None}


def test_pool_states_load_distribution_and_gini(programme):
    out = report(programme, "pool")
    assert (out["sponsors"], out["accepting"], out["paused"], out["at_capacity"]) == (5, 2, 2, 1)
    assert out["load_distribution"] == [
        {"load": 0, "sponsors": 2},
        {"load": 1, "sponsors": 2},
        {"load": 2, "sponsors": 1},
    ]
    assert (out["capacity_total"], out["load_total"]) == (12, 4)
    # Proposals received in range per sponsor: 4, 2, 2, 1, 0 → Gini 0.4.
    assert (out["proposals"], out["sponsors_asked"]) == (9, 4)
    assert out["proposals_gini"] == 0.4
    assert out["top_decile_share"] == 0.4444


@pytest.mark.parametrize(
    ("counts", "expected"),
    [([3, 3, 3], 0.0), ([0, 0, 9], 0.6667), ([0, 1, 2, 2, 4], 0.4), ([], None), ([0, 0], None)],
)
def test_gini(counts, expected):
    assert gini(counts) == expected


def test_flags_opened_resolved_by_level_and_queue(programme):
    out = report(programme, "flags")
    levels = {row["level"]: row for row in out["levels"]}
    assert [levels[i]["opened"] for i in (1, 2, 3)] == [5, 4, 3]
    assert [levels[i]["resolved"] for i in (1, 2, 3)] == [1, 1, 1]
    assert [levels[i]["open_now"] for i in (1, 2, 3)] == [0, 0, 2]
    assert (out["escalation_queue"], out["escalation_unacknowledged"]) == (2, 1)
    resolutions = {r["resolution"]: r["count"] for r in out["resolutions"]}
    assert resolutions == {"contact": 2, "coordinator": 0, "ended": 1}


def test_breakdowns_suppress_cells_under_small_cell_min(programme):
    out = report(programme, "breakdowns")
    cells = {(c["dimension"], c["value"]): c for c in out["cells"]}
    # en (N1-N5, N8) has 6 people; es (N6, N8) has 2 and is hidden.
    assert cells[("language", "en")]["requests"] == 6
    assert cells[("language", "en")]["median_wait_days"] == 5.0
    assert cells[("language", "en")]["share_matched_7d"] == 0.5
    assert cells[("language", "en")]["suppressed"] is False
    for key in [("fellowship", "NA"), ("language", "es"), ("gender_rule", "any")]:
        assert cells[key]["suppressed"] is True
        assert cells[key]["requests"] is None
        assert cells[key]["median_wait_days"] is None
        assert cells[key]["share_matched_7d"] is None


def test_breakdowns_hide_a_second_cell_where_subtraction_would_reveal_the_first(programme):
    """Fellowship (everyone in one) and gender rule split the 7 requests' people exactly: with
    7 known from the queue report, AA = 6 shown would give NA = 1 away. Languages overlap
    (N8 speaks both), so en stays visible."""
    cells = {(c["dimension"], c["value"]): c for c in report(programme, "breakdowns")["cells"]}
    for key in [("fellowship", "AA"), ("gender_rule", "program_default")]:
        assert cells[key]["suppressed"] is True
        assert cells[key]["requests"] is None
    assert cells[("language", "en")]["suppressed"] is False


def test_a_programme_may_hide_larger_groups(programme, db):
    programme.program.settings = {"small_cell_min": 7}
    db.session.commit()
    out = report(programme, "breakdowns")
    cells = {(c["dimension"], c["value"]): c for c in out["cells"]}
    assert out["small_cell_min"] == 7
    assert cells[("language", "en")]["suppressed"] is True  # 6 people < 7
    assert cells[("language", "en")]["requests"] is None


@pytest.mark.parametrize("stored", [1, 4])
def test_a_stored_minimum_below_five_is_read_as_five(programme, db, stored):
    """Older data may hold a lower value; reports never show a group of fewer than 5."""
    programme.program.settings = {"small_cell_min": stored}
    db.session.commit()
    for name in ("breakdowns", "checkins", "milestones"):
        assert report(programme, name)["small_cell_min"] == 5, name
    cells = {(c["dimension"], c["value"]): c for c in report(programme, "breakdowns")["cells"]}
    assert cells[("language", "es")]["suppressed"] is True  # 2 people
    assert cells[("language", "en")]["requests"] == 6


def test_fellowship_filter_narrows_every_report(programme):
    timings = report(programme, "timings", fellowship="NA")
    assert timings["requests"] == 1
    assert timings["stages"][0]["median"] == 1.0
    assert report(programme, "queue", fellowship="NA")["open_requests"] == 0
    assert report(programme, "pool", fellowship="NA")["sponsors"] == 0
    assert report(programme, "proposals", fellowship="NA")["proposals"] == 0
    assert report(programme, "survival", fellowship="NA")["pairs"] == 0
    assert report(programme, "flags", fellowship="AA")["escalation_queue"] == 2


def test_an_empty_programme_gives_empty_reports_not_errors(make_program):
    program = make_program()
    for name in REPORTS:
        out = run_report(name, make_params(program, now=NOW))
        assert out["report"] == name


def test_default_range_is_the_last_90_days(programme):
    params = make_params(programme.program, now=NOW)
    assert (params.start, params.end) == (date(2026, 4, 2), date(2026, 6, 30))


def test_fellowship_filter_matches_whole_names_only(make_program, make_member, db):
    from api.models import SponsorRequest

    program = make_program(fellowships=["A_A", "AxA", "Über"])
    for name in ("A_A", "AxA", "Über"):
        member = make_member(program, "newcomer", fellowships=[name])
        db.session.add(SponsorRequest(program_id=program.id, newcomer_id=member.id))
    db.session.commit()
    for name in ("A_A", "AxA", "Über"):
        params = make_params(program, fellowship=name)
        assert run_report("timings", params)["requests"] == 1, name
