"""The worker's schedule, declared as data: stable job ids, intervals and misfire grace."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass

from api.observability import observe_job


@dataclass(frozen=True)
class JobSpec:
    """One periodic job: ``func`` ("module:function") is called with ``now`` (aware UTC)."""

    id: str
    func: str
    every_s: float
    misfire_grace_s: int

    def load(self) -> Callable:
        """The job function, timed and its failures counted for /metrics (observe_job)."""
        module, _, name = self.func.partition(":")
        func = getattr(importlib.import_module(module), name)

        @functools.wraps(func)
        def observed(*args, **kwargs):
            with observe_job(self.id):
                return func(*args, **kwargs)

        return observed


# Ids are stable: APScheduler, logs and dashboards refer to jobs by them. Every job catches up
# on everything due when it runs, so a missed run (coalesced) loses nothing.
JOBS: tuple[JobSpec, ...] = (
    JobSpec("deliver-outbox", "jobs.deliver:deliver_due", every_s=10, misfire_grace_s=60),
    JobSpec("expire-proposals", "jobs.expiry:expire_proposals", every_s=60, misfire_grace_s=300),
    JobSpec("ask-reminders", "jobs.ask_reminders:remind_pending_asks", 300, misfire_grace_s=600),
    JobSpec(
        "checkin-prompts", "jobs.checkin_prompts:send_checkin_prompts", 300, misfire_grace_s=600
    ),
    JobSpec("missed-contact", "jobs.missed_contact:flag_missed_contacts", 900, 1800),
    JobSpec("temporary-endings", "jobs.temporary_endings:prompt_term_endings", 3600, 3600),
    JobSpec("availability-checks", "jobs.availability:check_availability", 3600, 3600),
    JobSpec("long-waits", "jobs.waiting:alert_long_waits", 3600, 3600),
    JobSpec("milestones", "jobs.milestones:record_milestones", every_s=900, misfire_grace_s=1800),
    # hourly look for programmes a week past their last training (so a missed week catches up)
    JobSpec("learn-weights", "jobs.learn:retrain_models", 3600, misfire_grace_s=3600),
    JobSpec("daily-reminders", "jobs.daily_checkins:send_daily_reminders", 300, 600),
    JobSpec("reach-sponsors", "jobs.daily_checkins:nudge_sponsors", 300, 600),
)
HEARTBEAT = JobSpec("heartbeat", "jobs.worker:beat", every_s=15, misfire_grace_s=30)
