"""All models, importable from one place (``from api.models import Member``)."""

from api.models.accountability import (
    CONTACT_KINDS,
    AvailabilityCheck,
    CheckinPrompt,
    Contact,
    MissedContactFlag,
    WorkerHeartbeat,
)
from api.models.accounts import (
    ApiToken,
    AuditLog,
    Block,
    Member,
    Membership,
    Program,
    SponsorProfile,
)
from api.models.between import RESOURCE_KINDS, MilestoneReached, Resource, ResourceShare
from api.models.checkins import CRAVINGS, CheckInChoice, DailyCheckIn
from api.models.idempotency import IdempotencyKey
from api.models.learning import MODEL_STATUSES, MatchModel
from api.models.matching import (
    DECLINE_REASONS,
    END_REASONS,
    SYSTEM_END_REASONS,
    MatchingRound,
    Proposal,
    RequestEvent,
    RoundPair,
    SponsorRequest,
    Sponsorship,
)
from api.models.notify import Notification, OutboxMessage, Webhook
from api.models.scheduler import SchedulerLease
from api.models.types import utcnow

__all__ = [
    "CONTACT_KINDS",
    "CRAVINGS",
    "DECLINE_REASONS",
    "END_REASONS",
    "RESOURCE_KINDS",
    "MODEL_STATUSES",
    "SYSTEM_END_REASONS",
    "ApiToken",
    "AuditLog",
    "AvailabilityCheck",
    "Block",
    "CheckInChoice",
    "CheckinPrompt",
    "Contact",
    "DailyCheckIn",
    "IdempotencyKey",
    "Member",
    "Membership",
    "MatchModel",
    "MatchingRound",
    "MilestoneReached",
    "MissedContactFlag",
    "Notification",
    "OutboxMessage",
    "Program",
    "Proposal",
    "RequestEvent",
    "Resource",
    "ResourceShare",
    "RoundPair",
    "SchedulerLease",
    "SponsorProfile",
    "SponsorRequest",
    "Sponsorship",
    "Webhook",
    "WorkerHeartbeat",
    "utcnow",
]
