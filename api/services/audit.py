"""The audit trail: one row per coordinator or system action, added to the session of the
change it records so both commit (or roll back) together."""

from __future__ import annotations

from api.extensions import db
from api.models import AuditLog, Member


def audit(
    action: str,
    target,
    *,
    program_id: int | None,
    actor: Member | None = None,
    reason: str | None = None,
    details: dict | None = None,
) -> None:
    """Add an audit row for ``action`` on ``target`` (any model with a ``uuid``; its table
    name is the target type). ``actor`` None means the system did it."""
    db.session.add(
        AuditLog(
            program_id=program_id,
            actor_id=actor.id if actor is not None else None,
            action=action,
            target_type=target.__table__.name,
            target_uuid=str(target.uuid),
            reason=reason,
            details=details or {},
        )
    )
