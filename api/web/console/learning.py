"""The model card page: which weights rank the programme's sponsors, what the history taught,
how it did on the most recent months, and one-tap rollback."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required

from api.errors import AppError
from api.schemas.learning import RollbackSchema
from api.services import learning
from api.web.console.base import bp, coordinator_access
from api.web.forms import Form


@bp.get("/<uuid:program_id>/model")
@login_required
def model_card(program_id):
    access = coordinator_access(program_id)
    card = learning.model_card(access.program)
    run = card["active"] or card["latest"]
    dates = {
        k: date.fromisoformat(v)
        for k, v in (run or {}).get("summary", {}).items()
        if k in ("first", "last") and v
    }
    return render_template(
        "console/model.html",
        program=access.program,
        card=card,
        dates=dates,
        reason=learning.reason_text(card["latest"]) if card["latest"] else None,
        changes=learning.change_texts(run) if run else [],
    )


@bp.post("/<uuid:program_id>/model/rollback")
@login_required
def model_rollback(program_id):
    access = coordinator_access(program_id)
    form = Form(RollbackSchema(), ("to",))
    if form.validate():
        try:
            card = learning.rollback(access.program, to=form.data["to"], actor=access.member)
        except AppError:
            flash(
                _(
                    "Nothing to go back to: the fixed weights are already in use, "
                    "or there is no earlier version."
                ),
                "error",
            )
        else:
            if card["active"]:
                flash(_("Back to version %(version)s.", version=card["active"]["version"]), "ok")
            else:
                flash(_("Sponsors are ranked with the fixed weights again."), "ok")
    else:
        flash(_("Choose where to go back to."), "error")
    return redirect(url_for("console.model_card", program_id=program_id))
