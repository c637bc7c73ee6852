"""The scheduler process: leadership by lease (jobs/lease.py), APScheduler in UTC, a heartbeat,
and a loop that outlives database outages (retries with backoff, leads again when it can)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from contextlib import nullcontext

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from api.errors import loggable_traceback
from api.extensions import db
from api.models import WorkerHeartbeat, utcnow
from jobs.lease import Fence, LeadershipLost, Lease, LeaseHolder, install_fencing
from jobs.schedule import HEARTBEAT, JOBS, JobSpec

log = logging.getLogger("sponsor_match.worker")
HEARTBEAT_NAME = "scheduler"
_started = {"at": None}  # set when this process becomes the leader
DEFAULT_LEASE_S = 30.0
STANDBY_POLL_S = 1.0


def lease_period_s(app: Flask) -> float:
    """How long a lease lasts unrenewed: a frozen leader is replaced within twice this."""
    return float(app.config.get("SCHEDULER_LEASE_S") or DEFAULT_LEASE_S)


def beat(now) -> None:
    """Record that the leading worker is alive; scheduler_status() reports its age."""
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


def _rollback() -> None:
    try:
        db.session.rollback()
    except SQLAlchemyError:  # the connection is gone; remove() below discards it
        pass


def _runner(app: Flask, spec: JobSpec, fence: Fence | None = None):
    """The job as APScheduler calls it: under ``fence`` (every commit checks the lease token)."""
    func = spec.load()

    def run() -> None:
        with app.app_context(), fence.active() if fence else nullcontext():
            started = time.monotonic()
            try:
                if fence is not None:
                    fence.ensure_leading()
                result = func(utcnow())
            except LeadershipLost as exc:
                _rollback()
                log.warning("job=%s stopped without committing: %s", spec.id, exc)
                return
            except SQLAlchemyError as exc:
                _rollback()
                if not _is_outage(exc):
                    log.error("job=%s failed\n%s", spec.id, loggable_traceback(exc))
                    return
                # One line, no traceback: the job catches up at its next turn.
                log.warning("job=%s: database unavailable (%s)", spec.id, type(exc).__name__)
                return
            except Exception as exc:
                _rollback()
                # Not log.exception: a driver's message may repeat a row (emails, dates).
                log.error("job=%s failed\n%s", spec.id, loggable_traceback(exc))
                return
            finally:
                db.session.remove()
            log.info("job=%s result=%s took=%.3fs", spec.id, result, time.monotonic() - started)

    return run


def _is_outage(exc: SQLAlchemyError) -> bool:
    from api.database import is_outage

    return is_outage(exc)


def _ordered_once() -> tuple[JobSpec, ...]:
    # Delivery last, so what the other jobs queued goes out in the same run.
    return (HEARTBEAT, *sorted(JOBS, key=lambda spec: spec.id == "deliver-outbox"))


def run_all_once(app: Flask) -> LeaseHolder | None:
    """Run every job once under the scheduler lease (cron-style use and smoke tests).

    Returns None when the jobs ran, or the live holder when another worker leads (nothing ran).
    Raises SQLAlchemyError when the database is unreachable.
    """
    install_fencing()
    lease = Lease(app, period_s=lease_period_s(app))
    if lease.acquire() is None:
        holder = lease.current()
        lease.release()
        return holder
    _started["at"] = utcnow()
    done = threading.Event()

    def keep() -> None:  # a long catch-up run must not let the lease lapse under it
        while not done.wait(lease.period_s / 3):
            try:
                if not lease.renew():
                    return
            except SQLAlchemyError:
                continue

    keeper = threading.Thread(target=keep, name="lease-keeper", daemon=True)
    keeper.start()
    try:
        fence = lease.fence()
        for spec in _ordered_once():
            _runner(app, spec, fence)()
    finally:
        done.set()
        keeper.join()
        lease.release()
    return None


def _start_schedule(app: Flask, lease: Lease, speed: float) -> BackgroundScheduler:
    fence = lease.fence()
    scheduler = BackgroundScheduler(
        timezone="UTC", executors={"default": ThreadPoolExecutor(max_workers=len(JOBS) + 1)}
    )
    now = utcnow()
    for spec in (HEARTBEAT, *JOBS):
        scheduler.add_job(
            _runner(app, spec, fence),
            "interval",
            seconds=spec.every_s / speed,
            id=spec.id,
            name=spec.id,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=spec.misfire_grace_s,
            next_run_time=now,
        )
    scheduler.start()
    return scheduler


def run_worker(app: Flask, *, speed: float = 1.0, lease_s: float | None = None) -> None:
    """Lead when the lease is free, stand by while another worker leads, and keep going through
    database outages, until SIGTERM/SIGINT. ``speed`` divides the job intervals (tests), not
    the lease: a dead leader is replaced at once, a frozen one when its lease lapses."""
    install_fencing()
    lease = Lease(app, period_s=lease_s or lease_period_s(app))
    tick = lease.period_s / 3  # the leader renews three times per period
    poll = min(tick, STANDBY_POLL_S)  # a standby looks often: a dead leader is replaced at once
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    schedule: BackgroundScheduler | None = None
    failures, standby_token = 0, None

    def step_down(why: str) -> None:
        nonlocal schedule
        log.warning("worker pid=%d stops leading: %s", os.getpid(), why)
        schedule.shutdown(wait=False)  # running jobs can no longer commit (stale token)
        schedule = None

    log.info("worker pid=%d started (lease %.1fs)", os.getpid(), lease.period_s)
    try:
        while not stopping.is_set():
            try:
                if schedule is None:
                    if lease.acquire() is not None:
                        log.info("worker pid=%d active (lease token %d)", os.getpid(), lease.token)
                        _started["at"] = utcnow()
                        schedule = _start_schedule(app, lease, speed)
                        standby_token = None
                    else:
                        holder = lease.current()
                        if holder and holder.token != standby_token:
                            standby_token = holder.token
                            log.info(
                                "worker pid=%d on standby: pid %s on %s leads (lease token %d)",
                                os.getpid(),
                                holder.pid,
                                holder.host,
                                holder.token,
                            )
                elif not lease.renew():
                    step_down("another worker took the lease")
                if failures:
                    log.info("database reachable again after %d failed attempts", failures)
                failures, delay = 0, tick if schedule is not None else poll
            except SQLAlchemyError as exc:
                failures += 1
                delay = min(0.5 * 2 ** (failures - 1) / speed, tick)
                if failures == 1:
                    log.warning(
                        "database unavailable (%s); retrying with backoff", type(exc).__name__
                    )
                if schedule is not None and not lease.still_valid():
                    step_down("the lease lapsed while the database was unreachable")
            stopping.wait(delay)
    finally:
        if schedule is not None:
            schedule.shutdown(wait=True)
        try:
            lease.release()
        except SQLAlchemyError:
            pass  # the lease lapses by itself
        log.info("worker pid=%d stopped", os.getpid())
