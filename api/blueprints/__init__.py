"""HTTP blueprints; each handler is load → service → dump. New blueprints are listed here."""

from __future__ import annotations


def api_blueprints() -> list:
    """flask-smorest blueprints under /api/v1 (bearer-token auth, no CSRF)."""
    from api.blueprints import (
        account,
        audit,
        auth,
        between,
        blocks,
        checkins,
        contacts,
        coordinator,
        learning,
        profiles,
        programs,
        reports,
        requests,
        rounds,
        sponsorships,
        webhooks,
        workflow,
    )

    return [
        *(workflow.blp, sponsorships.blp, rounds.blp, blocks.blp),
        auth.blp,
        account.blp,
        programs.blp,
        profiles.blp,
        requests.blp,
        coordinator.blp,
        audit.blp,
        reports.blp,
        learning.blp,
        contacts.blp,
        checkins.blp,
        webhooks.blp,
        between.blp,
    ]


def page_blueprints() -> list:
    """Plain Flask blueprints: probes, API docs and the pages for people."""
    import api.web.account
    import api.web.join
    from api.blueprints import docs, health
    from api.web import (
        checkins,
        console,
        dashboard,
        links,
        milestones,
        newcomer,
        pages,
        pairs,
        resources,
        sponsor,
        verify,
    )

    return [
        *(health.bp, docs.bp, pages.bp, dashboard.bp, links.bp, newcomer.bp),
        verify.bp,
        *(api.web.join.bp, api.web.account.bp),
        *(console.bp, console.invitation_bp),
        *(sponsor.bp, pairs.bp, checkins.bp),
        *(milestones.bp, resources.bp),
    ]
