"""Real worker processes: a frozen leader is replaced and fenced off, a database outage does not
end the worker, and ``worker --once`` never delivers beside a live leader."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, make_url, select

from api.models import OutboxMessage, SchedulerLease, WorkerHeartbeat
from api.services.notify import notify
from benchmarks.tcp_proxy import TcpProxy
from tests.jobs.helpers import SmtpSink

CLI = str(Path(sys.executable).parent / "sponsor-match")
LEASE_S = 2.0


def _wait(predicate, timeout: float = 120.0, step: float = 0.02) -> float | None:
    """Seconds until ``predicate()`` held, or None if it never did within ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(step)
    return None


class Workers:
    """Starts ``sponsor-match worker`` processes against the test database; stops them all."""

    def __init__(self, app, database_url: str, tmp_path: Path, smtp_port: int = 9):
        self.app = app
        self.log = tmp_path / "worker.log"
        self.env = {
            **os.environ,
            "SPONSOR_ENV": "testing",
            "SPONSOR_DATABASE_URL": database_url,
            "SPONSOR_SMTP_PORT": str(smtp_port),
            "SPONSOR_LOG_LEVEL": "INFO",
        }
        self.started: list[subprocess.Popen] = []

    def start(self, *args: str) -> subprocess.Popen:
        with self.log.open("ab") as out:
            proc = subprocess.Popen(
                [CLI, "worker", *args], env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        self.started.append(proc)
        return proc

    def leader(self, *args: str) -> subprocess.Popen:
        return self.start("--lease-s", str(LEASE_S), *args)

    def text(self) -> str:
        return self.log.read_text()

    def scalar(self, query):
        with self.app.app_context():
            from api.extensions import db

            try:
                return db.session.scalar(query)
            finally:
                db.session.remove()

    def heartbeat_pid(self) -> int | None:
        return self.scalar(select(WorkerHeartbeat.pid))

    def lease_pid(self) -> int | None:
        return self.scalar(select(SchedulerLease.pid).where(SchedulerLease.holder != ""))

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.send_signal(signal.SIGTERM)
        for proc in self.started:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def workers(app, db, database_url, tmp_path):
    made = Workers(app, database_url, tmp_path)
    yield made
    made.stop_all()


@pytest.mark.slow
def test_a_frozen_leader_is_replaced_within_two_lease_periods_and_fenced_off(workers, capsys):
    """Issue 13 item 4: SIGSTOP the leader; the standby leads within 2 lease periods, and the
    old leader, woken, commits nothing (its token is stale) and goes back to standby."""
    first = workers.leader("--speed", "20")
    assert _wait(lambda: workers.heartbeat_pid() == first.pid), workers.text()[-2000:]
    second = workers.leader("--speed", "20")
    assert _wait(lambda: f"pid={second.pid} on standby" in workers.text()), workers.text()[-2000:]
    first.send_signal(signal.SIGSTOP)
    took = _wait(lambda: workers.lease_pid() == second.pid, timeout=4 * LEASE_S)
    beat = _wait(lambda: workers.heartbeat_pid() == second.pid)
    with capsys.disabled():
        print(f"\nfrozen leader: lease taken over {took} s after SIGSTOP (lease {LEASE_S} s)")
    assert took is not None and took <= 2 * LEASE_S, workers.text()[-3000:]
    assert beat is not None  # and the new leader runs the jobs
    first.send_signal(signal.SIGCONT)
    assert _wait(lambda: f"worker pid={first.pid} stops leading" in workers.text())
    time.sleep(1.0)  # the woken leader's overdue jobs have run (and failed their commits)
    assert workers.heartbeat_pid() == second.pid and workers.lease_pid() == second.pid
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=30) == 0


@pytest.mark.slow
@pytest.mark.postgres
def test_the_worker_outlives_a_database_outage_and_leads_again(
    app, db, database_url, tmp_path, capsys
):
    """Issue 13 item 3: 20 s without a database (every connection cut, new ones refused) used
    to end the worker for good; now it retries with backoff and resumes its heartbeat."""
    url = make_url(database_url)
    with TcpProxy(url.host, url.port or 5432) as proxy:
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
        workers = Workers(app, proxied, tmp_path)
        try:
            worker = workers.leader("--speed", "20")
            assert _wait(lambda: workers.heartbeat_pid() == worker.pid), workers.text()[-2000:]
            proxy.cut()
            time.sleep(8.0)
            assert worker.poll() is None, workers.text()[-2000:]
            proxy.restore()
            with app.app_context():
                from api.extensions import db as _db

                _db.session.execute(WorkerHeartbeat.__table__.delete())
                _db.session.commit()
                _db.session.remove()
            back = _wait(lambda: workers.heartbeat_pid() == worker.pid)
            assert back is not None, workers.text()[-3000:]
            assert worker.poll() is None
            log = workers.text()
            assert "database unavailable" in log and "database reachable again" in log
            # One line for the outage (not one per retry), one when it is over.
            assert log.count("retrying with backoff") == 1, log[-3000:]
            with capsys.disabled():
                print(f"\ndatabase outage: heartbeat back {back:.1f} s after the database")
        finally:
            workers.stop_all()


@pytest.mark.slow
def test_three_once_runs_beside_a_live_worker_deliver_each_message_exactly_once(
    app, db, database_url, tmp_path, make_program, make_member
):
    """Issue 14 item 1: ``--once`` used to deliver beside the active worker (49 messages became
    116 emails). Now it refuses while a worker leads, saying who, and each message goes once."""
    program = make_program()
    backlog = 0
    for m in range(50):  # 3 emails each: under the hourly cap per person
        member = make_member(program, "newcomer")
        for n in range(3):
            notify(member, "checkin.due", key=f"once:{m}:{n}", title="Check in", body="b")
            backlog += 1
    db.session.commit()
    db.session.remove()
    with SmtpSink() as sink:
        workers = Workers(app, database_url, tmp_path, smtp_port=sink.port)
        try:
            # The default 30 s lease: a busy SQLite must not let it lapse mid-test (a lapsed
            # lease would rightly let a --once run, which is not what this test is about).
            worker = workers.start("--speed", "100")
            assert _wait(lambda: workers.heartbeat_pid() == worker.pid), workers.text()[-2000:]
            onces = []
            procs = [
                subprocess.Popen(
                    [CLI, "worker", "--once"],
                    env=workers.env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in range(3)
            ]
            for proc in procs:
                _out, err = proc.communicate(timeout=300)
                onces.append((proc.returncode, err))

            def pending() -> int:
                return workers.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status != "sent")
                )

            assert _wait(lambda: pending() == 0), workers.text()[-2000:]
            assert workers.heartbeat_pid() == worker.pid  # --once did not write over it
        finally:
            workers.stop_all()
    assert len(sink.ids) == backlog and len(set(sink.ids)) == backlog
    for code, err in onces:
        assert code == 1 and f"another worker leads (pid {worker.pid}" in err, err
