"""Wire formats of the proposal workflow: shortlists, proposals, sponsorships, matching rounds.

Views of the other person are built by the ``*_view`` functions from ``public_view``; contact
details (phone, contact email) appear only in ``sponsorship_view`` of an active sponsorship.
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.extensions import db
from api.models import (
    DECLINE_REASONS,
    END_REASONS,
    Block,
    MatchingRound,
    Member,
    Program,
    Proposal,
    Sponsorship,
)
from api.schemas.public import PublicMemberSchema, public_view, visible_reasons

NEWCOMER_STATUS = {"declined": "not_available", "expired": "not_available"}


class ReasonSchema(Schema):
    code = fields.String(dump_only=True)
    text = fields.String(dump_only=True)
    args = fields.Dict(dump_only=True)  # the values of ``text``, for other languages


class ShortlistEntrySchema(Schema):
    sponsor = fields.Nested(PublicMemberSchema, dump_only=True)
    score = fields.Float(dump_only=True)
    reasons = fields.List(fields.Nested(ReasonSchema), dump_only=True)


class ShortlistSchema(Schema):
    request_id = fields.UUID(dump_only=True)
    entries = fields.List(fields.Nested(ShortlistEntrySchema), dump_only=True)
    explanation = fields.String(dump_only=True, allow_none=True)
    explanation_code = fields.String(dump_only=True, allow_none=True)  # the main obstacle


class AskSchema(Schema):
    """Ask one sponsor from your shortlist (``sponsor_id``) or let us ask the best (``best``)."""

    sponsor_id = fields.UUID()
    best = fields.Boolean()

    @validates_schema
    def _one_of(self, data: dict, **kwargs) -> None:
        if bool(data.get("sponsor_id")) == bool(data.get("best")):
            raise ValidationError("Give either sponsor_id or best: true.", "sponsor_id")


class AcceptSchema(Schema):
    kind = fields.String(
        load_default="permanent", validate=validate.OneOf(("permanent", "temporary"))
    )


class DeclineSchema(Schema):
    reason = fields.String(required=True, validate=validate.OneOf(DECLINE_REASONS))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class EndSchema(Schema):
    reason = fields.String(required=True, validate=validate.OneOf(END_REASONS))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class ProposalQueryArgsSchema(Schema):
    status = fields.String(
        load_default=None,
        validate=validate.OneOf(("pending", "accepted", "declined", "expired", "withdrawn")),
    )


class SponsorshipQueryArgsSchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(("active", "ended")))


class ProposalSchema(Schema):
    """A proposal as one side sees it: the other side's public view, never a decline reason."""

    id = fields.UUID(dump_only=True)
    status = fields.String(dump_only=True)
    source = fields.String(dump_only=True)
    newcomer = fields.Nested(PublicMemberSchema, dump_only=True)
    sponsor = fields.Nested(PublicMemberSchema, dump_only=True)
    score = fields.Float(dump_only=True)
    reasons = fields.List(fields.Nested(ReasonSchema), dump_only=True)
    temporary_ok = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    deadline_at = fields.DateTime(dump_only=True)
    responded_at = fields.DateTime(dump_only=True, allow_none=True)


class WithdrawnSchema(Schema):
    proposal = fields.Nested(ProposalSchema, dump_only=True)
    next_option = fields.Nested(ShortlistEntrySchema, dump_only=True, allow_none=True)


class ContactDetailsSchema(Schema):
    phone = fields.String(dump_only=True, allow_none=True)
    contact_email = fields.String(dump_only=True, allow_none=True)


class SponsorshipSchema(Schema):
    id = fields.UUID(dump_only=True)
    role = fields.String(dump_only=True)  # the caller's side: sponsor or sponsee
    kind = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    other = fields.Nested(PublicMemberSchema, dump_only=True)
    contact = fields.Nested(ContactDetailsSchema, dump_only=True, allow_none=True)
    started_at = fields.DateTime(dump_only=True)
    ends_on = fields.Date(dump_only=True, allow_none=True)
    contact_due_at = fields.DateTime(dump_only=True, allow_none=True)
    last_contact_at = fields.DateTime(dump_only=True, allow_none=True)
    ended_at = fields.DateTime(dump_only=True, allow_none=True)
    end_reason = fields.String(dump_only=True, allow_none=True)


