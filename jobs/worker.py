"""The scheduler process: one active worker (lock), APScheduler in UTC, and a heartbeat."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from api.errors import loggable_traceback
from api.extensions import db
from api.models import WorkerHeartbeat, utcnow
from jobs.schedule import HEARTBEAT, JOBS, JobSpec

log = logging.getLogger("sponsor_match.worker")
HEARTBEAT_NAME = "scheduler"
ADVISORY_LOCK_KEY = 0x53504F4E  # "SPON": one active worker per database
_started = {"at": None}  # set when this process becomes the active worker


class WorkerLock:
    """Exactly one active worker: a PostgreSQL advisory lock held on a dedicated connection
    (released by the server if the process dies), or an flock on a file for SQLite."""

    def __init__(self, app: Flask):
        self.app = app
        self._conn = None
        self._file = None

    def try_acquire(self) -> bool:
        with self.app.app_context():
            if db.engine.dialect.name == "postgresql":
                return self._try_pg()
        return self._try_file()

    def _try_pg(self) -> bool:
        if self._conn is None:
            # A dedicated, unpooled connection: closing it really ends the session (and the
            # lock), and the server drops the lock by itself if this process dies.
            engine = create_engine(
                db.engine.url,
                poolclass=NullPool,
                isolation_level="AUTOCOMMIT",
                hide_parameters=True,
            )
            self._conn = engine.connect()
        got = bool(
            self._conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
        )
        if not got:
            self._conn.close()
            self._conn = None
        return got

    def _try_file(self) -> bool:
        import fcntl

        handle = open(self.app.config["WORKER_LOCK_PATH"], "a+")  # noqa: SIM115 - held open
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def still_held(self) -> bool:
        """False if the lock's database connection is gone (the server dropped the lock)."""
        if self._conn is None:
            return self._file is not None
        try:
            self._conn.scalar(text("SELECT 1"))
            return True
        except Exception:  # any connection failure means the lock is gone
            return False

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()  # closing the session releases the advisory lock
            finally:
                self._conn = None
        if self._file is not None:
            self._file.close()  # closing the descriptor releases the flock
            self._file = None


def beat(now) -> None:
    """Record that this worker is alive; /readyz reports it stale when this stops."""
    db.session.merge(
        WorkerHeartbeat(
            name=HEARTBEAT_NAME,
            pid=os.getpid(),
            host=socket.gethostname()[:120],
            started_at=_started["at"] or now,
            beat_at=now,
        )
    )
    db.session.commit()


def _runner(app: Flask, spec: JobSpec, on_lost_lock: Callable[[], None] | None = None):
    func = spec.load()

    def run() -> None:
        if on_lost_lock is not None:
            on_lost_lock()
        with app.app_context():
            started = time.monotonic()
            try:
                result = func(utcnow())
            except Exception as exc:
                db.session.rollback()
                # Not log.exception: a driver's message may repeat a row (emails, dates).
                log.error("job=%s failed\n%s", spec.id, loggable_traceback(exc))
                return
            finally:
                db.session.remove()
            log.info("job=%s result=%s took=%.3fs", spec.id, result, time.monotonic() - started)

    return run


def run_all_once(app: Flask) -> None:
    """Run every job once (cron-style use and smoke tests); delivery last, so what the other
    jobs queued goes out in the same run."""
    ordered = sorted(JOBS, key=lambda spec: spec.id == "deliver-outbox")
    for spec in (HEARTBEAT, *ordered):
        _runner(app, spec)()


def run_worker(app: Flask, *, speed: float = 1.0, standby_poll_s: float = 2.0) -> None:
    """Wait for the worker lock (standby), then run the schedule until SIGTERM/SIGINT."""
    lock = WorkerLock(app)
    stopping = {"now": False}

    def stop(*_args) -> None:
        stopping["now"] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    announced = False
    while not lock.try_acquire():
        if not announced:
            log.info("worker pid=%d on standby: another worker holds the lock", os.getpid())
            announced = True
        time.sleep(max(standby_poll_s / speed, 0.05))
        if stopping["now"]:
            return
    log.info("worker pid=%d active", os.getpid())
    _started["at"] = utcnow()
    scheduler = BlockingScheduler(timezone="UTC")

    def check_lock() -> None:
        if not lock.still_held():
            log.error("worker lock lost; stopping so a standby can take over")
            os.kill(os.getpid(), signal.SIGTERM)

    def stop_scheduler(*_args) -> None:
        # Not inline: the handler may interrupt the scheduler while it holds its job store
        # lock; a thread waits for the lock and then wakes the main loop to exit.
        threading.Thread(target=scheduler.shutdown, kwargs={"wait": False}).start()

    signal.signal(signal.SIGTERM, stop_scheduler)
    signal.signal(signal.SIGINT, stop_scheduler)
    now = utcnow()
    for spec in (HEARTBEAT, *JOBS):
        scheduler.add_job(
            _runner(app, spec, check_lock if spec is HEARTBEAT else None),
            "interval",
            seconds=spec.every_s / speed,
            id=spec.id,
            name=spec.id,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=spec.misfire_grace_s,
            next_run_time=now,
        )
    try:
        if not stopping["now"]:
            scheduler.start()
    finally:
        lock.release()
        log.info("worker pid=%d stopped", os.getpid())
