"""Webhooks in the browser: list, add (with the registration checks), test-send, delete."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from api.errors import AppError, NotFound
from api.schemas.contacts import WebhookCreateSchema
from api.services import webhooks as hooks
from api.web.console.base import bp, coordinator_access
from api.web.forms import Form, form_view


def _list_page(access, form: Form, created=None):
    return form.render(
        "console/webhooks.html",
        program=access.program,
        hooks=hooks.list_webhooks(access.program),
        last=hooks.last_deliveries(access.program),
        created=created,
    )


def _hook(access, webhook_id):
    hook = next((h for h in hooks.list_webhooks(access.program) if h.uuid == webhook_id), None)
    if hook is None:
        abort(404)
    return hook


@bp.get("/<uuid:program_id>/webhooks")
@login_required
def webhooks(program_id):
    access = coordinator_access(program_id)
    return _list_page(access, Form(WebhookCreateSchema(), ("url",)))


@bp.post("/<uuid:program_id>/webhooks")
@login_required
@form_view
def add_webhook(program_id):
    """Register an endpoint. Its signing secret is shown on this answer only, once."""
    access = coordinator_access(program_id)
    form = Form(WebhookCreateSchema(), ("url",))
    if form.validate():
        try:
            hook = hooks.register_webhook(access.program, access.member, form.data["url"])
        except AppError as exc:
            form.fail(exc)
        else:
            return _list_page(access, Form(WebhookCreateSchema(), ("url",)), created=hook)
    return _list_page(access, form)


@bp.post("/<uuid:program_id>/webhooks/<uuid:webhook_id>/test")
@login_required
def test_webhook(program_id, webhook_id):
    access = coordinator_access(program_id)
    try:
        hooks.send_test(access.program, access.member, webhook_id)
    except NotFound:
        abort(404)
    flash(_("A test event is on its way. Refresh this page in a minute to see how it went."), "ok")
    return redirect(url_for("console.webhooks", program_id=program_id))


@bp.route("/<uuid:program_id>/webhooks/<uuid:webhook_id>/delete", methods=["GET", "POST"])
@login_required
def delete_webhook(program_id, webhook_id):
    """A page that says what deleting does (the confirmation), then the removal."""
    access = coordinator_access(program_id)
    hook = _hook(access, webhook_id)
    if request.method == "POST":
        hooks.remove_webhook(access.program, access.member, webhook_id)
        flash(_("The webhook is deleted. Nothing more is sent to it."), "ok")
        return redirect(url_for("console.webhooks", program_id=program_id))
    return render_template("console/webhook_delete.html", program=access.program, hook=hook)