def proposal_view(proposal: Proposal, viewer: Member) -> dict:
    """A proposal for its sponsor (sees the newcomer) or newcomer (sees the sponsor)."""
    program = proposal.request.program
    as_sponsor = viewer.id == proposal.sponsor_id
    view = {
        "id": proposal.uuid,
        "status": proposal.status
        if as_sponsor
        else NEWCOMER_STATUS.get(proposal.status, proposal.status),
        "source": proposal.source,
        "score": proposal.score,
        "reasons": visible_reasons(proposal.reasons, proposal.newcomer, proposal.sponsor),
        "temporary_ok": proposal.request.temporary_ok,
        "created_at": proposal.created_at,
        "deadline_at": proposal.deadline_at,
        "responded_at": proposal.responded_at,
    }
    if as_sponsor:
        view["newcomer"] = public_view(proposal.newcomer, viewer, program)
    else:
        view["sponsor"] = public_view(proposal.sponsor, viewer, program)
    return view


def end_reason_for(row: Sponsorship, viewer_id: int) -> str | None:
    """Why a pair ended, for the side who ended it only: the other side is told that it
    ended, never why (the end page promises so)."""
    return row.end_reason if row.ended_by_id == viewer_id else None


def sponsorship_view(row: Sponsorship, viewer: Member) -> dict:
    """A sponsorship for one of its two sides; contact details only while it is active."""
    as_sponsor = viewer.id == row.sponsor_id
    other = row.sponsee if as_sponsor else row.sponsor
    contact = None
    if row.status == "active":
        contact = {"phone": other.phone, "contact_email": other.contact_email}
    return {
        "id": row.uuid,
        "role": "sponsor" if as_sponsor else "sponsee",
        "kind": row.kind,
        "status": row.status,
        "other": public_view(other, viewer, row.program),
        "contact": contact,
        "started_at": row.started_at,
        "ends_on": row.ends_on,
        "contact_due_at": row.contact_due_at,
        "last_contact_at": row.last_contact_at,
        "ended_at": row.ended_at,
        "end_reason": end_reason_for(row, viewer.id),
    }


class PairSchema(Schema):
    id = fields.UUID(dump_only=True)
    request_id = fields.UUID(dump_only=True)
    newcomer = fields.Nested(PublicMemberSchema, dump_only=True)
    sponsor = fields.Nested(PublicMemberSchema, dump_only=True)
    score = fields.Float(dump_only=True)
    reasons = fields.List(fields.Nested(ReasonSchema), dump_only=True)
    status = fields.String(dump_only=True)  # draft, removed, published, failed
    change_reason = fields.String(dump_only=True, allow_none=True)


class UnassignedSchema(Schema):
    request = fields.String(dump_only=True)
    code = fields.String(dump_only=True)
    text = fields.String(dump_only=True)


class RoundSchema(Schema):
    id = fields.UUID(dump_only=True)
    status = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    published_at = fields.DateTime(dump_only=True, allow_none=True)
    # the learned model version that scored the round; null: the programme's fixed weights
    model_version = fields.Integer(dump_only=True, allow_none=True)
    pairs = fields.List(fields.Nested(PairSchema), dump_only=True)
    unassigned = fields.List(fields.Nested(UnassignedSchema), dump_only=True)


class PairRemoveSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=500))


class PairReplaceSchema(Schema):
    sponsor_id = fields.UUID(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=3, max=500))


def round_view(rnd: MatchingRound, viewer: Member) -> dict:
    """A matching round for its programme's coordinator."""
    program = db.session.get(Program, rnd.program_id)
    return {
        "id": rnd.uuid,
        "status": rnd.status,
        "created_at": rnd.created_at,
        "published_at": rnd.published_at,
        "model_version": rnd.model.version if rnd.model is not None else None,
        "unassigned": rnd.unassigned,
        "pairs": [
            {
                "id": p.uuid,
                "request_id": p.request.uuid,
                "newcomer": public_view(p.request.newcomer, viewer, program),
                "sponsor": public_view(p.sponsor, viewer, program),
                "score": p.score,
                "reasons": visible_reasons(p.reasons, p.request.newcomer, p.sponsor),
                "status": p.status,
                "change_reason": p.change_reason,
            }
            for p in rnd.pairs
        ],
    }


class BlockCreateSchema(Schema):
    """Block someone you met here: a sponsor on your shortlist or either side of a proposal
    or sponsorship."""

    member_id = fields.UUID(required=True)


class BlockSchema(Schema):
    member = fields.Nested(PublicMemberSchema, dump_only=True)
    created_at = fields.DateTime(dump_only=True)


def block_view(block: Block, other: Member, viewer: Member) -> dict:
    """One of the viewer's blocks: the blocked member's public view and when."""
    return {"member": public_view(other, viewer, None), "created_at": block.created_at}
