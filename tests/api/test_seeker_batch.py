"""A matching round reads every open request in a fixed number of queries: the batch gives
each request exactly what the one-request reading gives (exclusions, blocks, waiting time)."""

from __future__ import annotations

from sqlalchemy import event

from api.extensions import db
from api.matching_inputs import seeker_request, seeker_requests
from api.models import Block, Proposal, Sponsorship, utcnow
from tests.api.workflow_fixture import open_request, world_fixture  # noqa: F401


def _proposal(request, sponsor, status):
    row = Proposal(
        program_id=request.program_id,
        request_id=request.id,
        newcomer_id=request.newcomer_id,
        sponsor_id=sponsor.id,
        status=status,
        score=0.5,
        reasons=[],
        deadline_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    return row


def test_the_batch_equals_one_request_at_a_time_in_three_queries(db, world):
    w = world(n_sponsors=4, n_newcomers=3)
    a, b, c = (open_request(n, w.program) for n in w.newcomers)
    _proposal(a, w.sponsors[0], "declined")  # declined a: excluded for good
    _proposal(b, w.sponsors[1], "expired")  # let b's ask lapse: excluded for b only
    ended = _proposal(c, w.sponsors[2], "accepted")
    db.session.add(
        Sponsorship(
            program_id=c.program_id,
            sponsor_id=w.sponsors[2].id,
            sponsee_id=c.newcomer_id,
            proposal_id=ended.id,
            status="ended",
            started_at=utcnow(),
            ended_at=utcnow(),
        )
    )
    db.session.add(Block(member_id=w.newcomers[0].id, blocked_member_id=w.sponsors[3].id))
    db.session.commit()
    now = utcnow()
    one_by_one = [seeker_request(r, now) for r in (a, b, c)]
    statements = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        batch = seeker_requests([a, b, c], now)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert batch == one_by_one
    assert batch[0].excluded_sponsor_ids == {str(w.sponsors[0].uuid)}
    assert batch[1].excluded_sponsor_ids == {str(w.sponsors[1].uuid)}
    assert batch[2].excluded_sponsor_ids == {str(w.sponsors[2].uuid)}
    assert batch[0].blocked_member_ids == {str(w.sponsors[3].uuid)}
    assert len(statements) <= 3
