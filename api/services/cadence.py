"""When a pair's next contact is due: the programme cadence by phase, or the pair's own."""

from __future__ import annotations

from datetime import datetime, timedelta

from api.models import Program, Sponsorship


def cadence_days(sponsorship: Sponsorship, program: Program, at: datetime) -> int:
    """Days between contacts at time ``at``: the pair's choice, else the programme's phase."""
    if sponsorship.cadence_days:
        return sponsorship.cadence_days
    early_phase = timedelta(days=int(program.setting("cadence_early_phase_days")))
    if at - sponsorship.started_at < early_phase:
        return int(program.setting("cadence_early_days"))
    return int(program.setting("cadence_later_days"))


def next_contact_due(sponsorship: Sponsorship, program: Program, after: datetime) -> datetime:
    """The due time of the next contact after a contact (or the start) at ``after``."""
    return after + timedelta(days=cadence_days(sponsorship, program, after))
