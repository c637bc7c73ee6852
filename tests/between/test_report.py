"""The milestones report: counts per month and per kind, small cells (fewer than 5 people)
hidden, and the total hidden with them; another programme's members never counted."""

from __future__ import annotations

from datetime import UTC, date, datetime

from api.extensions import db
from api.models import MilestoneReached, Resource, ResourceShare, Sponsorship, utcnow
from api.reports import make_params, run_report
from api.reports.csv import to_csv


def _reach(member, day, code="30d"):
    db.session.add(MilestoneReached(member_id=member.id, milestone=code, reached_on=day))


def test_counts_per_month_and_kind_with_small_cells_hidden(make_program, make_member):
    program, other = make_program(), make_program()
    march = [make_member(program, "newcomer") for _ in range(6)]
    april = [make_member(program, "newcomer") for _ in range(2)]
    for member in march:
        _reach(member, date(2026, 3, 9))
    _reach(march[0], date(2026, 3, 20), "60d")  # a second one: 7 milestones, 6 people
    for member in april:
        _reach(member, date(2026, 4, 2))
    for _ in range(9):
        _reach(make_member(other, "newcomer"), date(2026, 3, 9))
    sponsor = make_member(program, "sponsor")
    meetings = Resource(
        program_id=program.id, title="M", url="https://e.example.org", kind="meetings"
    )
    coping = Resource(program_id=program.id, title="C", body="Breathe.", kind="coping")
    db.session.add_all([meetings, coping])
    db.session.flush()
    for n, sponsee in enumerate(march[:5]):
        pair = Sponsorship(program_id=program.id, sponsor_id=sponsor.id, sponsee_id=sponsee.id,
                           kind="permanent", started_at=utcnow())  # fmt: skip
        db.session.add(pair)
        db.session.flush()
        db.session.add(ResourceShare(resource_id=meetings.id, sponsorship_id=pair.id,
                                     program_id=program.id,
                                     created_at=datetime(2026, 3, 10, tzinfo=UTC)))  # fmt: skip
        if n == 0:
            db.session.add(ResourceShare(resource_id=coping.id, sponsorship_id=pair.id,
                                         program_id=program.id,
                                         created_at=datetime(2026, 3, 11, tzinfo=UTC)))  # fmt: skip
    db.session.commit()

    params = make_params(program, date(2026, 3, 1), date(2026, 4, 30))
    result = run_report("milestones", params)
    months = {m["month"]: m for m in result["months"]}
    assert months["2026-03"] == {"month": "2026-03", "count": 7, "suppressed": False}
    assert months["2026-04"] == {"month": "2026-04", "count": None, "suppressed": True}
    assert result["milestones_total"] == {"count": None, "suppressed": True}
    kinds = {k["kind"]: k for k in result["shared"]}
    assert kinds["meetings"]["count"] == 5 and kinds["meetings"]["listed"] == 1
    assert kinds["coping"]["suppressed"] and kinds["coping"]["count"] is None
    assert kinds["crisis"] == {"kind": "crisis", "listed": 0, "count": 0, "suppressed": False}
    assert result["shared_total"]["suppressed"]
    csv = to_csv(result)
    assert "2026-03,7" in csv and "2026-04,hidden" in csv

    march_only = run_report("milestones", make_params(program, date(2026, 3, 1), date(2026, 3, 31)))
    assert march_only["milestones_total"] == {"count": 7, "suppressed": False}
    text = str(result) + csv
    for member in march + april:
        assert str(member.uuid) not in text and member.display_name not in text
