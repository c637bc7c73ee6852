"""Liveness and readiness probes."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, jsonify
from sqlalchemy import select, text

from api.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is alive."""
    return jsonify(status="ok")


def _migration_state() -> tuple[str | None, str | None]:
    from alembic.script import ScriptDirectory
    from flask_migrate import Config as _  # noqa: F401  (ensures Flask-Migrate is importable)

    migrate_ext = current_app.extensions["migrate"]
    config = migrate_ext.migrate.get_config(migrate_ext.directory)
    head = ScriptDirectory.from_config(config).get_current_head()
    current = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return current, head


@bp.get("/readyz")
def readyz():
    """Ready: database reachable, migrations at head, and (if one has run) the worker alive."""
    checks: dict[str, str] = {}
    ok = True
    try:
        current, head = _migration_state()
        checks["database"] = "ok"
        checks["migrations"] = "ok" if current == head else f"at {current}, head is {head}"
        ok = current == head
    except Exception as exc:  # any database failure means "not ready"
        db.session.rollback()
        checks["database"] = f"unavailable: {type(exc).__name__}"
        return jsonify(status="unavailable", checks=checks), 503
    from api.models import WorkerHeartbeat, utcnow

    beat = db.session.scalar(select(WorkerHeartbeat).order_by(WorkerHeartbeat.beat_at.desc()))
    if beat is None:
        checks["worker"] = "not started"
    else:
        stale = utcnow() - beat.beat_at > timedelta(
            seconds=current_app.config["WORKER_STALE_AFTER_S"]
        )
        checks["worker"] = f"stale since {beat.beat_at.isoformat()}" if stale else "ok"
        ok = ok and not stale
    return jsonify(status="ok" if ok else "unavailable", checks=checks), 200 if ok else 503
