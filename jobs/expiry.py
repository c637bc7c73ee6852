"""Proposal expiry and re-routing: the workflow service, run on the worker's schedule."""

from __future__ import annotations

from datetime import datetime


def expire_proposals(now: datetime) -> int:
    """Expire proposals past their deadline and move each newcomer on (services.proposals)."""
    from api.services.proposals import expire_due_proposals

    return expire_due_proposals(now)
