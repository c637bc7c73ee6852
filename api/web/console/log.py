"""The programme's audit log in the browser: who did what to whom, newest first, in words."""

from __future__ import annotations

from datetime import date

from flask import abort, render_template, request
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from marshmallow import ValidationError

from api.schemas.audit import AuditQueryArgsSchema
from api.services.audit_log import AuditFilters, audit_csv, list_audit
from api.web import wording
from api.web.console.base import bp, coordinator_access
from api.web.console.imports import _csv
from api.web.console.settings import FIELDS, WEIGHTS

PER_PAGE = 50

# Each recorded action as a sentence; %(name)s is the member it was about, when there is one.
ACTIONS = {
    "program.update": _l("Changed the programme's settings"),
    "program.join_code": _l("Made a new join code (the old code and posters stopped working)"),
    "member.roles": _l("Changed the roles of %(name)s"),
    "sponsor.pause": _l("Paused new asks for %(name)s"),
    "sponsor.unpause": _l("Let %(name)s be asked again"),
    "sponsor.paused": _l("Paused new asks for %(name)s: asks ran out unanswered"),
    "sponsor.self_pause": _l("Paused their own new asks"),
    "round.run": _l("Drafted a matching round"),
    "round.pair_removed": _l("Took a pair out of a draft round"),
    "round.pair_replaced": _l("Gave a pair in a draft round another sponsor"),
    "round.published": _l("Published a matching round"),
    "csv_export": _l("Downloaded the members file"),
    "audit.export": _l("Downloaded this log"),
    "invitation.sent": _l("Sent an invitation"),
    "invitation.updated": _l("Updated the details of someone invited (the earlier email stands)"),
    "invitation.accepted": _l("Joined from an invitation"),
    "escalation.acknowledge": _l("Said they are handling a pair that went quiet"),
    "escalation.check_in": _l("Sent a check-in to a pair that went quiet"),
    "escalation.resolve": _l("Closed the alert for a pair that went quiet"),
    "sponsorship.end": _l("Ended a sponsorship"),
    "resource.added": _l("Added a resource"),
    "resource.removed": _l("Removed a resource"),
    "webhook.created": _l("Added a webhook"),
    "webhook.test": _l("Tested a webhook"),
    "webhook.removed": _l("Removed a webhook"),
    "match_model.train": _l("Let the matcher learn from the programme's history"),
    "match_model.rollback": _l("Went back to earlier matching weights"),
}
_SETTING_NAMES = {name: label for name, label, *_rest in FIELDS}
_SETTING_NAMES["match_weights"] = _l("What matters most when pairing")


def _what(row: dict) -> str:
    name = row["target"] or _("a former member")
    sentence = ACTIONS.get(row["action"])
    if sentence is None:
        return _("Recorded: %(action)s", action=row["action"])
    return str(sentence) % {"name": name}


def _value(value) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return ", ".join(f"{WEIGHTS.get(k, k)} {v:g}" for k, v in sorted(value.items()))
    return str(value)


def _details(row: dict) -> list[str]:
    """The row's details in words, for the actions where they help; never a raw dump."""
    details, action = row["details"] or {}, row["action"]
    if action == "program.update":
        return [
            _(
                "%(setting)s: %(before)s → %(after)s",
                setting=_SETTING_NAMES.get(key, key),
                before=_value(change.get("from")),
                after=_value(change.get("to")),
            )
            for key, change in (details.get("settings") or {}).items()
        ]
    if action == "member.roles":
        return [
            _(
                "%(before)s → %(after)s",
                before=wording.roles_text(details.get("before") or ()) or _("None"),
                after=wording.roles_text(details.get("after") or ()) or _("None"),
            )
        ]
    if action == "sponsor.pause" and details.get("until"):
        return [_("until %(day)s", day=format_date(date.fromisoformat(details["until"])))]
    if action == "round.published" and "published" in details:
        n = int(details["published"])
        return [ngettext("%(num)d proposal went out.", "%(num)d proposals went out.", n)]
    if action == "csv_export" and "people" in details:
        n = int(details["people"])
        return [ngettext("%(num)d person in the file", "%(num)d people in the file", n)]
    if action == "audit.export" and "rows" in details:
        n = int(details["rows"])
        return [ngettext("%(num)d line in the file", "%(num)d lines in the file", n)]
    return []


def _filters(limit: int, offset: int) -> AuditFilters:
    """The page's filters (one member or round, or actions starting with a word), checked by
    the API's own query schema; a bad one is a plain 400 page."""
    raw = {k: v for k, v in request.args.items() if k in ("action", "target_id") and v.strip()}
    try:
        args = AuditQueryArgsSchema().load({**raw, "limit": limit, "offset": offset})
    except ValidationError:
        abort(400)
    return AuditFilters(**args)


@bp.get("/<uuid:program_id>/log")
@login_required
def audit_log(program_id):
    """Same access as the API's audit log: this programme's coordinators (and admins)."""
    access = coordinator_access(program_id)
    page = request.args.get("page", 1, type=int)
    if page < 1 or page > 20_000:
        abort(400)
    filters = _filters(PER_PAGE + 1, (page - 1) * PER_PAGE)
    rows = list_audit(access, filters)
    more = len(rows) > PER_PAGE
    rows = rows[:PER_PAGE]
    entries = [
        {
            "at": r["at"],
            "who": r["actor"] if r["actor_id"] else _("The system"),
            "what": _what(r),
            "details": _details(r),
            "reason": r["reason"],
            "member_id": r["target_id"] if r["target_type"] == "member" else None,
        }
        for r in rows
    ]
    kept = {k: v for k, v in request.args.items() if k in ("action", "target_id")}
    return render_template(
        "console/log.html",
        program=access.program,
        entries=entries,
        page=page,
        more=more,
        kept=kept,
    )


@bp.get("/<uuid:program_id>/log.csv")
@login_required
def audit_log_csv(program_id):
    """The API's audit.csv (taking it is itself recorded)."""
    access = coordinator_access(program_id)
    return _csv(audit_csv(access, _filters(PER_PAGE, 0)), "audit.csv")
