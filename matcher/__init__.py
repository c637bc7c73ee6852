"""Sponsor matching: hard rules with reasons, explained shortlists and batch assignment.

A small library with no Flask, SQL or configuration inside: the API converts its models
to the dataclasses in ``matcher.types`` and keeps one fitted ``SponsorIndex`` warm.
"""

from matcher.batch import UNASSIGNED_SENTENCES, assign
from matcher.index import SponsorIndex
from matcher.rules import EXCLUSION_SENTENCES, RULE_ORDER
from matcher.types import (
    Assignment,
    MatchSettings,
    Reason,
    SeekerRequest,
    ShortlistEntry,
    SponsorCandidate,
    Unassigned,
)

__all__ = [
    "EXCLUSION_SENTENCES",
    "RULE_ORDER",
    "UNASSIGNED_SENTENCES",
    "Assignment",
    "MatchSettings",
    "Reason",
    "SeekerRequest",
    "ShortlistEntry",
    "SponsorCandidate",
    "SponsorIndex",
    "Unassigned",
    "assign",
]
