"""Sponsor matching: hard rules with reasons, explained shortlists and matching rounds.

A small library with no Flask, SQL or configuration inside: the API converts its models
to the dataclasses in ``matcher.types`` and keeps one fitted ``SponsorIndex`` warm.
"""

from matcher.index import SponsorIndex
from matcher.round import UNASSIGNED_SENTENCES, RoundOptions, assign
from matcher.rules import EXCLUSION_SENTENCES, RULE_ORDER, RULES
from matcher.types import (
    Assignment,
    Exclusions,
    MatchSettings,
    Reason,
    SeekerRequest,
    ShortlistEntry,
    SponsorCandidate,
    Unassigned,
)

__all__ = [
    "EXCLUSION_SENTENCES",
    "RULES",
    "RULE_ORDER",
    "UNASSIGNED_SENTENCES",
    "Assignment",
    "Exclusions",
    "MatchSettings",
    "Reason",
    "RoundOptions",
    "SeekerRequest",
    "ShortlistEntry",
    "SponsorCandidate",
    "SponsorIndex",
    "Unassigned",
    "assign",
]
