"""Reading the audit trail: who did what to whom in a programme, filtered, as rows or CSV.

Rows name people by display name and public id. Free text a member wrote (e.g. the note given
when ending a sponsorship) is never shown; a reason is shown only when a coordinator of the
programme (or an admin) wrote it.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import aliased

from api.auth import Access
from api.extensions import db
from api.models import AuditLog, Member, Membership
from api.services.audit import audit
from api.services.csv_io import neutralise

CSV_HEADINGS = (
    "at",
    "action",
    "actor_id",
    "actor",
    "target_type",
    "target_id",
    "target",
    "reason",
    "details",
)
MAX_ROWS = 5000


@dataclass(frozen=True)
class AuditFilters:
    action: str | None = None
    actor_id: uuid.UUID | None = None
    target_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    offset: int = 0


def list_audit(access: Access, filters: AuditFilters) -> list[dict]:
    """The programme's audit rows, newest first, as dicts (see CSV_HEADINGS)."""
    actor = aliased(Member)
    query = (
        select(AuditLog, actor)
        .outerjoin(actor, actor.id == AuditLog.actor_id)
        .where(AuditLog.program_id == access.program.id)
    )
    if filters.action:
        query = query.where(AuditLog.action.startswith(filters.action, autoescape=True))
    if filters.actor_id:
        query = query.where(actor.uuid == filters.actor_id)
    if filters.target_id:
        query = query.where(AuditLog.target_uuid == str(filters.target_id))
    if filters.since:
        query = query.where(AuditLog.at >= filters.since)
    if filters.until:
        query = query.where(AuditLog.at < filters.until)
    query = (
        query.order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .limit(filters.limit)
        .offset(filters.offset)
    )
    rows = db.session.execute(query).all()
    coordinators = _coordinator_ids(access, [a.actor_id for a, _ in rows if a.actor_id])
    names = _member_names([a.target_uuid for a, _ in rows if a.target_type == "member"])
    return [_row(log, who, names.get(log.target_uuid), coordinators) for log, who in rows]


def _member_names(target_uuids: list[str | None]) -> dict[str, str]:
    """Display names of the members some rows are about, by the text of their uuid."""
    keys = set()
    for text in target_uuids:
        try:
            keys.add(uuid.UUID(str(text)))
        except ValueError:
            continue
    if not keys:
        return {}
    found = db.session.execute(
        select(Member.uuid, Member.display_name).where(Member.uuid.in_(keys))
    )
    return {str(u): name for u, name in found}


def _coordinator_ids(access: Access, actor_ids: list[int]) -> set[int]:
    if not actor_ids:
        return set()
    ids = set(
        db.session.scalars(
            select(Membership.member_id).where(
                Membership.program_id == access.program.id,
                Membership.is_coordinator.is_(True),
                Membership.member_id.in_(set(actor_ids)),
            )
        )
    )
    ids |= set(
        db.session.scalars(
            select(Member.id).where(Member.id.in_(set(actor_ids)), Member.is_admin.is_(True))
        )
    )
    return ids


def _row(log: AuditLog, who: Member | None, whom: str | None, coordinators: set[int]) -> dict:
    return {
        "id": log.uuid,
        "at": log.at,
        "action": log.action,
        "actor_id": who.uuid if who else None,
        "actor": who.display_name if who else "system",
        "target_type": log.target_type,
        "target_id": log.target_uuid,
        "target": whom,
        "reason": log.reason if log.actor_id in coordinators else None,
        "details": log.details or {},
    }


def audit_csv(access: Access, filters: AuditFilters) -> str:
    """The filtered rows as CSV (formula cells neutralised); the export is itself audited."""
    rows = list_audit(access, AuditFilters(**{**filters.__dict__, "limit": MAX_ROWS}))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADINGS)
    for row in rows:
        cells = {**row, "at": row["at"].isoformat(), "details": _details(row["details"])}
        writer.writerow([neutralise(str(cells[h] or "")) for h in CSV_HEADINGS])
    audit(
        "audit.export",
        access.program,
        program_id=access.program.id,
        actor=access.member,
        details={"rows": len(rows)},
    )
    db.session.commit()
    return "\ufeff" + out.getvalue()


def _details(details: dict) -> str:
    import json

    return json.dumps(details, sort_keys=True, default=str) if details else ""
