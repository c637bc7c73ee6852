"""Display names that cannot pass for someone else: one script per name, and no name that
looks like (but is not) a name already in the member's programmes.

"Looks like" is a skeleton in the manner of Unicode TR39: every character is replaced by one
representative of its confusable class (from the confusable-homoglyphs tables), so Cyrillic
"Сora D." and Latin "Cora D." have the same skeleton. The same name twice is allowed (two
people can be called "Sam K."); a different spelling that looks the same is not.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from confusable_homoglyphs import categories, confusables
from sqlalchemy import select

from api.errors import Invalid
from api.extensions import db
from api.i18n import N_
from api.models import Member, Membership, Program

LOOKS_LIKE = N_(
    "This name looks like the name of someone already in your programme. Use a name that is "
    "written differently (for example with another initial)."
)
MIXED_SCRIPTS = N_(
    "Write your name in one alphabet (for example all Latin or all Cyrillic letters)."
)
_NEUTRAL_SCRIPTS = frozenset({"COMMON", "INHERITED"})


def scripts_of(name: str) -> set[str]:
    """The writing systems of the letters in ``name`` (spaces and punctuation not counted)."""
    return set(categories.unique_aliases(name)) - _NEUTRAL_SCRIPTS


@lru_cache(maxsize=1)
def _representatives() -> dict[str, str]:
    """Each confusable character mapped to one member of its class (union-find over the
    tables, which list pairs in one direction only), the smallest code point winning."""
    parent: dict[str, str] = {}

    def find(c: str) -> str:
        while parent.get(c, c) != c:
            parent[c] = parent.get(parent[c], parent[c])
            c = parent[c]
        return c

    for char, glyphs in confusables.confusables_data.items():
        for glyph in glyphs:
            other = glyph["c"].strip("\u200e\u200f")
            if len(char) != 1 or len(other) != 1:
                continue
            a, b = find(char), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return {c: find(c) for c in parent}


def skeleton(name: str) -> str:
    """What ``name`` looks like: NFKC, then each character replaced by its class's
    representative."""
    table = _representatives()
    return "".join(table.get(c, c) for c in unicodedata.normalize("NFKC", name))


def check_display_name(name: str, program: Program | list[Program], exclude=None) -> None:
    """Refuse ``name`` when it mixes scripts or looks like a different name already used in
    ``program`` (or any of a list of programmes). ``exclude`` is the member being renamed.

    Raises Invalid naming ``display_name``.
    """
    if len(scripts_of(name)) > 1:
        raise Invalid("display_name", MIXED_SCRIPTS)
    programs = program if isinstance(program, list) else [program]
    if not programs:
        return
    query = (
        select(Member.display_name)
        .join(Membership, Membership.member_id == Member.id)
        .where(Membership.program_id.in_([p.id for p in programs]))
        .distinct()
    )
    if exclude is not None and exclude.id is not None:
        query = query.where(Member.id != exclude.id)
    wanted = skeleton(name)
    for (taken,) in db.session.execute(query):
        if taken != name and skeleton(taken) == wanted:
            raise Invalid("display_name", LOOKS_LIKE)
