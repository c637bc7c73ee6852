"""Coordinator tools for one programme: members, sponsor pauses, CSV import and export."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint(
    "coordinator", __name__, url_prefix="/api/v1/programs", description="Coordinator tools"
)
