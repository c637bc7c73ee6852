"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import inspect, text

from api.database import probe
from api.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is alive."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Ready to serve on this web node: database reachable within a timeout, migrations at head.

    Answers ``{"status": "ok" | "unavailable", "checks": {"database", "migrations"}}`` with 200
    or 503; each check says "ok" or what is wrong. The scheduler is reported separately
    (``/readyz/scheduler``): a stopped scheduler must not take web nodes out of a load balancer.
    """
    checks = {"database": probe(float(current_app.config.get("READYZ_DB_TIMEOUT_S", 3)))}
    if checks["database"] == "ok":
        checks["migrations"] = _check_migrations()
    else:
        checks["migrations"] = "not checked: database unavailable"
    ok = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if ok else "unavailable", checks=checks), 200 if ok else 503


@bp.get("/readyz/scheduler")
def readyz_scheduler():
    """The scheduler's health, for monitoring (not for a load balancer): 200 while the leading
    worker reported within WORKER_STALE_AFTER_S, else 503; the body says when it last did."""
    from api.services.scheduler import scheduler_status

    status = scheduler_status()
    return jsonify(status.as_dict()), 200 if status.state == "ok" else 503


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
