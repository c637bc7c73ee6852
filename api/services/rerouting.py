"""After a proposal ends unanswered: tell the newcomer, show or ask the next option."""

from __future__ import annotations

from datetime import datetime

from api.errors import Conflict
from api.extensions import db
from api.mail import sentences
from api.models import Proposal, SponsorRequest
from api.services.notify import emit_webhooks, notify
from api.services.shortlist import next_option

NOT_AVAILABLE = "This sponsor is not available right now."


def reroute(proposal: Proposal, event: str, now: datetime) -> dict | None:
    """Tell the newcomer this sponsor is not available, with their next option (no reason)."""
    option = next_option(proposal.request, exclude=[str(proposal.sponsor.uuid)], now=now)
    asking = proposal.source == "best" and option is not None
    body = sentences(
        NOT_AVAILABLE,
        "We are asking the next person for you."
        if asking
        else f"Next option: {option['sponsor']['display_name']}."  # "Elena A." keeps one stop
        if option
        else "Nobody else is free yet; your coordinator can help.",
    )
    notify(
        proposal.newcomer,
        event,
        key=f"proposal:{proposal.uuid}:{event}:newcomer",
        title="An update on your request",
        body=body,
        program=proposal.request.program,
        data={"request_id": str(proposal.request.uuid), "next_option": option},
    )
    emit_webhooks(
        proposal.request.program,
        event,
        key=f"proposal:{proposal.uuid}:{event}",
        data={"proposal_id": str(proposal.uuid), "request_id": str(proposal.request.uuid)},
    )
    return option


def ask_next_best(request_id: int, now: datetime) -> Proposal | None:
    """After a "best" proposal ends unanswered: ask the next best sponsor, if anyone."""
    request = db.session.get(SponsorRequest, request_id)
    if request is None or request.status != "open":
        return None
    from api.services.proposals import ask  # proposals imports this module

    try:
        return ask(request.newcomer, request.uuid, best=True, now=now)
    except Conflict:
        db.session.rollback()
        return None
