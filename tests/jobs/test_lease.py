"""Scheduler leadership: a lease with a fencing token (issue 13 items 3-4, issue 14 item 1)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from api.models import SchedulerLease, WorkerHeartbeat, utcnow
from jobs.lease import LeadershipLost, Lease, install_fencing
from jobs.worker import beat


@pytest.fixture
def leases(app, db):
    made: list[Lease] = []

    def make(period_s: float = 30.0) -> Lease:
        lease = Lease(app, period_s=period_s)
        made.append(lease)
        return lease

    yield make
    for lease in made:
        lease._close()


def test_one_holder_at_a_time_and_a_clean_release_hands_over_at_once(leases):
    first, second = leases(), leases()
    assert first.acquire() == 1
    assert second.acquire() is None  # the holder is alive and its lease runs
    assert first.renew() and first.still_valid()
    first.release()
    assert second.acquire() == 2


def test_a_lapsed_lease_is_taken_over_and_the_old_holder_cannot_renew(leases):
    first, second = leases(period_s=0.3), leases(period_s=0.3)
    assert first.acquire() == 1
    time.sleep(0.4)  # first "froze": alive, but it did not renew
    assert not first.still_valid()
    assert second.acquire() == 2
    assert first.renew() is False and first.token is None
    assert second.renew()


def test_a_stale_token_cannot_commit_job_results(app, db, leases):
    install_fencing()
    first, second = leases(period_s=0.3), leases(period_s=0.3)
    first.acquire()
    fence = first.fence()
    time.sleep(0.4)  # first froze; second takes over
    second.acquire()
    with fence.active():
        with pytest.raises(LeadershipLost):
            fence.ensure_leading()  # checked before an email goes out
        with pytest.raises(LeadershipLost, match="token 1 is stale"):
            beat(utcnow())  # the commit checks the token inside its own transaction
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(WorkerHeartbeat)) == 0


def test_a_current_token_commits(app, db, leases):
    install_fencing()
    lease = leases()
    lease.acquire()
    with lease.fence().active():
        beat(utcnow())
    assert db.session.scalar(select(WorkerHeartbeat.pid)) is not None


def test_a_dead_holder_is_replaced_without_waiting_for_its_lease(app, db, leases, is_postgres):
    first, second = leases(), leases()
    assert first.acquire() == 1
    if is_postgres:
        first._close()  # its database session ends, as when the process is killed
    else:
        gone = subprocess.Popen(["true"])
        gone.wait()
        db.session.execute(update(SchedulerLease).values(pid=gone.pid))
        db.session.commit()
    deadline = time.monotonic() + 5
    while (token := second.acquire()) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert token == 2


def test_once_refuses_cleanly_when_the_database_is_unreachable(tmp_path):
    cli = str(Path(sys.executable).parent / "sponsor-match")
    env = {
        **os.environ,
        "SPONSOR_ENV": "testing",
        "SPONSOR_DATABASE_URL": f"sqlite:///{tmp_path / 'missing' / 'x.db'}",
    }
    done = subprocess.run([cli, "worker", "--once"], env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert "the database is unavailable (OperationalError); nothing was run" in done.stderr
    assert "Traceback" not in done.stderr
