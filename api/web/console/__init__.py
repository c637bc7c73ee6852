"""The coordinator's console: matching rounds, members, invitations, imports, settings and
webhooks for one programme, built on the one form pattern (docs/web.md)."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from api.models import utcnow
from api.services.escalations import escalation_queue
from api.services.rounds import open_requests
from api.services.sponsor_requests import LONG_WAIT
from api.web.console import imports as _imports  # noqa: F401  (registers routes)
from api.web.console import invitations as _invitations  # noqa: F401
from api.web.console import learning as _learning  # noqa: F401
from api.web.console import log as _log  # noqa: F401
from api.web.console import members as _members  # noqa: F401
from api.web.console import poster as _poster  # noqa: F401
from api.web.console import resources as _resources  # noqa: F401
from api.web.console import rounds as _rounds  # noqa: F401
from api.web.console import settings as _settings  # noqa: F401
from api.web.console import webhooks as _webhooks  # noqa: F401
from api.web.console.base import bp, coordinated_programs, coordinator_access

invitation_bp = _invitations.invitation_bp
__all__ = ["bp", "invitation_bp"]

# Tools listed on a programme's console page once their pages exist: (endpoint, label, hint).
TOOLS = (
    ("console.invite", _l("Invite people"), _l("By email, one at a time or from a spreadsheet.")),
    (
        "console.imports",
        _l("Import and export"),
        _l("Bring members in from a spreadsheet, or take a copy out."),
    ),
    (
        "console.poster",
        _l("Join poster"),
        _l("A page to print for the literature table, with a QR code."),
    ),
    (
        "console.settings",
        _l("Settings"),
        _l("Deadlines, reminders, the crisis line and the sponsor rules."),
    ),
    (
        "console.resources_page",
        _l("Resources"),
        _l("Meeting lists, reading and local help that members see and sponsors share."),
    ),
    ("console.webhooks", _l("Webhooks"), _l("Send events to another system your group runs.")),
    (
        "console.audit_log",
        _l("The programme's log"),
        _l("Who changed what and when: settings, roles, pauses, rounds and downloads."),
    ),
    (
        "console.model_card",
        _l("What the matcher learned"),
        _l("How your own history weighs what matters when pairing, and how well it works."),
    ),
)


@bp.get("")
@login_required
def home():
    """The programmes the caller coordinates; straight to the only one."""
    programs = coordinated_programs(current_user)
    if not programs:
        abort(404)
    if len(programs) == 1:
        return redirect(url_for("console.program_home", program_id=programs[0].uuid))
    return render_template("console/home.html", programs=programs)


@bp.get("/<uuid:program_id>")
@login_required
def program_home(program_id):
    access = coordinator_access(program_id)
    tools = [t for t in TOOLS if t[0] in current_app.view_functions]
    waiting = open_requests(access.program)
    week_ago = utcnow() - LONG_WAIT  # the long waits coordinators are told of
    return render_template(
        "console/program.html",
        program=access.program,
        waiting=len(waiting),
        long_waits=sum(1 for r in waiting if r.created_at <= week_ago),
        escalated=len(escalation_queue(access.program)),
        extra_tools=tools,
    )
