"""Mark bearer-protected operations in the OpenAPI document."""

from __future__ import annotations

from flask import Flask

from api.extensions import api


def mark_security(app: Flask) -> None:
    """Every view wrapped by ``auth_required`` gets ``security: [bearerAuth]`` in the spec."""
    paths = api.spec._paths
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        view_class = getattr(view, "view_class", None)
        if view_class is None:
            continue
        path = _openapi_path(rule.rule)
        for method in rule.methods or ():
            handler = getattr(view_class, method.lower(), None)
            if handler is not None and getattr(handler, "_auth_required", False):
                operation = paths.get(path, {}).get(method.lower())
                if operation is not None:
                    operation["security"] = [{"bearerAuth": []}]
                    operation.setdefault("responses", {}).setdefault(
                        "401", {"description": "Missing, expired or revoked token"}
                    )


def _openapi_path(rule: str) -> str:
    import re

    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)
