"""The programme's practical resources in the console: list, add (link or text), remove."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import login_required

from api.errors import AppError, NotFound
from api.schemas.between import ResourceCreateSchema
from api.services import resources
from api.web import wording
from api.web.console.base import bp, coordinator_access
from api.web.forms import Form, form_view

FIELDS = ("title", "url", "body", "kind", "fellowships", "languages")
LANGUAGES = ("en", "es", "fr", "pt", "zh", "vi", "tl", "ar", "ko", "ru")


def _page(access, form: Form):
    program = access.program
    return form.render(
        "console/resources.html",
        program=program,
        resources=resources.listed(program),
        kind_options=list(wording.RESOURCE_KINDS.items()),
        fellowship_options=[(f, f) for f in program.fellowships or ()],
        language_options=wording.language_options(LANGUAGES),
    )


@bp.get("/<uuid:program_id>/resources")
@login_required
def resources_page(program_id):
    access = coordinator_access(program_id)
    return _page(access, Form(ResourceCreateSchema(), FIELDS, initial={"kind": "meetings"}))


@bp.post("/<uuid:program_id>/resources")
@login_required
@form_view
def add_resource(program_id):
    access = coordinator_access(program_id)
    form = Form(ResourceCreateSchema(), FIELDS)
    if form.validate():
        try:
            added = resources.add(access.program, access.member, form.data)
        except AppError as exc:
            form.fail(exc)
        else:
            flash(_("Added “%(title)s”. Members it fits see it now.", title=added.title), "ok")
            return redirect(url_for("console.resources_page", program_id=program_id))
    return _page(access, form)


@bp.post("/<uuid:program_id>/resources/<uuid:resource_id>/remove")
@login_required
def remove_resource(program_id, resource_id):
    access = coordinator_access(program_id)
    try:
        resources.remove(access.program, access.member, resource_id)
    except NotFound:
        abort(404)
    flash(_("Removed from the list. Members no longer see it."), "ok")
    return redirect(url_for("console.resources_page", program_id=program_id))
