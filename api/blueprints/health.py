"""Liveness and readiness probes."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, jsonify
from sqlalchemy import inspect, select, text

from api.extensions import db

bp = Blueprint("health", __name__)

# Check values that do not make the service unready (a fresh install whose worker never ran).
_READY = frozenset({"ok", "not started"})


@bp.get("/healthz")
def healthz():
    """The process is alive."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Ready: database reachable, migrations at head, and (if one has run) the worker alive.

    Answers ``{"status": "ok" | "unavailable", "checks": {"database", "migrations", "worker"}}``
    with 200 or 503; each check says "ok" or what is wrong.
    """
    checks = {"database": _check_database()}
    if checks["database"] == "ok":
        checks["migrations"] = _check_migrations()
        checks["worker"] = _check_worker()
    else:
        checks["migrations"] = checks["worker"] = "not checked: database unavailable"
    ok = all(value in _READY for value in checks.values())
    return jsonify(status="ok" if ok else "unavailable", checks=checks), 200 if ok else 503


def _check_database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database means "not ready"
        db.session.rollback()
        return f"unavailable: {type(exc).__name__}"
    return "ok"


def _check_migrations() -> str:
    from alembic.script import ScriptDirectory

    try:
        migrate_ext = current_app.extensions["migrate"]
        config = migrate_ext.migrate.get_config(migrate_ext.directory)
        head = ScriptDirectory.from_config(config).get_current_head()
        if not inspect(db.session.connection()).has_table("alembic_version"):
            return f"not applied: no alembic_version table; head is {head}"
        current = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as exc:  # unreadable migration state is not ready either
        db.session.rollback()
        return f"unknown: {type(exc).__name__}"
    if current is None:
        return f"not applied: alembic_version is empty; head is {head}"
    return "ok" if current == head else f"at {current}, head is {head}"


def _check_worker() -> str:
    from api.models import WorkerHeartbeat, utcnow

    try:
        beat = db.session.scalar(select(WorkerHeartbeat).order_by(WorkerHeartbeat.beat_at.desc()))
    except Exception as exc:  # e.g. the table is missing while migrations are behind
        db.session.rollback()
        return f"unknown: {type(exc).__name__}"
    if beat is None:
        return "not started"
    stale_after = timedelta(seconds=current_app.config["WORKER_STALE_AFTER_S"])
    if utcnow() - beat.beat_at > stale_after:
        return f"stale since {beat.beat_at.isoformat()}"
    return "ok"
