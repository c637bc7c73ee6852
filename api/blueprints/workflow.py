"""Shortlists and proposals: the newcomer asks, the sponsor answers."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import auth_required, current_member
from api.schemas.workflow import (
    AcceptSchema,
    AskSchema,
    DeclineSchema,
    ProposalQueryArgsSchema,
    ProposalSchema,
    ShortlistSchema,
    SponsorshipSchema,
    WithdrawnSchema,
    proposal_view,
    sponsorship_view,
)
from api.services import idempotency, proposals, shortlist, sponsorships

blp = Blueprint("workflow", __name__, url_prefix="/api/v1", description="Shortlists and proposals")


@blp.route("/requests/<uuid:request_id>/shortlist")
class Shortlist(MethodView):
    @auth_required
    @blp.response(200, ShortlistSchema)
    def get(self, request_id):
        """Your ranked sponsors with reasons; when nobody fits, ``explanation`` says why."""
        return shortlist.shortlist_for(current_member(), request_id)


@blp.route("/requests/<uuid:request_id>/proposals")
class RequestProposals(MethodView):
    @auth_required
    @blp.response(200, ProposalSchema(many=True))
    def get(self, request_id):
        """Your request's proposals, newest first (a sponsor who said no shows "not_available")."""
        member = current_member()
        return [proposal_view(p, member) for p in proposals.for_request(member, request_id)]

    @auth_required
    @blp.arguments(AskSchema)
    @blp.response(201, ProposalSchema)
    @blp.doc(parameters=[idempotency.HEADER_DOC])
    def post(self, data, request_id):
        """Ask one sponsor from your shortlist, or ``{"best": true}`` to let us ask the best.

        409 when the sponsor has just become unavailable (``errors.next_option`` is your next
        option) or you already have a proposal waiting.
        """
        member = current_member()
        return idempotency.once(
            member,
            lambda: proposals.ask(
                member, request_id, sponsor_uuid=data.get("sponsor_id"), best=bool(data.get("best"))
            ),
            lambda proposal: proposal_view(proposal, member),
        )


@blp.route("/me/proposals")
class Inbox(MethodView):
    @auth_required
    @blp.arguments(ProposalQueryArgsSchema, location="query")
    @blp.response(200, ProposalSchema(many=True))
    def get(self, args):
        """Proposals put to you as a sponsor (``?status=pending`` for your inbox)."""
        member = current_member()
        return [proposal_view(p, member) for p in proposals.inbox(member, args["status"])]


@blp.route("/proposals/<uuid:proposal_id>")
class ProposalItem(MethodView):
    @auth_required
    @blp.response(200, ProposalSchema)
    def get(self, proposal_id):
        """A proposal you are part of (either side)."""
        member = current_member()
        return proposal_view(proposals.proposal_for(member, proposal_id, "either"), member)


@blp.route("/proposals/<uuid:proposal_id>/accept")
class Accept(MethodView):
    @auth_required
    @blp.arguments(AcceptSchema)
    @blp.response(201, SponsorshipSchema)
    def post(self, data, proposal_id):
        """Accept (the proposal's sponsor): the sponsorship starts and contact details open."""
        member = current_member()
        row = sponsorships.accept(member, proposal_id, data["kind"])
        return sponsorship_view(row, member)


@blp.route("/proposals/<uuid:proposal_id>/decline")
class Decline(MethodView):
    @auth_required
    @blp.arguments(DeclineSchema)
    @blp.response(200, ProposalSchema)
    def post(self, data, proposal_id):
        """Decline with a reason (the newcomer never sees it; they see their next option).

        ``at_capacity`` lowers your capacity to your current load (or stops accepting when you
        have nobody); ``unavailable_now`` stops accepting until you turn it back on.
        """
        member = current_member()
        proposal = proposals.decline(member, proposal_id, data["reason"], data["note"])
        return proposal_view(proposal, member)


@blp.route("/proposals/<uuid:proposal_id>/withdraw")
class Withdraw(MethodView):
    @auth_required
    @blp.response(200, WithdrawnSchema)
    def post(self, proposal_id):
        """Withdraw your pending proposal (newcomer); the answer carries your next option."""
        member = current_member()
        proposal, option = proposals.withdraw(member, proposal_id)
        return {"proposal": proposal_view(proposal, member), "next_option": option}
