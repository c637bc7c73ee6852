"""Swagger UI at /docs, served from the packaged swagger-ui-bundle (no CDN, works offline)."""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from flask import Blueprint, render_template, send_from_directory, url_for

bp = Blueprint("docs", __name__)
ASSETS = Path(swagger_ui_bundle.swagger_ui_path)


@bp.get("/docs")
@bp.get("/docs/")
def swagger_ui():
    return render_template("swagger.html", spec_url=url_for("api-docs.openapi_json"))


@bp.get("/docs/assets/<path:filename>")
def swagger_assets(filename: str):
    return send_from_directory(ASSETS, filename, max_age=86400)
