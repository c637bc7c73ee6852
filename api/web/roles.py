"""Who may open a page: a logged-in member with a role in a programme, else an ordinary 404."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from api.auth import Access


def role_access(role: str) -> Access:
    """The caller's first programme where they hold ``role`` (admins count as coordinators).

    A page of a role the caller does not hold answers 404, as a foreign object does.
    """
    member = current_user
    for membership in member.memberships:
        if role in membership.roles or (role == "coordinator" and member.is_admin):
            return Access(
                program=membership.program, member=member, roles=frozenset(membership.roles)
            )
    abort(404)
