"""``Idempotency-Key`` on creating POSTs: a retry gets the first answer and writes nothing."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import after_this_request, request
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from api.errors import AppError, Conflict, NotFound
from api.extensions import db
from api.models import IdempotencyKey, Member, utcnow
from api.observability import IDEMPOTENT_REPLAYS, get_logger

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII, as in the IETF draft's examples
# For the OpenAPI docs of each route that accepts the header.
HEADER_DOC = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "Any unique value (e.g. a UUID). A retry with the same key within 24 hours "
    "gets the first answer and creates nothing; the same key with a different body answers 422.",
}
log = get_logger("idempotency")
Created = TypeVar("Created")


class KeyMisused(AppError):
    """422 naming the header: the key is malformed or was used for a different request."""

    status = 422
    code = "validation_error"

    def __init__(self, message: str):
        super().__init__(message, {"headers": {HEADER: [message]}})


def once(
    member: Member,
    create: Callable[[], Created],
    present: Callable[[Created], Any] = lambda created: created,
) -> Any:
    """``present(create())``, or, for a retry with the same key, ``present`` of what the first
    request created (nothing is written again).

    Without the header this is just ``present(create())``. Raises KeyMisused (422) for a
    malformed key or one reused with a different body, Conflict (409) while the first request
    with the key is still running.
    """
    key = request.headers.get(HEADER)
    if key is None:
        return present(create())
    if not _VALID_KEY.fullmatch(key):
        raise KeyMisused(f"{HEADER} must be 1 to 255 visible ASCII characters.")
    route = f"{request.method} {request.path}"[:200]
    fingerprint = _fingerprint()
    claim, first = _claim(member.id, route, key, fingerprint)
    if not first:
        return present(_replay(claim, fingerprint))
    try:
        created = create()
    except BaseException:
        db.session.rollback()
        db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == claim.id))
        db.session.commit()  # a failed first try leaves the key free for the retry
        raise
    db.session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == claim.id)
        .values(resource_type=type(created).__name__, resource_id=created.id)
    )
    db.session.commit()
    return present(created)


def _fingerprint() -> str:
    """The body's sha256; JSON is compared by value (key order and spacing do not count)."""
    body = request.get_json(silent=True)
    raw = request.get_data() if body is None else json.dumps(body, sort_keys=True).encode()
    return hashlib.sha256(raw).hexdigest()


def _claim(member_id: int, route: str, key: str, fingerprint: str) -> tuple[IdempotencyKey, bool]:
    """Insert this request's row and return it with True, or the row already there and False
    (expired rows are purged first, so a key is free again after 24 hours)."""
    now = utcnow()
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < now - TTL))
    db.session.commit()
    row = IdempotencyKey(
        member_id=member_id, route=route, key=key, fingerprint=fingerprint, created_at=now
    )
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:  # the unique (member, route, key): a retry, or a concurrent twin
        db.session.rollback()
        existing = db.session.scalar(
            select(IdempotencyKey).where(
                IdempotencyKey.member_id == member_id,
                IdempotencyKey.route == route,
                IdempotencyKey.key == key,
            )
        )
        if existing is None:  # the twin failed and let go of the key meanwhile
            raise Conflict(f"A request with this {HEADER} just failed; retry it.") from None
        return existing, False
    return row, True


def _replay(claim: IdempotencyKey, fingerprint: str) -> Any:
    if claim.fingerprint != fingerprint:
        raise KeyMisused(f"This {HEADER} was already used for a different request; use a new key.")
    if claim.resource_type is None:
        raise Conflict(f"The first request with this {HEADER} is still running; retry shortly.")
    model = db.Model.registry._class_registry.get(claim.resource_type)
    created = db.session.get(model, claim.resource_id) if model is not None else None
    if created is None:
        raise NotFound()
    db.session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == claim.id)
        .values(replays=IdempotencyKey.replays + 1, last_replay_at=utcnow())
    )
    db.session.commit()
    replayed(replays=claim.replays + 1)
    return created


def replayed(**facts: Any) -> None:
    """Answer this request as a repeat (header ``Idempotent-Replayed: true``), counted in the
    replay metric and logged (with ``facts``) where an operator sees repeats."""
    log.info("idempotent replay", endpoint=request.endpoint, **facts)
    IDEMPOTENT_REPLAYS.labels(request.endpoint or "unmatched").inc()

    @after_this_request
    def _mark(response):
        response.headers["Idempotent-Replayed"] = "true"
        return response
