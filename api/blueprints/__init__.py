"""HTTP blueprints; each handler is load → service → dump. New blueprints are listed here."""

from __future__ import annotations


def api_blueprints() -> list:
    """flask-smorest blueprints under /api/v1 (bearer-token auth, no CSRF)."""
    from api.blueprints import (
        auth,
        contacts,
        programs,
        reports,
        rounds,
        sponsorships,
        webhooks,
        workflow,
    )

    return [
        auth.blp,
        programs.blp,
        reports.blp,
        workflow.blp,
        sponsorships.blp,
        rounds.blp,
        contacts.blp,
        webhooks.blp,
    ]


def page_blueprints() -> list:
    """Plain Flask blueprints: probes, API docs and the pages for people."""
    from api.blueprints import docs, health
    from api.blueprints.contacts import page_bp as contact_link
    from api.web import dashboard, pages

    return [health.bp, docs.bp, pages.bp, dashboard.bp, contact_link]
